// Secrets, env and versions in a real browser against the production server and the real Docker
// engine: the Settings tab has ONE environment editor (variables and secrets in one list); a
// project secret set on the Secrets page and an agent secret added in the editor show only
// masked, reach the container after one Apply (with the rollout's live steps and history), and
// never appear in the page. "Restart required" says which change needs it and re-creates.
// The agent image must exist on the engine (`npm run agent-image`).
import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/settings-${step}.png`, fullPage: true });
}

test.afterAll(async () => {
  if (!projectId) return;
  const filters = { label: [`${LABELS.projectId}=${projectId}`] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("set secrets, see them masked, apply them to the container with live progress", async ({ page }) => {
  test.setTimeout(360_000);
  const projectValue = `p-${randomUUID()}`;
  const agentValue = `a-${randomUUID()}`;
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill(`e2e-settings-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Settings E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
  });

  await test.step("Secrets page: a bad name is refused, a project secret is listed masked", async () => {
    await page.goto(`/projects/${projectId}/secrets`);
    const card = page.getByTestId("project-secrets");
    await expect(card.getByText("No secrets yet.")).toBeVisible();
    const form = page.getByRole("form", { name: "Set a project secret" });
    await form.getByLabel("Name").fill("1bad");
    await form.getByLabel("Value").fill("x");
    await form.getByRole("button", { name: "Save secret" }).click();
    await expect(form.getByText(/Variable names must be letters, digits and _/)).toBeVisible();
    await form.getByLabel("Name").fill("E2E_PROJECT_SECRET");
    await form.getByLabel("Value").fill(projectValue);
    await form.getByRole("button", { name: "Save secret" }).click();
    await expect(page.getByText("Secret E2E_PROJECT_SECRET saved")).toBeVisible();
    const row = card.getByTestId("secret-row");
    await expect(row).toContainText("E2E_PROJECT_SECRET");
    await expect(row).toContainText("••••••••");
    await expect(form.getByLabel("Value")).toHaveValue("");
    expect(await page.content()).not.toContain(projectValue);
    await shot(page, "01-project-secrets");
  });

  let agentId = "";
  await test.step("create a running agent", async () => {
    await page.goto(`/projects/${projectId}/agents`);
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const dialog = page.getByRole("dialog", { name: "New agent" });
    await dialog.getByLabel("Name", { exact: true }).fill("settings-agent");
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "settings-agent" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    agentId = /\/agents\/([0-9a-f-]{36})/.exec((await card.getByRole("link", { name: "settings-agent" }).getAttribute("href"))!)![1]!;
  });

  await test.step("Settings tab: one environment editor, the project secret masked in it", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}?tab=settings`);
    const env = page.getByTestId("env-editor");
    await expect(env).toHaveCount(1);
    // The Runtime form edits no env, and there is no separate secrets card.
    await expect(page.getByRole("form", { name: "Agent settings" }).getByRole("button", { name: "Add variable" })).toHaveCount(0);
    await expect(page.getByTestId("agent-secrets")).toHaveCount(0);
    await expect(page.getByRole("heading", { name: "Environment" })).toHaveCount(1);
    const secretRow = env.getByTestId("env-row").filter({ hasText: "E2E_PROJECT_SECRET" });
    await expect(secretRow).toContainText("••••••••");
    await expect(secretRow).toContainText("project secret");
    await expect(env.getByTestId("env-apply-explained")).toContainText(
      "Applying re-creates the container with the new environment",
    );
    await expect(env.getByTestId("env-apply-explained")).toContainText("The workspace and chat sessions are kept.");
    await expect(env.getByRole("button", { name: "Apply" })).toBeDisabled();
    await expect(page.getByTestId("version-panel")).toContainText("Running armory-agent:");
  });

  await test.step("add a secret and a variable in the same list, one Apply: live steps, history, the container has it all", async () => {
    const env = page.getByTestId("env-editor");
    const add = env.getByRole("form", { name: "Add a variable or secret" });
    await add.getByRole("button", { name: "Secret" }).click();
    await expect(add.getByRole("button", { name: "Secret" })).toHaveAttribute("aria-pressed", "true");
    await add.getByLabel("New name").fill("E2E_AGENT_SECRET");
    await add.getByLabel("New secret value").fill(agentValue);
    await add.getByRole("button", { name: "Add" }).click();
    await add.getByRole("button", { name: "Variable" }).click();
    await add.getByLabel("New name").fill("1bad");
    await add.getByRole("button", { name: "Add" }).click();
    await expect(add.getByRole("alert")).toContainText("Variable names must be letters, digits and _");
    await add.getByLabel("New name").fill("E2E_PLAIN");
    await add.getByLabel("New variable value").fill("visible");
    await add.getByRole("button", { name: "Add" }).click();
    await expect(env.getByTestId("env-row").filter({ hasText: "E2E_AGENT_SECRET" })).toContainText("agent secret");
    await expect(env.getByTestId("env-row").filter({ hasText: "E2E_AGENT_SECRET" })).toContainText("new");
    await expect(env.getByLabel("Value of E2E_PLAIN")).toHaveValue("visible");
    await expect(env.getByTestId("env-apply-explained")).toContainText("2 unapplied changes");
    expect(await page.content()).not.toContain(agentValue);
    await shot(page, "02-draft");

    await env.getByRole("button", { name: "Apply" }).click();
    const progress = env.getByTestId("update-progress");
    await expect(progress).toContainText("Waiting until it is healthy", { timeout: 60_000 });
    await expect(progress).toContainText("Done", { timeout: 60_000 });
    await expect(page.getByText("Environment applied")).toBeVisible();
    await expect(page.getByTestId("update-history")).toContainText("Environment: E2E_PLAIN");
    await expect(page.getByTestId("update-history")).toContainText("Updated");
    await expect(env.getByTestId("env-row").filter({ hasText: "E2E_AGENT_SECRET" })).not.toContainText("new");
    await expect(page.getByTestId("restart-required")).toHaveCount(0);
    await shot(page, "03-applied");
    const [c] = await docker.listContainers({ filters: { label: [`${LABELS.agentId}=${agentId}`] } });
    const inspected = await docker.getContainer(c!.Id).inspect();
    expect(inspected.Config.Env).toEqual(expect.arrayContaining([`E2E_PROJECT_SECRET=${projectValue}`, `E2E_AGENT_SECRET=${agentValue}`, "E2E_PLAIN=visible"]));
    const html = await page.content();
    expect(html).not.toContain(projectValue);
    expect(html).not.toContain(agentValue);
  });

  await test.step("Restart required says which change needs it, and its button re-creates with live steps", async () => {
    // A project secret changes elsewhere (another tab): this agent's container has the old value.
    const other = await page.context().newPage();
    await other.goto(`/projects/${projectId}/secrets`);
    const form = other.getByRole("form", { name: "Set a project secret" });
    await form.getByLabel("Name").fill("E2E_PROJECT_SECRET");
    await form.getByLabel("Value").fill(`${projectValue}-2`);
    await form.getByRole("button", { name: "Save secret" }).click();
    await expect(other.getByText("Secret E2E_PROJECT_SECRET replaced")).toBeVisible();
    await other.close();

    await page.reload();
    const restart = page.getByTestId("restart-required");
    await expect(restart).toContainText("a secret it gets changed");
    await restart.getByRole("button", { name: "Re-create now" }).click();
    await expect(restart.getByTestId("update-progress")).toContainText("Creating the new container", { timeout: 30_000 });
    await expect(restart).toBeHidden({ timeout: 60_000 });
    const [c] = await docker.listContainers({ filters: { label: [`${LABELS.agentId}=${agentId}`] } });
    expect((await docker.getContainer(c!.Id).inspect()).Config.Env).toContain(`E2E_PROJECT_SECRET=${projectValue}-2`);
  });

  await test.step("axe: the env editor and the version panel have no serious violation", async () => {
    const results = await new AxeBuilder({ page }).include('[data-testid="env-editor"]').include('[data-testid="version-panel"]').analyze();
    const bad = results.violations.filter((v) => v.impact === "critical" || v.impact === "serious");
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  });

  await test.step("screenshots at 1440x900 and 390x844", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByTestId("env-editor").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/settings-1440x900.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId("env-editor").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/settings-390x844.png`, fullPage: true });
  });

  expect(browserErrors).toEqual([]);
});

// Secrets, env and versions in a real browser against the production server and the real Docker
// engine: a project secret set on the Secrets page and an agent secret on the Settings tab show
// only masked, reach the container after an env apply (with live progress and history), and
// never appear in the page. The agent image must exist on the engine (`npm run agent-image`).
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/docker/client";
import { LABELS } from "../../src/server/docker/containers";

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
  test.setTimeout(180_000);
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

  await test.step("Settings tab: the env shows the project secret masked; an agent secret is added", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}?tab=settings`);
    const env = page.getByTestId("env-editor");
    const secretRow = env.getByTestId("env-row").filter({ hasText: "E2E_PROJECT_SECRET" });
    await expect(secretRow).toContainText("••••••••");
    await expect(secretRow).toContainText("project secret");
    await expect(page.getByTestId("version-panel")).toContainText("Running armory-agent:");
    const form = page.getByRole("form", { name: "Set an agent secret" });
    await form.getByLabel("Name").fill("E2E_AGENT_SECRET");
    await form.getByLabel("Value").fill(agentValue);
    await form.getByRole("button", { name: "Save secret" }).click();
    await expect(page.getByTestId("agent-secrets").getByTestId("secret-row")).toContainText("E2E_AGENT_SECRET");
    await expect(env.getByTestId("env-row").filter({ hasText: "E2E_AGENT_SECRET" })).toContainText("agent secret");
  });

  await test.step("add a variable and apply: live progress, history, and the container has it all", async () => {
    const env = page.getByTestId("env-editor");
    await env.getByLabel("New variable name").fill("E2E_PLAIN");
    await env.getByLabel("New variable value").fill("visible");
    await env.getByRole("button", { name: "Add" }).click();
    await env.getByRole("button", { name: "Apply changes" }).click();
    const progress = page.getByTestId("update-progress").first();
    await expect(progress).toContainText("Done", { timeout: 60_000 });
    await expect(progress).toContainText("Waiting until it is healthy");
    await expect(page.getByText("Environment applied")).toBeVisible();
    await expect(page.getByTestId("update-history")).toContainText("Environment: E2E_PLAIN");
    await expect(page.getByTestId("update-history")).toContainText("Updated");
    await shot(page, "02-applied");
    const [c] = await docker.listContainers({ filters: { label: [`${LABELS.agentId}=${agentId}`] } });
    const inspected = await docker.getContainer(c!.Id).inspect();
    expect(inspected.Config.Env).toEqual(expect.arrayContaining([`E2E_PROJECT_SECRET=${projectValue}`, `E2E_AGENT_SECRET=${agentValue}`, "E2E_PLAIN=visible"]));
    const html = await page.content();
    expect(html).not.toContain(projectValue);
    expect(html).not.toContain(agentValue);
  });

  expect(browserErrors).toEqual([]);
});

// Agents in a real browser against the production server and the real Docker engine: create an
// agent from the default template and watch it run, stop, start, crash (killed behind Armory's
// back) and come back — every status change arriving through the live subscription, never a
// reload — then change its settings, restart it, and remove it with its volumes.
// The agent image (armory-agent:<version>) must already exist on the engine (`npm run agent-image`).
import { randomUUID } from "node:crypto";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const AGENT = "e2e-agent";
const docker = createDockerClient();

async function shot(page: Page, step: string, fullPage = false) {
  await page.screenshot({ path: `${SHOTS}/agents-${step}.png`, fullPage });
}

/** The card of the agent with this name in the agents grid. */
function agentCard(page: Page, name: string): Locator {
  return page.getByRole("article", { name });
}

async function dockerObjects(label: string) {
  const [containers, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [label] } }),
    docker.listVolumes({ filters: { label: [label] } }),
  ]);
  return { containers, volumes: volumes.Volumes ?? [] };
}

/** The agent's one container on the engine. */
async function agentContainer(agentId: string) {
  const { containers } = await dockerObjects(`${LABELS.agentId}=${agentId}`);
  expect(containers, "the agent's containers").toHaveLength(1);
  return docker.getContainer(containers[0]!.Id);
}

function capture(re: RegExp, text: string | null): string {
  const found = re.exec(text ?? "")?.[1];
  if (!found) throw new Error(`${re} does not match ${text}`);
  return found;
}

/** Whatever the test created on the engine, should it fail half-way: containers, then volumes. */
async function removeDockerObjects(label: string) {
  const { containers, volumes } = await dockerObjects(label);
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of volumes) await docker.getVolume(v.Name).remove().catch(() => {});
}

let projectId = "";

test.afterAll(async () => {
  // The test removes its agent itself; this only tidies up after a failure.
  if (projectId) await removeDockerObjects(`${LABELS.projectId}=${projectId}`);
});

test("create an agent, run it, stop and start it live, change its settings and remove it", async ({ page }) => {
  test.setTimeout(240_000);
  const email = `e2e-agents-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`;
  const password = "correct horse battery";
  let agentId = "";
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) browserErrors.push(msg.text());
  });

  await test.step("sign up and create a project: its Agents section is empty", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Agents E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = capture(/\/projects\/([0-9a-f-]{36})\//, page.url());
    await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    await shot(page, "01-empty");
  });

  await test.step("the create dialog shows the template's defaults and checks the name as it is typed", async () => {
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const dialog = page.getByRole("dialog", { name: "New agent" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Template")).toHaveValue(/.+/);
    await expect(dialog.getByLabel("Template").locator("option:checked")).toHaveText("Claude coder");
    const defaults = dialog.getByTestId("template-defaults");
    await expect(defaults).toContainText("2 GB · 2 CPUs · 512 processes");
    await expect(defaults).toContainText("claude-sonnet-4-5");
    await expect(dialog.getByLabel("Start after creating")).toBeChecked();

    const name = dialog.getByLabel("Name", { exact: true });
    await name.fill("Bad Name");
    await expect(dialog.getByText("Agent name must be lower-case letters, digits and hyphens")).toBeVisible();
    await expect(name).toHaveAttribute("aria-invalid", "true");
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog).toBeVisible();
    await expect(name).toBeFocused();

    await dialog.getByRole("button", { name: /Advanced/ }).click();
    await expect(dialog.getByLabel("Memory (MB)")).toHaveAttribute("placeholder", "2048");
    await dialog.getByLabel("Memory (MB)").fill("64");
    await name.fill(AGENT);
    await expect(dialog.getByText("Agent name must be")).toHaveCount(0);
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog.getByText("Memory must be at least 128 MB")).toBeVisible();
    await shot(page, "02-create-validation");
  });

  await test.step("create and start it: the card turns Running by itself", async () => {
    const dialog = page.getByRole("dialog", { name: "New agent" });
    await dialog.getByLabel("Memory (MB)").fill("1024");
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog).toBeHidden({ timeout: 60_000 });
    await expect(page.getByText("Agent created and started")).toBeVisible();
    const card = agentCard(page, AGENT);
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await expect(card).toContainText("1 GB · 2 CPUs · 512 processes");
    await expect(card).toContainText("claude-sonnet-4-5");
    await expect(card).toContainText(/up \d+ seconds?/);
    agentId = capture(/\/agents\/([0-9a-f-]{36})/, await card.getByRole("link", { name: AGENT }).getAttribute("href"));
    await shot(page, "03-running");
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(card.getByRole("button", { name: "Stop", exact: true })).toBeVisible();
    await shot(page, "03b-running-mobile", true);
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  await test.step("a second agent with the same name gets the server's error", async () => {
    await page.getByRole("button", { name: "New agent" }).click();
    const dialog = page.getByRole("dialog", { name: "New agent" });
    await dialog.getByLabel("Name", { exact: true }).fill(AGENT);
    await dialog.getByLabel("Start after creating").uncheck();
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(dialog.getByText(`An agent named ${AGENT} already exists in this project.`)).toBeVisible();
    await shot(page, "04-duplicate-name");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("article")).toHaveCount(1);
  });

  await test.step("Stop, then Start: the card follows", async () => {
    const card = agentCard(page, AGENT);
    await card.getByRole("button", { name: "Stop", exact: true }).click();
    await expect(card.getByTestId("agent-status")).toHaveText("Exited", { timeout: 30_000 });
    await expect(card.getByRole("button", { name: "Start", exact: true })).toBeEnabled();
    await expect(card.getByRole("button", { name: "Stop", exact: true })).toBeDisabled();
    await expect(card).toContainText(/stopped (just now|\d+ seconds? ago)/);
    await shot(page, "05-stopped");
    await card.getByRole("button", { name: "Start", exact: true }).click();
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await expect(card.getByRole("button", { name: "Start", exact: true })).toBeDisabled();
  });

  await test.step("a container killed behind Armory's back shows up live", async () => {
    const card = agentCard(page, AGENT);
    await (await agentContainer(agentId)).kill();
    // No reload: only the Docker events → agent.onStatus subscription can bring this.
    await expect(card.getByTestId("agent-status")).toHaveText("Exited", { timeout: 15_000 });
    await expect(card).toContainText(/137/);
    await shot(page, "06-killed-outside");
    // Its restart policy (on failure, the default) brings it back after a short back-off.
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
  });

  await test.step("open the agent: header, tabs, chat first, live logs", async () => {
    await agentCard(page, AGENT).getByRole("link", { name: AGENT }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/agents/${agentId}$`));
    await expect(page.getByRole("heading", { level: 2, name: AGENT })).toBeVisible();
    await expect(page.getByTestId("agent-status")).toHaveText("Running");
    const tabs = page.getByRole("tablist", { name: "Agent" });
    await expect(tabs.getByRole("tab")).toHaveText(["Chat", "Files", "Changes", "Terminal", "Logs", "Metrics", "Schedules", "Webhooks", "Snapshots", "Settings"]);
    // No model key in the e2e environment: the chat says plainly that the demo model answers.
    await expect(page.getByRole("tabpanel")).toContainText("The demo model is answering");
    await shot(page, "07-detail-chat");
    await tabs.getByRole("tab", { name: "Logs" }).click();
    // The live log starts with armoryd's start line.
    await expect(page.getByTestId("log-view")).toContainText("armoryd: starting");
  });

  await test.step("Settings: change limits and the model; Restart required says why and re-creates", async () => {
    await page.getByRole("tab", { name: "Settings" }).click();
    await expect(page).toHaveURL(/\?tab=settings$/);
    const form = page.getByRole("form", { name: "Agent settings" });
    await expect(form.getByLabel("Memory (MB)")).toHaveValue("1024");
    await expect(form.getByRole("button", { name: "Save changes" })).toBeDisabled();
    // The environment has one editor of its own (settings.spec.ts), not rows in this form.
    await expect(form.getByRole("button", { name: "Add variable" })).toHaveCount(0);
    await form.getByLabel("CPUs").fill("100");
    await form.getByRole("button", { name: "Save changes" }).click();
    await expect(form.getByText("CPUs must be at most 64")).toBeVisible();
    await form.getByLabel("CPUs").fill("1");
    await form.getByLabel("Memory (MB)").fill("768");
    await form.getByLabel("Model", { exact: true }).fill("claude-e2e-model");
    await form.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Agent settings saved")).toBeVisible();
    const restart = page.getByTestId("restart-required");
    await expect(restart).toBeVisible();
    await expect(restart).toContainText("its model changed");
    await expect(page.getByRole("main")).toContainText("768 MB · 1 CPU · 512 processes");
    // Limits apply to the running container at once.
    const before = await agentContainer(agentId);
    const inspected = await before.inspect();
    expect(inspected.HostConfig.Memory).toBe(768 * 1024 * 1024);
    expect(inspected.HostConfig.NanoCpus).toBe(1e9);
    await shot(page, "08-settings-restart-required", true);

    // An owner gets the safe re-create (the rollout: the new container takes over once healthy).
    await restart.getByRole("button", { name: "Re-create now" }).click();
    await expect(restart).toBeHidden({ timeout: 60_000 });
    await expect(page.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    expect((await agentContainer(agentId)).id).not.toBe(before.id);
    await shot(page, "09-settings-applied", true);
  });

  await test.step("back to the grid: the card shows the new settings", async () => {
    await page.getByRole("link", { name: "All agents" }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/agents$`));
    const card = agentCard(page, AGENT);
    await expect(card.getByTestId("agent-status")).toHaveText("Running");
    await expect(card).toContainText("768 MB · 1 CPU · 512 processes");
    await expect(card).not.toContainText("Restart required");
  });

  await test.step("an unknown agent shows a not-found view", async () => {
    await page.goto(`/projects/${projectId}/agents/${randomUUID()}`);
    await expect(page.getByRole("heading", { name: "Agent not found" })).toBeVisible();
    await shot(page, "10-agent-not-found");
    await page.getByRole("link", { name: "Back to agents" }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/agents$`));
  });

  await test.step("remove it with its volumes: the card disappears", async () => {
    const card = agentCard(page, AGENT);
    await expect(card.getByTestId("agent-status")).toHaveText("Running");
    await card.getByRole("button", { name: "Remove" }).click();
    const dialog = page.getByRole("alertdialog", { name: `Remove ${AGENT}?` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Remove, keep volumes" })).toBeVisible();
    await shot(page, "11-remove-confirm");
    await dialog.getByRole("button", { name: "Remove agent and its data" }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    await expect(card).toHaveCount(0);
    await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
    const left = await dockerObjects(`${LABELS.agentId}=${agentId}`);
    expect(left.containers, "containers left").toEqual([]);
    expect(left.volumes, "volumes left").toEqual([]);
    await shot(page, "12-removed");
  });

  expect(browserErrors, "errors in the browser console").toEqual([]);
});

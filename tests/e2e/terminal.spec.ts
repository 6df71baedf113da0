// The Terminal tab in a real browser against the production server, the real Docker engine and
// the real agent image (armoryd runs the PTY): an owner opens the tab, the terminal connects and
// has the keyboard focus, a typed command runs in the container and its output appears; another
// tab and back keeps the shell; `exit` ends it (with its code) and Reconnect opens a new shell. A viewer (no exec) sees the tab
// disabled with the reason, and the API refuses their terminal calls (403) over HTTP.
import { randomUUID } from "node:crypto";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";
let agentId = "";
const password = "correct horse battery";
const owner = { name: "Terminal Owner", email: `e2e-term-${Date.now()}-${randomUUID().slice(0, 8)}@example.com` };
const viewer = { name: "Terminal Viewer", email: `e2e-term-viewer-${Date.now()}-${randomUUID().slice(0, 8)}@example.com` };

test.describe.configure({ mode: "serial" });

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

async function signUp(page: Page, who: { name: string; email: string }) {
  await page.goto("/sign-up");
  await page.getByLabel("Name").fill(who.name);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("button", { name: "New project" })).toBeVisible({ timeout: 30_000 });
}

/** A tRPC mutation over HTTP with the context's session cookie (as the web app sends it); returns the status and body. */
async function mutate(request: APIRequestContext, path: string, input: unknown): Promise<{ status: number; text: string }> {
  const res = await request.post(`/api/trpc/${path}`, { data: { json: input } });
  return { status: res.status(), text: await res.text() };
}

const terminalRows = (page: Page) => page.getByTestId("terminal").locator(".xterm-rows");

test("an owner runs a command in the Terminal tab; Reconnect opens a new shell", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project and a running agent", async () => {
    await signUp(page, owner);
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Terminal E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("shell");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "shell" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await card.getByRole("link", { name: "shell" }).click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
    agentId = /\/agents\/([0-9a-f-]{36})/.exec(page.url())![1]!;
  });

  await test.step("the Terminal tab connects, takes the keyboard, and runs a command in the container", async () => {
    await page.getByRole("tab", { name: "Terminal" }).click();
    await expect(page).toHaveURL(/[?&]tab=terminal/);
    // The daemon may still be dialling home right after the start: the terminal opens once it has.
    await expect(page.getByTestId("terminal-state")).toHaveAttribute("data-state", "connected", { timeout: 60_000 });
    await expect(page.getByTestId("terminal-state")).toHaveText("Connected");
    // The keyboard is in the terminal (xterm's input element) without a click.
    await expect(page.getByTestId("terminal").locator("textarea.xterm-helper-textarea")).toBeFocused();
    await page.keyboard.type("echo armory-$((40+2))");
    await page.keyboard.press("Enter");
    await expect(terminalRows(page)).toContainText("armory-42", { timeout: 15_000 });
    await page.screenshot({ path: `${SHOTS}/terminal-01-command.png` });
  });

  await test.step("another tab and back: the same shell, with its output, has the keyboard again", async () => {
    await page.getByRole("tab", { name: "Files" }).click();
    await expect(page.getByTestId("terminal")).toBeHidden();
    await page.getByRole("tab", { name: "Terminal" }).click();
    await expect(page.getByTestId("terminal-state")).toHaveAttribute("data-state", "connected");
    await expect(terminalRows(page)).toContainText("armory-42");
    await expect(page.getByTestId("terminal").locator("textarea.xterm-helper-textarea")).toBeFocused();
  });

  await test.step("exit ends the shell (with its code); Reconnect opens a new one", async () => {
    await page.keyboard.type("exit 7");
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("terminal-state")).toHaveAttribute("data-state", "ended", { timeout: 15_000 });
    await expect(page.getByTestId("terminal-state")).toContainText("the shell exited with code 7");
    await page.getByRole("button", { name: "Reconnect" }).click();
    await expect(page.getByTestId("terminal-state")).toHaveAttribute("data-state", "connected", { timeout: 30_000 });
    // A fresh terminal: the old output is gone, the new shell answers.
    await expect(terminalRows(page)).not.toContainText("armory-42");
    await page.getByTestId("terminal").click();
    await page.keyboard.type("echo again-$((2*3))");
    await page.keyboard.press("Enter");
    await expect(terminalRows(page)).toContainText("again-6", { timeout: 15_000 });
  });

  expect(browserErrors).toEqual([]);
});

test("a viewer sees the Terminal tab disabled with the reason; the API refuses them (403)", async ({ page, browser }) => {
  test.setTimeout(120_000);
  expect(projectId && agentId, "the first test created the agent").toBeTruthy();
  const viewerContext = await browser.newContext();
  const viewerPage = await viewerContext.newPage();
  await signUp(viewerPage, viewer);
  // The owner signs in again (each test has a fresh browser context) and adds the viewer to the project.
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(owner.email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/sign-in/, { timeout: 30_000 });
  const added = await mutate(page.request, "project.members.add", { projectId, email: viewer.email, role: "viewer" });
  expect(added.status, added.text).toBe(200);

  await viewerPage.goto(`/projects/${projectId}/agents/${agentId}?tab=terminal`);
  await expect(viewerPage.getByRole("tab", { name: "Terminal" })).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
  await expect(viewerPage.getByTestId("terminal-unavailable")).toContainText("You need the exec permission");
  await expect(viewerPage.getByTestId("terminal")).toHaveCount(0);

  // Over HTTP: typing into a terminal needs exec; so does opening one (the subscription over SSE).
  const input = await mutate(viewerPage.request, "terminal.input", { projectId, agentId, termId: randomUUID(), data: "id\r" });
  expect(input.status, input.text).toBe(403);
  expect(input.text).toContain("exec permission");
  const open = await viewerPage.request.get(`/api/trpc/terminal.open?input=${encodeURIComponent(JSON.stringify({ json: { projectId, agentId, cols: 80, rows: 24 } }))}`, {
    headers: { accept: "text/event-stream" },
  });
  const body = await open.text();
  expect(body).toContain("exec permission");
  expect(body).not.toContain('"opened"');
  await viewerContext.close();
});

// Chat in a real browser against the production server, the real Docker engine and the real
// Claude Code CLI, answered by Armory's built-in demo model (no key configured): the notice says
// so, tokens stream in, a tool turn shows collapsible Write and Bash blocks, a turn is stopped,
// and a reload shows the same conversation from the database.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/docker/client";
import { LABELS } from "../../src/server/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/chat-${step}.png` });
}

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("chat with the demo model: streaming text, tool blocks, stop, reload", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project and a running agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill(`e2e-chat-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Chat E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("talker");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "talker" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await card.getByRole("link", { name: "talker" }).click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true");
  });

  await test.step("the demo model notice is shown; tokens stream in", async () => {
    await expect(page.getByTestId("demo-model-notice")).toContainText("The demo model is answering");
    await page.getByLabel("Message").fill("Hello from the browser [[delay=60]]");
    await page.getByRole("button", { name: "Send" }).click();
    const text = page.getByTestId("assistant-text").first();
    // Part of the answer is on screen while the rest is still streaming.
    await expect(text).toContainText("Hello from Armory", { timeout: 60_000 });
    const partial = (await text.textContent()) ?? "";
    expect(partial).not.toContain("first message of the conversation");
    await shot(page, "01-streaming");
    await expect(text).toContainText('You said: "Hello from the browser"', { timeout: 30_000 });
    await expect(text).toContainText("first message of the conversation");
    const stats = page.getByTestId("turn-stats").first();
    await expect(stats).toContainText(/\d+(\.\d)? (ms|s)/);
    await expect(stats).toContainText("$");
    await expect(stats).toContainText("demo model");
    await expect(page.getByRole("complementary", { name: "Chat sessions" })).toContainText("Hello from the browser");
    await shot(page, "02-answered");
  });

  await test.step("a tool turn shows Write and Bash as collapsible blocks with their results", async () => {
    await page.getByLabel("Message").fill("write a file hello.txt with hi from the browser");
    await page.getByRole("button", { name: "Send" }).click();
    const tools = page.getByTestId("tool-call");
    await expect(tools).toHaveCount(2, { timeout: 60_000 });
    await expect(tools.nth(0)).toContainText("Write");
    await expect(tools.nth(1)).toContainText("Bash");
    await expect(tools.nth(1)).toContainText("done", { timeout: 30_000 });
    await tools.nth(1).locator("summary").click();
    await expect(tools.nth(1)).toContainText("hi from the browser");
    await expect(page.getByTestId("chat-turn").nth(1)).toHaveAttribute("data-status", "completed");
    await shot(page, "03-tools");
  });

  await test.step("Stop ends a running turn", async () => {
    await page.getByLabel("Message").fill("a very slow answer [[delay=400]]");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("chat-turn").nth(2).getByTestId("assistant-text")).toContainText("Hello", { timeout: 60_000 });
    await page.getByRole("button", { name: "Stop turn" }).click();
    await expect(page.getByTestId("turn-interrupted")).toContainText("Stopped by Ada Lovelace", { timeout: 30_000 });
    await expect(page.getByRole("button", { name: "Send" })).toBeVisible();
    await shot(page, "04-stopped");
  });

  await test.step("a reload shows the same conversation from the database", async () => {
    await page.reload();
    await expect(page.getByTestId("chat-turn")).toHaveCount(3, { timeout: 30_000 });
    await expect(page.getByTestId("chat-turn").nth(2)).toHaveAttribute("data-status", "interrupted");
    await expect(page.getByTestId("assistant-text").first()).toContainText('You said: "Hello from the browser"');
  });

  await test.step("the agent's card says when it was last sent a message", async () => {
    await page.getByRole("link", { name: "All agents" }).click();
    await expect(page.getByTestId("agent-last-message")).toContainText(/last message (now|\d+ seconds? ago|\d+ minutes? ago)/);
  });

  expect(browserErrors).toEqual([]);
});

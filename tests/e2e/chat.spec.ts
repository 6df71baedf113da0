// Chat in a real browser against the production server, the real Docker engine and the real
// Claude Code CLI, answered by Armory's built-in demo model (no key configured): the notice says
// so, tokens stream in, a tool turn shows collapsible Write and Bash blocks (Write with its
// diff), a turn is stopped (Stop in Send's place), and a reload shows the same conversation from
// the database. The second test is the chat layout: Markdown replies with highlighted code and a
// working Copy button, a table and safe links; a transcript that sticks to the bottom while the
// answer streams and offers "Jump to latest" once the user scrolls up; conversations renamed,
// searched and deleted (with confirmation); the header's Stop asking first; the composer on
// screen and focused at 1440x900 and at phone width; no serious accessibility violation.
import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";
const account = { email: `e2e-chat-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery" };
/** The agent's page, once the first test has created it. */
let agentUrl = "";

test.describe.configure({ mode: "serial" });
test.use({ permissions: ["clipboard-read", "clipboard-write"] });
// The machine running these is shared and busy: page loads can take longer than the default.
const slow = { timeout: 30_000 };

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
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
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
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
    agentUrl = page.url();
  });

  await test.step("the demo model notice is shown; tokens stream in", async () => {
    await expect(page.getByTestId("demo-model-notice")).toContainText("The demo model is answering");
    await page.getByLabel("Message").fill("Hello from the browser [[delay=150]]");
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
    // The demo model costs nothing, and says so rather than "$0".
    await expect(stats).toContainText("demo, no cost");
    await expect(stats).not.toContainText("$");
    await expect(page.getByTestId("chat-usage")).toContainText("This agent: demo, no cost");
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
    // The demo model's summary of the tool output quotes no <system-reminder>.
    const summary = page.getByTestId("chat-turn").nth(1).getByTestId("assistant-text").last();
    await expect(summary).toContainText("Done. The Bash call returned", { timeout: 30_000 });
    await expect(summary).not.toContainText("system-reminder");
    // Write: one line summary with the path and the line counts; expanded, its diff.
    await expect(tools.nth(0).getByTestId("tool-summary")).toHaveText("/workspace/hello.txt");
    await expect(tools.nth(0).locator("summary")).toContainText("+1");
    await tools.nth(0).locator("summary").click();
    const diff = tools.nth(0).getByTestId("tool-diff");
    await expect(diff.locator('[data-kind="add"]')).toHaveCount(1);
    await expect(diff.locator('[data-kind="add"]')).toContainText("hi from the browser");
    // Bash: the command is the summary.
    await expect(tools.nth(1).getByTestId("tool-summary")).toContainText("ls -l '/workspace/hello.txt'");
    await expect(page.getByTestId("chat-turn").nth(1)).toHaveAttribute("data-status", "completed");
    await shot(page, "03-tools");
  });

  await test.step("Stop ends a running turn", async () => {
    await page.getByLabel("Message").fill("a very slow answer [[delay=400]]");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("chat-turn").nth(2).getByTestId("assistant-text")).toContainText("Hello", { timeout: 60_000 });
    // While the turn runs, Stop takes Send's place.
    await expect(page.getByRole("button", { name: "Send" })).toHaveCount(0);
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

/** Distance in pixels between the transcript's scroll position and its end, and whether it overflows. */
async function scrollState(transcript: Locator) {
  return transcript.evaluate((el) => ({ distance: el.scrollHeight - el.scrollTop - el.clientHeight, overflows: el.scrollHeight > el.clientHeight + 40, top: el.scrollTop }));
}

test("chat layout: markdown and code, sticky transcript, sessions, agent stop, phone width", async ({ page }) => {
  test.setTimeout(240_000);
  test.skip(!agentUrl, "needs the agent of the first test");
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  await page.setViewportSize({ width: 1440, height: 900 });
  const transcript = page.getByTestId("chat-transcript");
  const composer = page.getByLabel("Message");
  const sessions = page.getByRole("complementary", { name: "Chat sessions" });

  await test.step("sign in and open the agent: the composer is on screen and focused", async () => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).not.toHaveURL(/sign-in/, { timeout: 30_000 });
    await page.goto(agentUrl);
    await expect(page.getByTestId("chat-turn").first()).toBeVisible({ timeout: 30_000 });
    await expect(composer).toBeFocused(slow);
    await expect(composer).toBeInViewport({ ratio: 1 });
    await expect(page.getByRole("button", { name: "Send" })).toBeInViewport({ ratio: 1 });
    // The transcript scrolls itself: the page does not grow with the conversation.
    const box = (await transcript.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(900);
  });

  await test.step("a reply in Markdown: heading, highlighted code with a working Copy button, a table, a safe link", async () => {
    await sessions.getByRole("button", { name: "New chat" }).click();
    await expect(composer).toBeFocused();
    await composer.fill("show me some markdown");
    await composer.press("Enter");
    const turn = page.getByTestId("chat-turn").last();
    await expect(turn).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await expect(turn.getByRole("heading", { level: 2, name: "Markdown from the demo model" })).toBeVisible();
    const code = turn.getByTestId("code-block");
    await expect(code.locator("code.hljs.language-python")).toBeVisible();
    expect(await code.locator(".hljs-keyword").count()).toBeGreaterThan(0);
    expect(await code.locator(".hljs-string").count()).toBeGreaterThan(0);
    await code.getByRole("button", { name: "Copy python code" }).click();
    await expect(code.getByRole("button", { name: "Copied" })).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain("def greet(name: str) -> str:");
    expect(copied).toContain('print(greet("Armory"))');
    const table = turn.getByRole("table");
    await expect(table.getByRole("columnheader")).toHaveText(["Tool", "What it does"]);
    await expect(table.getByRole("row")).toHaveCount(3);
    const link = turn.getByRole("link", { name: "Claude Code docs" });
    await expect(link).toHaveAttribute("href", "https://docs.anthropic.com/en/docs/claude-code");
    await expect(link).toHaveAttribute("target", "_blank");
    await expect(link).toHaveAttribute("rel", "noopener noreferrer");
    await expect(turn.getByTestId("turn-stats")).toContainText("demo, no cost");
    await page.screenshot({ path: `${SHOTS}/chat-layout-1440x900.png` });
  });

  await test.step("the transcript sticks to the bottom while streaming; scrolled up, it stays and offers Jump to latest", async () => {
    await composer.fill("show me some markdown, slowly [[delay=90]]");
    await page.getByRole("button", { name: "Send" }).click();
    // Stop replaces Send while the turn runs.
    await expect(page.getByRole("button", { name: "Stop turn" })).toBeVisible({ timeout: 60_000 });
    await expect(page.getByRole("button", { name: "Send" })).toHaveCount(0);
    const turn = page.getByTestId("chat-turn").last();
    await expect(turn.getByTestId("assistant-text")).toContainText("Markdown from the demo model", { timeout: 60_000 });
    // Streaming, and followed: the view is at the end while the answer grows past the fold.
    const heights: number[] = [];
    await expect
      .poll(async () => {
        const s = await scrollState(transcript);
        heights.push(await transcript.evaluate((el) => el.scrollHeight));
        return s.overflows && s.distance <= 32;
      })
      .toBe(true);
    await expect(turn).toHaveAttribute("data-status", "running");
    await expect.poll(async () => (await transcript.evaluate((el) => el.scrollHeight)) > heights[0]!).toBe(true);
    // Grown, and still at the end (the follow runs with the next frame's layout).
    await expect.poll(async () => (await scrollState(transcript)).distance).toBeLessThanOrEqual(32);
    await expect(transcript).toHaveAttribute("data-stuck", "true");
    await expect(page.getByRole("button", { name: "Jump to latest" })).toHaveCount(0);

    // The user scrolls up: the view stays where the user put it, and offers the way back.
    await transcript.hover();
    await page.mouse.wheel(0, -400);
    await expect(transcript).toHaveAttribute("data-stuck", "false");
    const jump = page.getByRole("button", { name: "Jump to latest" });
    await expect(jump).toBeVisible();
    // Where the wheel left it, once the (possibly animated) scroll has settled.
    let previous = -1;
    await expect
      .poll(async () => {
        const top = (await scrollState(transcript)).top;
        const settled = top === previous;
        previous = top;
        return settled;
      })
      .toBe(true);
    const parked = previous;
    await expect(turn).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    expect(Math.abs((await scrollState(transcript)).top - parked)).toBeLessThanOrEqual(2);
    expect((await scrollState(transcript)).distance).toBeGreaterThan(32);
    await jump.click();
    await expect(jump).toHaveCount(0);
    await expect.poll(async () => (await scrollState(transcript)).distance).toBeLessThanOrEqual(32);
    await expect(page.getByRole("button", { name: "Send" })).toBeVisible();
  });

  await test.step("conversations: rename, search by title, by message and by reply, delete with confirmation", async () => {
    const titles = sessions.getByTestId("chat-session-title");
    const before = await titles.count();
    expect(before).toBe(2);
    await sessions.getByRole("button", { name: "Actions for show me some markdown" }).click();
    await page.getByRole("menuitem", { name: "Rename" }).click();
    const rename = page.getByRole("dialog", { name: "Rename conversation" });
    await rename.getByLabel("Title").fill("Markdown tour");
    await rename.getByRole("button", { name: "Save" }).click();
    await expect(rename).toBeHidden();
    await expect(titles).toContainText(["Markdown tour"]);

    const search = sessions.getByRole("searchbox", { name: "Search conversations" });
    await search.fill("tour");
    await expect(titles).toHaveText(["Markdown tour"]);
    await search.fill("hello from the BROWSER"); // a message of the first conversation
    await expect(titles).toHaveText(["Hello from the browser [[delay=150]]"]);
    await search.fill("flour"); // nowhere
    await expect(sessions.getByRole("status")).toContainText("No conversation matches");
    await search.fill("What it does"); // only in the agent's reply (the table)
    await expect(titles).toHaveText(["Markdown tour"]);
    await search.fill("");
    await expect(titles).toHaveCount(before);

    await sessions.getByRole("button", { name: "Actions for Markdown tour" }).click();
    await page.getByRole("menuitem", { name: "Delete" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Delete this conversation?" });
    await expect(confirm).toContainText("cannot be undone");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(titles).toHaveCount(before);
    await sessions.getByRole("button", { name: "Actions for Markdown tour" }).click();
    await page.getByRole("menuitem", { name: "Delete" }).click();
    await confirm.getByRole("button", { name: "Delete conversation" }).click();
    await expect(confirm).toBeHidden();
    await expect(titles).toHaveText(["Hello from the browser [[delay=150]]"]);
    // The remaining conversation is shown.
    await expect(page.getByTestId("chat-turn")).toHaveCount(3);
  });

  await test.step("no serious accessibility violation in the chat", async () => {
    await page.getByTestId("tool-call").first().locator("summary").click();
    await page.mouse.move(0, 0);
    const results = await new AxeBuilder({ page }).include('[data-testid="chat-panel"]').withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const bad = results.violations.filter((v) => v.impact === "critical" || v.impact === "serious");
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  });

  await test.step("at phone width the composer is on screen and focused on load", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await expect(page.getByTestId("chat-turn").first()).toBeVisible({ timeout: 30_000 });
    await expect(composer).toBeFocused(slow);
    await expect(composer).toBeInViewport({ ratio: 1 });
    await expect(page.getByRole("button", { name: "Send" })).toBeInViewport({ ratio: 1 });
    await expect(transcript).toBeInViewport();
    // Conversations are behind a button.
    await page.getByRole("button", { name: /Hello from the browser/ }).click();
    const list = page.getByRole("dialog", { name: "Conversations" });
    await expect(list.getByTestId("chat-session-title")).toHaveText(["Hello from the browser [[delay=150]]"]);
    await list.getByRole("button", { name: "Close" }).click();
    await expect(list).toBeHidden();
    await page.screenshot({ path: `${SHOTS}/chat-layout-390x844.png` });
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await test.step("the header's Stop asks first and says it stops the container", async () => {
    const stop = page.getByRole("button", { name: "Stop", exact: true });
    await stop.click();
    const ask = page.getByRole("alertdialog", { name: "Stop talker's container?" });
    await expect(ask).toContainText("stops the agent's Docker container");
    await ask.getByRole("button", { name: "Cancel" }).click();
    await expect(ask).toBeHidden();
    await expect(page.getByTestId("agent-status")).toHaveText("Running");
    await stop.click();
    await ask.getByRole("button", { name: "Stop container" }).click();
    await expect(page.getByTestId("agent-status")).toHaveText("Exited", { timeout: 30_000 });
    await expect(composer).toHaveAttribute("placeholder", "Start the agent to chat");
  });

  expect(browserErrors).toEqual([]);
});

// Ten tabs of one person on one running agent (chat, files and logs pages), in a real browser
// against the production server: every tab is live (a status change and a file change reach
// them all), a chat sent from the tenth tab streams its reply, and each tab holds exactly one
// WebSocket (the live connection) and no EventSource. With one SSE stream per subscription the
// browser's six HTTP/1.1 connections per host ran out by the third tab and later tabs hung.
import { randomUUID } from "node:crypto";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const TABS = 10;
const docker = createDockerClient();
let projectId = "";

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

/** A tRPC mutation over HTTP with the browser context's session cookie (as the web app sends it). */
async function mutate(request: APIRequestContext, path: string, input: unknown): Promise<void> {
  const res = await request.post(`/api/trpc/${path}`, { data: { json: input } });
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
}

/** The header's live indicator (role status: "Live", "Connecting…" or "Reconnecting…"). */
const liveIndicator = (p: Page) => p.getByRole("status").filter({ hasText: /^(Live|Connecting…|Reconnecting…)$/ });

interface Tab {
  page: Page;
  kind: "chat" | "files" | "logs";
  /** Every WebSocket the tab opened, and whether it is still open. */
  sockets: { url: string; open: boolean }[];
  /** The most WebSockets the tab had open at once. */
  maxOpen: number;
  eventSources: string[];
}

test("ten tabs on one agent stay live over one WebSocket each, and a send from the tenth completes", async ({ page, context }) => {
  test.setTimeout(600_000);
  const browserErrors: string[] = [];
  let agentId = "";

  await test.step("sign up, create a project and a running agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Tab Hoarder");
    await page.getByLabel("Email").fill(`e2e-tabs-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const pd = page.getByRole("dialog", { name: "New project" });
    await pd.getByLabel("Name").fill("Tabs E2E");
    await pd.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const ad = page.getByRole("dialog", { name: "New agent" });
    await ad.getByLabel("Name", { exact: true }).fill("tabs");
    await ad.getByRole("button", { name: "Create agent" }).click();
    await expect(ad).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "tabs" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    agentId = /\/agents\/([0-9a-f-]{36})/.exec((await card.getByRole("link", { name: "tabs" }).getAttribute("href"))!)![1]!;
    // The first page goes away: the ten tabs are all the person has open.
    await page.goto("about:blank");
  });

  const tabs: Tab[] = [];
  await test.step(`open ${TABS} tabs on the agent's chat, files and logs pages: every one goes live`, async () => {
    const kinds = ["chat", "files", "logs"] as const;
    for (let i = 0; i < TABS; i++) {
      // Tabs 1, 4, 7 and 10 are chat tabs.
      const kind = kinds[i % 3]!;
      const p = await context.newPage();
      const tab: Tab = { page: p, kind, sockets: [], maxOpen: 0, eventSources: [] };
      p.on("pageerror", (err) => browserErrors.push(`tab ${i + 1}: ${err.message}`));
      p.on("websocket", (ws) => {
        const entry = { url: ws.url(), open: true };
        tab.sockets.push(entry);
        tab.maxOpen = Math.max(tab.maxOpen, tab.sockets.filter((x) => x.open).length);
        ws.on("close", () => (entry.open = false));
      });
      p.on("request", (r) => {
        if (r.resourceType() === "eventsource" || (r.url().includes("/api/trpc") && (r.headers()["accept"] ?? "").includes("text/event-stream"))) tab.eventSources.push(r.url());
      });
      tabs.push(tab);
      await p.goto(`/projects/${projectId}/agents/${agentId}${kind === "chat" ? "" : `?tab=${kind}`}`);
      // Generous waits: ten tabs hydrating on a busy machine (two shared cores) are slow, not stuck.
      await expect(p.getByRole("heading", { name: "tabs", exact: true }), `tab ${i + 1} (${kind}) renders`).toBeVisible({ timeout: 60_000 });
      await expect(liveIndicator(p), `tab ${i + 1} (${kind}) is live`).toHaveText("Live", { timeout: 30_000 });
    }
    // Each page's own streams are up too: the files tree and the log viewer.
    for (const [i, t] of tabs.entries()) {
      if (t.kind === "files") await expect(t.page.getByRole("navigation", { name: "Files" }), `tab ${i + 1}`).toBeVisible({ timeout: 30_000 });
    }
  });

  await test.step("a status change reaches every tab", async () => {
    await mutate(page.request, "agent.stop", { projectId, agentId });
    for (const [i, t] of tabs.entries()) await expect(t.page.getByTestId("agent-status").first(), `tab ${i + 1} (${t.kind})`).not.toHaveText("Running", { timeout: 30_000 });
    await mutate(page.request, "agent.start", { projectId, agentId });
    for (const [i, t] of tabs.entries()) await expect(t.page.getByTestId("agent-status").first(), `tab ${i + 1} (${t.kind})`).toHaveText("Running", { timeout: 30_000 });
  });

  await test.step("a file written through Armory shows in every files tab", async () => {
    for (const t of tabs.filter((t) => t.kind === "files")) await expect(t.page.getByRole("navigation", { name: "Files" })).toBeVisible({ timeout: 30_000 });
    await mutate(page.request, "files.write", { projectId, agentId, path: "/workspace/from-tab-test.md", content: "# written while ten tabs watch\n" });
    for (const [i, t] of tabs.entries()) {
      if (t.kind !== "files") continue;
      await expect(t.page.getByRole("navigation", { name: "Files" }).getByRole("button", { name: /^from-tab-test\.md/ }), `tab ${i + 1}`).toBeVisible({ timeout: 30_000 });
    }
  });

  await test.step("a chat sent from the tenth tab streams its reply", async () => {
    const tenth = tabs[TABS - 1]!;
    expect(tenth.kind).toBe("chat");
    await tenth.page.bringToFront();
    await tenth.page.getByLabel("Message").fill("Hello from the tenth tab");
    const started = Date.now();
    await tenth.page.getByRole("button", { name: "Send" }).click();
    await expect(tenth.page.getByTestId("assistant-text").first()).toContainText('You said: "Hello from the tenth tab"', { timeout: 60_000 });
    console.log(`tenth tab: reply streamed ${Date.now() - started} ms after Send`);
    await tenth.page.screenshot({ path: `${SHOTS}/many-tabs-tenth-chat.png` });
  });

  await test.step("each tab has exactly one WebSocket (the live connection) and no EventSource", async () => {
    for (const [i, t] of tabs.entries()) {
      // One open at a time, always the live endpoint. (A second one during the run would be a
      // reconnect: Chromium drops connections when the host's network changes, e.g. when Docker
      // creates a network for another test; it is reported, not hidden.)
      expect(t.sockets.filter((s) => s.open), `tab ${i + 1} (${t.kind}) open WebSockets`).toHaveLength(1);
      expect(t.maxOpen, `tab ${i + 1} (${t.kind}) WebSockets open at once`).toBe(1);
      for (const s of t.sockets) expect(new URL(s.url).pathname, `tab ${i + 1}`).toBe("/api/trpc-ws");
      if (t.sockets.length > 1) console.log(`tab ${i + 1}: ${t.sockets.length - 1} reconnect(s) during the run`);
      expect(t.eventSources, `tab ${i + 1} (${t.kind}) EventSources`).toEqual([]);
    }
    console.log(`WebSockets opened per tab: ${tabs.map((t) => t.sockets.length).join(", ")}`);
    // The sockets are still open: every tab still follows the agent.
    const open = await Promise.all(tabs.map((t) => liveIndicator(t.page).textContent()));
    expect(open).toEqual(Array(TABS).fill("Live"));
  });

  expect(browserErrors).toEqual([]);
});

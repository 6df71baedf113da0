// Issue 13, items 6 and 7 in a real browser (production build, real Docker, real Claude Code CLI
// with Armory's demo model). Logs: local times (the browser runs in another zone than UTC),
// stream toggles that are pressed buttons, JSON pretty-printed on demand, search with highlights
// and a count, pause and follow, a keyboard-scrollable viewer, and a chat turn's start and end
// lines. Audit: opens on changes and denials; reads are one click away, folded with a count.
import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { LABELS } from "../../src/server/runtime/docker/containers";
import { writeContainerLog } from "../support/agent-exec";
import { docker, removeProjectDockerObjects } from "../support/docker";

const SHOTS = "test-results/screenshots";
const ZONE = "America/New_York"; // a local time that differs from UTC (and from the server)
let projectId = "";

test.use({ timezoneId: ZONE, viewport: { width: 1440, height: 900 } });

async function trpc<T>(request: APIRequestContext, path: string, input: unknown, method: "query" | "mutation" = "mutation"): Promise<T> {
  const res =
    method === "mutation"
      ? await request.post(`/api/trpc/${path}`, { data: { json: input } })
      : await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: { json: T } } }).result.data.json;
}

async function axeClean(page: Page, selector: string) {
  const results = await new AxeBuilder({ page }).include(selector).analyze();
  const bad = results.violations.filter((v) => v.impact === "critical" || v.impact === "serious");
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

test.afterAll(async () => {
  if (projectId) await removeProjectDockerObjects(projectId);
});

test("logs read well and tell what the agent did; the audit opens on changes with reads folded", async ({ page }) => {
  test.setTimeout(360_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  let agentId = "";
  let containerId = "";

  await test.step("sign up, a project and a running agent (through the API)", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Lin Logs");
    await page.getByLabel("Email").fill(`e2e-logs-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
    projectId = (await trpc<{ id: string }>(page.request, "project.create", { name: "Logs and audit" })).id;
    const templates = await trpc<{ id: string; name: string }[]>(page.request, "template.list", { projectId }, "query");
    const templateId = templates.find((t) => t.name === "claude-coder")!.id;
    agentId = (await trpc<{ id: string }>(page.request, "agent.create", { projectId, templateId, name: "log-agent", overrides: { memoryMb: 1024 }, start: true })).id;
    const [c] = await docker.listContainers({ filters: { label: [`${LABELS.agentId}=${agentId}`] } });
    containerId = c!.Id;
  });

  const view = page.getByTestId("log-view");
  const lines = view.getByTestId("log-line");

  await test.step("Logs tab: local times, a keyboard-scrollable viewer", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}?tab=logs`);
    await expect(page.getByTestId("logs-connection")).toHaveText("Live", { timeout: 30_000 });
    await writeContainerLog(containerId, 'for i in $(seq 1 80); do echo "filler line $i"; done');
    await expect(lines.filter({ hasText: "filler line 80" })).toHaveCount(1);
    // The time shown is the browser's local time of the line (not UTC).
    const time = lines.filter({ hasText: "filler line 80" }).locator("time");
    const iso = (await time.getAttribute("datetime"))!;
    const local = new Date(iso).toLocaleTimeString("en-GB", { timeZone: ZONE, hourCycle: "h23" });
    expect(await time.textContent()).toContain(local);
    expect(local).not.toBe(new Date(iso).toLocaleTimeString("en-GB", { timeZone: "UTC", hourCycle: "h23" }));
    await expect(page.getByText(`Times are local (${ZONE})`)).toBeVisible();

    // Focusable, named, and it scrolls with the keyboard; scrolling up stops following.
    await expect(view).toHaveAttribute("tabindex", "0");
    await expect(view).toHaveAccessibleName("Log output");
    const follow = page.getByRole("button", { name: "Follow" });
    await expect(follow).toHaveAttribute("aria-pressed", "true");
    await view.focus();
    await page.keyboard.press("Home");
    await expect.poll(() => view.evaluate((el) => el.scrollTop)).toBe(0);
    await expect(follow).toHaveAttribute("aria-pressed", "false");
    await page.getByRole("button", { name: "Jump to latest" }).click();
    await expect(follow).toHaveAttribute("aria-pressed", "true");
    await expect.poll(() => view.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(24);
  });

  await test.step("a chat turn leaves its start and end in the log", async () => {
    await trpc(page.request, "chat.send", { projectId, agentId, message: "Hello from the logs test" });
    const armory = lines.and(page.locator('[data-stream="armory"]'));
    await expect(armory.filter({ hasText: "chat turn started by Lin Logs" })).toHaveCount(1, { timeout: 30_000 });
    await expect(armory.filter({ hasText: /chat turn completed in [\d.]+ m?s/ })).toHaveCount(1, { timeout: 120_000 });
    await page.screenshot({ path: `${SHOTS}/logs-01-chat-turn.png` });
  });

  await test.step("stream toggles are pressed buttons; JSON is pretty-printed on demand", async () => {
    const stderr = page.getByRole("group", { name: "Streams" }).getByRole("button", { name: "stderr" });
    const armoryToggle = page.getByRole("group", { name: "Streams" }).getByRole("button", { name: "armory" });
    await writeContainerLog(containerId, 'echo "oops on stderr" >&2; echo \'{"level":"info","msg":"json-e2e","n":1}\'');
    await expect(lines.filter({ hasText: "oops on stderr" })).toHaveCount(1);
    await expect(stderr).toHaveAttribute("aria-pressed", "true");
    await stderr.click();
    await expect(stderr).toHaveAttribute("aria-pressed", "false");
    await expect(lines.filter({ hasText: "oops on stderr" })).toHaveCount(0);
    await stderr.click();
    await armoryToggle.click();
    await expect(lines.and(page.locator('[data-stream="armory"]'))).toHaveCount(0);
    await armoryToggle.click();
    await expect(lines.and(page.locator('[data-stream="armory"]'))).toHaveCount(2);

    const jsonLine = lines.filter({ hasText: "json-e2e" });
    await expect(jsonLine).toContainText('{"level":"info","msg":"json-e2e","n":1}');
    const pretty = page.getByRole("button", { name: "Pretty JSON" });
    await pretty.click();
    await expect(pretty).toHaveAttribute("aria-pressed", "true");
    expect(await jsonLine.locator("span").last().textContent()).toBe('{\n  "level": "info",\n  "msg": "json-e2e",\n  "n": 1\n}');
    await page.screenshot({ path: `${SHOTS}/logs-02-pretty-json.png` });
  });

  await test.step("search highlights matches and counts them", async () => {
    await page.getByLabel("Search the log").fill("chat turn");
    await expect(page.getByTestId("logs-matches")).toHaveText("2 matches in 2 lines");
    await expect(view.locator("mark")).toHaveCount(2);
    await page.getByLabel("Search the log").fill("filler line 7");
    // 7 and 70-79.
    await expect(page.getByTestId("logs-matches")).toHaveText("11 matches in 11 lines");
    await page.getByLabel("Search the log").fill("");
  });

  await test.step("pause holds new lines and counts them; resume shows them", async () => {
    await page.getByRole("button", { name: "Pause" }).click();
    await expect(page.getByTestId("logs-connection")).toHaveText("Paused");
    await writeContainerLog(containerId, 'echo "while paused"');
    await expect(page.getByRole("button", { name: "Resume (1 new)" })).toBeVisible();
    await expect(lines.filter({ hasText: "while paused" })).toHaveCount(0);
    await page.getByRole("button", { name: "Resume (1 new)" }).click();
    await expect(lines.filter({ hasText: "while paused" })).toHaveCount(1);
    await axeClean(page, 'section[aria-labelledby="logs-title"]');
  });

  await test.step("Audit: opens on changes and denials; reads are folded one click away", async () => {
    // Reads of the agent by this user (audited trust decisions).
    for (let i = 0; i < 3; i++) await trpc(page.request, "agent.get", { projectId, agentId }, "query");
    await page.goto(`/projects/${projectId}/audit`);
    const show = page.getByRole("group", { name: "Show" });
    await expect(show.getByRole("button", { name: "Changes and denials" })).toHaveAttribute("aria-pressed", "true");
    const table = page.getByRole("table", { name: "Audit entries" });
    await expect(table.getByRole("row").filter({ hasText: "agent.create" })).toHaveCount(1);
    await expect(table.getByRole("row").filter({ hasText: "chat.send" })).toHaveCount(1);
    await expect(table.getByRole("row").filter({ hasText: "agent.get" })).toHaveCount(0);
    await axeClean(page, 'section[aria-labelledby="audit-title"]');
    await page.screenshot({ path: `${SHOTS}/audit-1440x900.png`, fullPage: true });

    await show.getByRole("button", { name: "Reads" }).click();
    await expect(show.getByRole("button", { name: "Reads" })).toHaveAttribute("aria-pressed", "true");
    const folded = page.getByTestId("audit-row").filter({ has: page.getByTestId("audit-fold") });
    await expect(folded.first()).toBeVisible();
    const count = Number(await folded.first().getAttribute("data-count"));
    expect(count).toBeGreaterThanOrEqual(3);
    await expect(folded.first().getByTestId("audit-fold")).toHaveText(`${count} reads`);
    await expect(folded.first()).toContainText("Allowed");
    await expect(table.getByRole("row").filter({ hasText: "agent.create" })).toHaveCount(0);
    await page.screenshot({ path: `${SHOTS}/audit-reads-1440x900.png`, fullPage: true });

    await show.getByRole("button", { name: "Changes and denials" }).click();
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(table).toBeVisible();
    await axeClean(page, 'section[aria-labelledby="audit-title"]');
    await page.screenshot({ path: `${SHOTS}/audit-390x844.png`, fullPage: true });
  });

  expect(browserErrors).toEqual([]);
});

// Approvals in a real browser against the production server, the real Docker engine and the real
// Claude Code CLI in the agent's container, answered by Armory's built-in demo model ("run `CMD`"
// makes it call Bash). The agent's own tool policy (set in its Settings tab) puts Bash in `ask`:
// a command raises an approval that shows inline in the chat and as a count in the project's
// navigation; Allow runs it. A second command, sent while another tab of the project is in the
// background, raises a browser notification there (the real Notification constructor, wrapped to
// record its calls; the page is made to believe it is hidden); clicking it opens the session,
// where Deny with a message ends the turn without running the command. A third is decided from
// the project's Approvals inbox, which lists the decisions and filters them.
import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";
let agentId = "";
const account = { email: `e2e-approvals-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery" };

test.describe.configure({ mode: "serial" });

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/approvals-${step}.png` });
}

/** A tRPC query over HTTP with the page's session: its HTTP status. */
async function queryStatus(request: APIRequestContext, path: string, input: unknown): Promise<number> {
  const res = await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  return res.status();
}

// Records every Notification the app creates (around the real constructor) and lets the test say
// whether the page is hidden (document.visibilityState), with the visibilitychange event.
const RECORD_NOTIFICATIONS_AND_VISIBILITY = () => {
  const w = window as unknown as {
    __notifications: { title: string; body?: string; tag?: string }[];
    __lastNotification: Notification | null;
    __setHidden: (hidden: boolean) => void;
    Notification: typeof Notification;
  };
  w.__notifications = [];
  w.__lastNotification = null;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      w.__notifications.push({ title, body: options?.body, tag: options?.tag });
      super(title, options);
      w.__lastNotification = this;
    }
  }
  w.Notification = Recorded;
  let hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
  w.__setHidden = (h: boolean) => {
    hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  };
};

/** Critical or serious axe (WCAG 2.x A/AA) violations inside `selector`. */
async function axeProblems(page: Page, selector: string): Promise<string[]> {
  // Not hovering anything: a hovered button's lighter background is not its resting contrast
  // (after Send, the mouse rests on Stop turn, which took Send's place).
  await page.mouse.move(0, 0);
  const results = await new AxeBuilder({ page }).include(selector).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.filter((v) => v.impact === "critical" || v.impact === "serious").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("approvals: inline in the chat, counted in the navigation, notified in the background, decided from the inbox", async ({ page, context }) => {
  test.setTimeout(300_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  await context.grantPermissions(["notifications"]);
  await context.addInitScript(RECORD_NOTIFICATIONS_AND_VISIBILITY);
  const count = (p: Page) => p.getByRole("navigation", { name: "Project" }).getByTestId("pending-approvals-count");
  let agentUrl = "";

  await test.step("sign up, create a project and a running agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Approvals E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("gatekeeper");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "gatekeeper" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await card.getByRole("link", { name: "gatekeeper" }).click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
    agentUrl = page.url();
    agentId = /\/agents\/([0-9a-f-]{36})/.exec(agentUrl)![1]!;
  });

  await test.step("its own tool policy, in its Settings tab: a bad rule is refused at the field, Bash goes to ask", async () => {
    await page.getByRole("tab", { name: "Settings" }).click();
    const policy = page.getByTestId("agent-tool-policy");
    await expect(policy.getByTestId("policy-source")).toHaveText("Now: the template's policy.");
    await policy.getByLabel("Its own policy").check();
    const ask = policy.getByLabel("Ask (one rule per line)");
    await ask.fill("rm -rf /");
    await expect(policy.getByText(/Line 1 \(rm -rf \/\): a permission rule is a tool name/)).toBeVisible();
    await expect(ask).toHaveAttribute("aria-invalid", "true");
    await ask.fill("Bash");
    await expect(ask).not.toHaveAttribute("aria-invalid", "true");
    await policy.getByLabel("Approval timeout (seconds)").fill("900");
    await expect(policy).toContainText("15 minutes.");
    await policy.getByRole("button", { name: "Save policy" }).click();
    await expect(policy.getByTestId("policy-source")).toHaveText("Now: its own policy.", { timeout: 15_000 });
    await expect(policy).toContainText("A turn waits 15 minutes for a decision");
    await page.getByRole("tab", { name: "Chat" }).click();
  });

  await test.step("a command asks: the card shows inline with the command, who may decide and a countdown; the nav counts 1", async () => {
    await page.getByLabel("Message").fill("run `touch /workspace/approved.txt`");
    await page.getByRole("button", { name: "Send" }).click();
    const turn = page.getByTestId("chat-turn").first();
    const approval = turn.getByTestId("approval-card");
    await expect(approval).toBeVisible({ timeout: 60_000 });
    await expect(approval).toHaveAttribute("data-status", "pending");
    await expect(approval.getByRole("heading", { name: "Approval needed: Bash" })).toBeVisible();
    await expect(approval.getByTestId("approval-command")).toContainText("touch /workspace/approved.txt");
    await expect(approval).toContainText("Operators and admins of this project may decide");
    await expect(approval.getByTestId("approval-countdown")).toContainText(/Times out in 1[45] min/);
    // The Bash call it is about shows above it, waiting.
    await expect(turn.getByTestId("tool-call")).toContainText("waiting for approval");
    await expect(count(page)).toHaveText(/^1\s*pending$/);
    // Claude Code's suggestion (or the server's) is the rule the button names.
    await expect(approval.getByRole("button", { name: /^Always allow Bash/ })).toBeVisible();
    await expect(approval.getByRole("button", { name: "Always allow for this agent" })).toBeVisible();
    expect(await axeProblems(page, '[data-testid="chat-panel"]')).toEqual([]);
    await shot(page, "01-requested");
  });

  await test.step("Allow (by keyboard): the command runs, the card says who allowed it, the count goes away", async () => {
    const turn = page.getByTestId("chat-turn").first();
    const approval = turn.getByTestId("approval-card");
    await approval.getByRole("button", { name: "Allow", exact: true }).focus();
    await page.keyboard.press("Enter");
    await expect(approval).toHaveAttribute("data-status", "allowed", { timeout: 15_000 });
    await expect(approval.getByTestId("approval-outcome")).toContainText("Allowed by Ada Lovelace");
    await expect(approval.getByRole("button", { name: "Allow", exact: true })).toHaveCount(0);
    await expect(turn.getByTestId("tool-call")).toContainText("done", { timeout: 30_000 });
    await expect(turn).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await expect(count(page)).toHaveCount(0);
    expect(await queryStatus(page.request, "files.read", { projectId, agentId, path: "/workspace/approved.txt" })).toBe(200);
    await shot(page, "02-allowed");
  });

  const background = await context.newPage();
  background.on("pageerror", (err) => browserErrors.push(`background tab: ${err.message}`));

  await test.step("in a background tab of the project, a new approval raises a browser notification", async () => {
    await background.goto(`/projects/${projectId}/agents`);
    await expect(background.getByRole("article", { name: "gatekeeper" })).toBeVisible({ timeout: 30_000 });
    // Permission is already granted: no prompt is offered anywhere.
    expect(await background.evaluate(() => Notification.permission)).toBe("granted");
    await background.evaluate(() => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(true));

    await page.getByLabel("Message").fill("run `touch /workspace/denied.txt`");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("chat-turn").nth(1).getByTestId("approval-card")).toBeVisible({ timeout: 60_000 });
    await expect(count(background)).toHaveText(/^1\s*pending$/);
    await expect
      .poll(() => background.evaluate(() => (window as unknown as { __notifications: { title: string; body?: string }[] }).__notifications))
      .toEqual([{ title: "Approval needed: Bash", body: expect.stringMatching(/^gatekeeper waits for a decision: .*touch \/workspace\/denied\.txt/), tag: expect.stringMatching(/^armory-approval-/) }]);
    // The visible tab got none.
    expect(await page.evaluate(() => (window as unknown as { __notifications: unknown[] }).__notifications)).toEqual([]);
  });

  await test.step("clicking the notification opens the session in that tab; Deny with a message there", async () => {
    await background.evaluate(() => {
      const w = window as unknown as { __setHidden: (h: boolean) => void; __lastNotification: Notification };
      w.__setHidden(false);
      w.__lastNotification.dispatchEvent(new Event("click"));
    });
    await expect(background).toHaveURL(new RegExp(`/agents/${agentId}\\?session=[0-9a-f-]{36}`), { timeout: 15_000 });
    const approval = background.getByTestId("chat-turn").nth(1).getByTestId("approval-card");
    await expect(approval).toHaveAttribute("data-status", "pending", { timeout: 30_000 });
    await approval.getByRole("button", { name: "Deny…" }).click();
    const message = approval.getByLabel(/Message to the agent/);
    await expect(message).toBeFocused();
    // Escape leaves the message box and goes back to the buttons.
    await background.keyboard.press("Escape");
    await expect(approval.getByRole("button", { name: "Deny…" })).toBeFocused();
    await approval.getByRole("button", { name: "Deny…" }).click();
    await approval.getByLabel(/Message to the agent/).fill("Not this file, please.");
    expect(await axeProblems(background, '[data-testid="approval-card"][data-status="pending"]')).toEqual([]);
    await approval.getByRole("button", { name: "Deny", exact: true }).click();
    await expect(approval).toHaveAttribute("data-status", "denied", { timeout: 15_000 });
    await expect(approval.getByTestId("approval-outcome")).toContainText("Denied by Ada Lovelace: “Not this file, please.”");
    // The first tab saw the decision live.
    const first = page.getByTestId("chat-turn").nth(1);
    await expect(first.getByTestId("approval-card")).toHaveAttribute("data-status", "denied");
    await expect(first.getByTestId("approval-outcome")).toContainText("Denied by Ada Lovelace");
    await expect(first).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await expect(first.getByTestId("tool-call")).toContainText("denied");
    await expect(count(page)).toHaveCount(0);
    expect(await queryStatus(page.request, "files.read", { projectId, agentId, path: "/workspace/denied.txt" })).toBe(404);
    await shot(background, "03-denied");
  });

  await test.step("the inbox lists what waits and what was decided, decides, and filters", async () => {
    await page.getByLabel("Message").fill("run `touch /workspace/from-inbox.txt`");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("chat-turn").nth(2).getByTestId("approval-card")).toBeVisible({ timeout: 60_000 });

    await background.goto(`/projects/${projectId}/approvals`);
    await expect(background.getByRole("navigation", { name: "Project" }).getByRole("link", { name: /^Approvals/ })).toHaveAttribute("aria-current", "page");
    const waiting = background.getByTestId("approvals-pending");
    const card = waiting.getByTestId("approval-card");
    await expect(card).toHaveCount(1, { timeout: 30_000 });
    await expect(card.getByTestId("approval-command")).toContainText("touch /workspace/from-inbox.txt");
    await expect(card.getByRole("link")).toHaveAttribute("href", new RegExp(`/agents/${agentId}\\?session=[0-9a-f-]{36}$`));
    const recent = background.getByTestId("approvals-recent").getByTestId("approval-row");
    await expect(recent).toHaveCount(2);
    expect(await axeProblems(background, "main")).toEqual([]);
    await shot(background, "04-inbox");

    await card.getByRole("button", { name: "Allow", exact: true }).click();
    await expect(waiting).toContainText("Nothing waits for a decision", { timeout: 15_000 });
    await expect(recent).toHaveCount(3);
    await expect(recent.first()).toHaveAttribute("data-status", "allowed");
    await expect(recent.first()).toContainText("touch /workspace/from-inbox.txt");
    // The chat saw it live, and the command ran.
    await expect(page.getByTestId("chat-turn").nth(2).getByTestId("approval-outcome")).toContainText("Allowed by Ada Lovelace");
    await expect(page.getByTestId("chat-turn").nth(2)).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
    await expect.poll(() => queryStatus(page.request, "files.read", { projectId, agentId, path: "/workspace/from-inbox.txt" })).toBe(200);

    await background.getByLabel("Status").selectOption("denied");
    await expect(recent).toHaveCount(1);
    await expect(recent.first()).toContainText("touch /workspace/denied.txt");
    await expect(recent.first()).toContainText("Not this file, please.");
    await expect(waiting).toHaveCount(0);
    await background.getByLabel("Status").selectOption("");
    await background.getByLabel("Agent").selectOption({ label: "gatekeeper" });
    await expect(recent).toHaveCount(3);
    await shot(background, "05-inbox-decided");
  });

  await test.step("without a browser answer yet, the inbox offers notifications once; Not now is remembered", async () => {
    const fresh = await page.context().browser()!.newContext({ storageState: await context.storageState() });
    const other = await fresh.newPage();
    other.on("pageerror", (err) => browserErrors.push(`fresh context: ${err.message}`));
    await other.goto(`/projects/${projectId}/approvals`);
    await expect(other.getByTestId("approvals-recent").getByTestId("approval-row")).toHaveCount(3, { timeout: 30_000 });
    // Not granted in this context: the browser has not answered yet.
    expect(await other.evaluate(() => Notification.permission)).toBe("default");
    const prompt = other.getByRole("region", { name: "Browser notifications" });
    await expect(prompt).toContainText("Get a browser notification when an approval waits");
    await prompt.getByRole("button", { name: "Not now" }).click();
    await expect(prompt).toHaveCount(0);
    await other.reload();
    await expect(other.getByTestId("approvals-recent").getByTestId("approval-row")).toHaveCount(3, { timeout: 30_000 });
    await expect(prompt).toHaveCount(0);
    expect(await other.evaluate(() => localStorage.getItem("armory.approvals.notifications"))).toBe("dismissed");
    await fresh.close();
  });

  expect(browserErrors).toEqual([]);
});

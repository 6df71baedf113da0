// Teams in a real browser against the production server, the real Docker engine and the real
// Claude Code CLI answered by Armory's built-in demo model: a team is created on the Teams page
// (a member with a keyword rule, the same agent as fallback), a message sent in the team chat
// shows the routing decision above the reply that streams in from the chosen agent, a message no
// rule matches goes to the fallback (saying so), and a reload shows both from the history.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";
const account = { email: `e2e-teams-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery" };

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/teams-${step}.png` });
}

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("a team routes a message by keyword and the chosen agent's reply streams in under the decision", async ({ page }) => {
  test.setTimeout(300_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project and a running agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Teams E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("reviewer");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    await expect(page.getByRole("article", { name: "reviewer" }).getByTestId("agent-status")).toHaveText("Running", { timeout: 60_000 });
  });

  await test.step("create a team on the Teams page", async () => {
    await page.getByRole("link", { name: "Teams" }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/teams$`));
    await expect(page.getByText("No teams yet.")).toBeVisible({ timeout: 30_000 });
    await page.getByRole("button", { name: "New team" }).click();
    const dialog = page.getByRole("dialog", { name: "New team" });
    await dialog.getByLabel("Name", { exact: true }).fill("Reviewers");
    await dialog.getByLabel("Member 1", { exact: true }).selectOption({ label: "reviewer" });
    await dialog.getByLabel("What this agent is for").fill("Reviews changes");
    await dialog.getByLabel(/Keyword rules/).fill("review\n/PR-\\d+/");
    await dialog.getByLabel("Fallback agent").selectOption({ label: "reviewer" });
    await shot(page, "01-dialog");
    await dialog.getByRole("button", { name: "Create team" }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    const card = page.getByTestId("team-card");
    await expect(card).toContainText("Reviewers");
    await expect(card).toContainText("Keyword rules");
    await expect(card).toContainText("/PR-\\d+/");
    await shot(page, "02-list");
    await card.getByRole("link", { name: "Open team chat" }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/teams/[0-9a-f-]{36}$`));
  });

  await test.step("a message is routed by keyword; the reply streams in under the decision", async () => {
    await page.getByRole("textbox", { name: "Message" }).fill("Please review this change [[delay=150]]");
    await page.getByRole("button", { name: "Send" }).click();
    const first = page.getByTestId("team-message").first();
    await expect(first.getByTestId("team-route")).toContainText("→ reviewer · matched keyword 'review'", { timeout: 30_000 });
    const text = first.getByTestId("assistant-text").first();
    // Streaming: part of the answer is on screen before the rest.
    await expect(text).toContainText("Hello from Armory", { timeout: 60_000 });
    await expect(text).toContainText('You said: "Please review this change"', { timeout: 30_000 });
    await expect(first.getByTestId("chat-turn")).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
    await shot(page, "03-keyword");
  });

  await test.step("a message no rule matches goes to the fallback, in the same session", async () => {
    await page.getByRole("textbox", { name: "Message" }).fill("what did I ask before?");
    await page.getByRole("button", { name: "Send" }).click();
    const second = page.getByTestId("team-message").nth(1);
    await expect(second.getByTestId("team-route")).toContainText("→ reviewer · no keyword rule matched: sent to the fallback agent", { timeout: 30_000 });
    await expect(second.getByTestId("team-route")).toHaveAttribute("data-method", "fallback");
    // The demo model quotes the previous message: the follow-up continued the same session.
    await expect(second.getByTestId("assistant-text").first()).toContainText("Please review this change", { timeout: 60_000 });
    await expect(second.getByTestId("chat-turn")).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
  });

  await test.step("a reload shows the history with its decisions", async () => {
    await page.reload();
    const messages = page.getByTestId("team-message");
    await expect(messages).toHaveCount(2, { timeout: 30_000 });
    await expect(messages.nth(0).getByTestId("team-route")).toHaveAttribute("data-method", "keyword");
    await expect(messages.nth(1).getByTestId("team-route")).toHaveAttribute("data-method", "fallback");
    await expect(messages.nth(0).getByTestId("assistant-text").first()).toContainText('You said: "Please review this change"');
    await shot(page, "04-reloaded");
  });
  expect(browserErrors).toEqual([]);
});

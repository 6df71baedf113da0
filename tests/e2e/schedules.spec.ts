// Schedules in a real browser against the production server, the real Docker engine and the real
// Claude Code CLI answered by Armory's built-in demo model: a schedule created in the dialog (the
// next fire times previewed live while the cron is typed, a bad cron explained), its next run on
// the card, "Run now", and the run appearing in the history as running, then completed, with a
// link to its chat session.
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const docker = createDockerClient();
let projectId = "";

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("create a schedule, see its next runs, run it now and see the run", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project and a running agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Margaret Hamilton");
    await page.getByLabel("Email").fill(`e2e-sched-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Schedules E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("cronbot");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "cronbot" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await card.getByRole("link", { name: "cronbot" }).click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
  });

  await test.step("the Schedules tab: create a schedule, the next fire times previewed as the cron is typed", async () => {
    await page.getByRole("tab", { name: "Schedules" }).click();
    await expect(page).toHaveURL(/tab=schedules/);
    await expect(page.getByText("No schedules yet")).toBeVisible();
    await expect(page.getByText("No runs yet.")).toBeVisible();
    await page.getByRole("button", { name: "New schedule" }).click();
    const dialog = page.getByRole("dialog", { name: "New schedule" });
    await dialog.getByLabel("Name").fill("Morning report");
    const cron = dialog.getByLabel("Cron");
    await cron.fill("61 * * * *");
    await expect(dialog.getByTestId("cron-preview")).toContainText(/61/);
    await expect(dialog.getByTestId("cron-preview-time")).toHaveCount(0);
    await cron.fill("0 9 * * *");
    await dialog.getByLabel("Time zone").selectOption("Asia/Tokyo");
    const times = dialog.getByTestId("cron-preview-time");
    await expect(times).toHaveCount(3);
    for (const t of await times.allTextContents()) expect(t).toMatch(/09:00 \((in \d+ (hours?|minutes?|days?)|tomorrow|in \d+ seconds)\)/);
    await dialog.getByLabel("Message").fill("Hello from the schedule");
    await dialog.getByLabel("Session").selectOption("named");
    await dialog.getByLabel("Session name").fill("Morning reports");
    await dialog.getByRole("button", { name: "Create schedule" }).click();
    await expect(dialog).toBeHidden();
    const card = page.getByTestId("schedule-card");
    await expect(card.getByRole("heading", { name: "Morning report" })).toBeVisible();
    await expect(card.getByTestId("schedule-cron")).toHaveText("0 9 * * *");
    await expect(card).toContainText("Asia/Tokyo");
    await expect(card.getByTestId("schedule-next-run")).toContainText(/09:00 \(in /);
  });

  await test.step("the enabled box takes the clicked value at once; disabling clears the next run", async () => {
    const card = page.getByTestId("schedule-card");
    const box = card.getByLabel("Enabled");
    await expect(box).toBeChecked();
    await box.click();
    await expect(box).not.toBeChecked();
    await expect(card.getByTestId("schedule-next-run")).toContainText("none while disabled");
    await box.click();
    await expect(box).toBeChecked();
    await expect(card.getByTestId("schedule-next-run")).toContainText(/09:00 \(in /);
  });

  await test.step("run now: the run appears in the history and completes, with its session linked", async () => {
    await page.getByTestId("schedule-card").getByRole("button", { name: "Run now" }).click();
    const row = page.getByTestId("schedule-run-row");
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("run-status")).toHaveText("completed", { timeout: 90_000 });
    await expect(row).toContainText("Morning report");
    await expect(row).toContainText("run now");
    await page.screenshot({ path: "test-results/screenshots/schedules-01-run-completed.png", fullPage: true });
    await expect(row.getByTestId("run-duration")).toHaveText(/^\d+(\.\d)? (ms|s)$/);
    const link = row.getByRole("link", { name: "Open session" });
    await expect(link).toHaveAttribute("href", new RegExp(`/projects/${projectId}/agents/[0-9a-f-]{36}\\?session=[0-9a-f-]{36}$`));
    await link.click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true");
    await expect(page.getByTestId("assistant-text").first()).toContainText('You said: "Hello from the schedule"', { timeout: 30_000 });
  });

  expect(browserErrors).toEqual([]);
});

// Snapshots in a real browser against the production server and the real Docker engine: the
// Snapshots tab takes one (its size and file count shown once it is written), restore is offered
// only once the agent is stopped and then replaces its files, and "Clone agent" makes a new agent
// from the snapshot and opens it.
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

test("take a snapshot, see its size, restore it into the stopped agent, clone it", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project and a running agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(`e2e-snap-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Snapshots E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("snapbot");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "snapbot" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    await card.getByRole("link", { name: "snapbot" }).click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
  });

  await test.step("the Snapshots tab: take one, its size and files appear when it is written", async () => {
    await page.getByRole("tab", { name: "Snapshots" }).click();
    await expect(page).toHaveURL(/tab=snapshots/);
    await expect(page.getByText("No snapshots of this agent yet.")).toBeVisible();
    await page.getByLabel("Note (optional)").fill("first state");
    await page.getByRole("button", { name: "Take snapshot" }).click();
    const row = page.getByTestId("snapshot-row");
    await expect(row).toHaveCount(1);
    await expect(row).toHaveAttribute("data-status", "ready", { timeout: 60_000 });
    await expect(row.getByTestId("snapshot-status")).toHaveText("ready");
    await expect(row).toContainText("first state");
    await expect(row.getByTestId("snapshot-size")).toHaveText(/^\d+(\.\d)? (B|KiB|MiB)/);
    // Running: restore waits for a stop.
    await expect(row.getByRole("button", { name: "Restore" })).toBeDisabled();
  });

  await test.step("stop the agent, restore the snapshot", async () => {
    await page.getByRole("button", { name: "Stop", exact: true }).first().click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Stop container" }).click();
    const row = page.getByTestId("snapshot-row");
    const restore = row.getByRole("button", { name: "Restore" });
    await expect(restore).toBeEnabled({ timeout: 30_000 });
    await restore.click();
    await row.getByRole("button", { name: "Replace files and sessions" }).click();
    await expect(page.getByText("Snapshot restored", { exact: true })).toBeVisible({ timeout: 60_000 });
    await expect(row).toContainText(/restored (just now|\d+ seconds? ago)/);
  });

  await test.step("clone the agent from the snapshot: the new agent opens", async () => {
    await page.getByTestId("snapshot-row").getByRole("button", { name: "Clone agent" }).click();
    const dialog = page.getByRole("dialog", { name: "Clone agent" });
    await expect(dialog.getByLabel("Name of the new agent")).toHaveValue("snapbot-clone");
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/, { timeout: 90_000 });
    await expect(page.getByRole("heading", { name: "snapbot-clone" })).toBeVisible({ timeout: 30_000 });
  });

  await test.step("delete the snapshot", async () => {
    await page.goto(`/projects/${projectId}/agents`);
    await page.getByRole("article", { name: "snapbot", exact: true }).getByRole("link", { name: "snapbot", exact: true }).click();
    await page.getByRole("tab", { name: "Snapshots" }).click();
    await page.getByRole("button", { name: /Delete the snapshot of/ }).click();
    await page.getByRole("button", { name: "Delete snapshot" }).click();
    await expect(page.getByText("No snapshots of this agent yet.")).toBeVisible();
  });

  expect(browserErrors).toEqual([]);
});

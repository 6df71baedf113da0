// Admin → Nodes in a real browser, on the one-engine runtime (the Swarm side of the page's data,
// node.list and node.drain on a real two-node Swarm, is tests/swarm): the nav links to the page,
// which lists the engine as its one node with CPUs and memory in human units, and offers no drain
// (there is nowhere to move agents to).
import { expect, test, type Page } from "@playwright/test";
import { startOwnArmory, type OwnArmory } from "../support/own-armory";

const PORT = Number(process.env.ARMORY_E2E_NODES_PORT ?? 3110);
const BASE = `http://127.0.0.1:${PORT}`;
const SHOTS = "test-results/screenshots";
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

let armory: OwnArmory | null = null;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  armory = await startOwnArmory({ name: "nodes", port: PORT, env: { ARMORY_SIGN_UP: "open" } });
});

test.afterAll(async () => {
  await armory?.stop();
});

test("the admin opens Admin → Nodes: the one engine, its CPUs and memory, no drain", async ({ page }) => {
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  await page.goto(`${BASE}/sign-up`);
  await page.getByLabel("Name").fill("Nora Nodes");
  await page.getByLabel("Email").fill(`nora-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible({ timeout: 30_000 });
  await page.goto(`${BASE}/admin/users`);
  await page.getByRole("link", { name: "Nodes" }).click();
  await expect(page).toHaveURL(/\/admin\/nodes$/);
  await expect(page.getByText(/runs its agents on one Docker engine/)).toBeVisible();
  const row = page.getByTestId("node-row");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Engine");
  await expect(row.getByTestId("node-state")).toContainText("Ready");
  await expect(row).toContainText(/\d+(\.\d)? GB/);
  await expect(row.getByRole("button", { name: "Drain" })).toHaveCount(0);
  await shot(page, "nodes-01-one-engine");
  expect(browserErrors).toEqual([]);
});

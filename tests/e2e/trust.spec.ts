// Machine tokens end to end: create a token in the UI, call Armory with it from the typed client
// (as another program would), and find that call in the project's audit page. Also the Access
// page: members and a trust grant.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createArmoryClient } from "../../src/client";

const SHOTS = "test-results/screenshots";
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

test("create a token in the UI, use it from the typed client, see the call in the audit log", async ({ page, baseURL }) => {
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) browserErrors.push(msg.text());
  });
  const email = `trust-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`;
  let projectId = "";
  let token = "";

  await test.step("sign up and create a project", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Token project");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
  });

  await test.step("create a write token for the project on the tokens page; the secret is shown once", async () => {
    await page.getByRole("button", { name: /account menu/i }).click();
    await page.getByRole("menuitem", { name: "Machine tokens" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Machine tokens" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "No tokens yet" })).toBeVisible();
    await page.getByRole("button", { name: "New token" }).click();
    const dialog = page.getByRole("dialog", { name: "New machine token" });
    await dialog.getByLabel("Name").fill("e2e-client");
    await dialog.getByLabel(/write/).check();
    await dialog.getByLabel("Token project").check();
    await dialog.getByRole("button", { name: "Create token" }).click();
    const secret = page.getByTestId("token-secret");
    await expect(secret).toHaveText(/^arm_[0-9a-f]{12}_/);
    token = (await secret.textContent())!.trim();
    await shot(page, "trust-01-token-secret");
    await page.getByRole("button", { name: "Done" }).click();
    const row = page.getByRole("list", { name: "Tokens" }).getByRole("listitem").filter({ hasText: "e2e-client" });
    await expect(row).toContainText("never used");
    await expect(row).toContainText(`arm_${token.slice(4, 16)}_…`);
    await expect(page.getByText(token)).toHaveCount(0);
  });

  await test.step("the typed client calls Armory with the token", async () => {
    const armory = createArmoryClient({ url: baseURL!, token });
    expect(await armory.agent.list.query({ projectId })).toEqual([]);
    const updated = await armory.project.update.mutate({ projectId, description: "Described by a machine" });
    expect(updated.description).toBe("Described by a machine");
    const bad = createArmoryClient({ url: baseURL!, token: token.slice(0, -2) + "xx" });
    await expect(bad.project.get.query({ projectId })).rejects.toThrow(/Invalid token/);
    await page.reload();
    await expect(page.getByRole("list", { name: "Tokens" }).getByRole("listitem").filter({ hasText: "e2e-client" })).toContainText("last used");
  });

  await test.step("the audit page shows the token's call", async () => {
    await page.goto(`/projects/${projectId}/audit`);
    const table = page.getByRole("table", { name: "Audit entries" });
    const row = table.getByRole("row").filter({ hasText: "project.update" });
    await expect(row).toContainText(`token arm_${token.slice(4, 16)}`);
    await expect(row).toContainText(email);
    await expect(row).toContainText("Allowed");
    await page.getByLabel("Action").fill("project.update");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(table.getByRole("row")).toHaveCount(2); // header + the one call
    await shot(page, "trust-02-audit");
  });

  await test.step("the access page lists members and creates a trust grant", async () => {
    await page.goto(`/projects/${projectId}/access`);
    await expect(page.getByRole("list", { name: "Members" })).toContainText(email);
    await expect(page.getByText("No grants: everyone has exactly what their role allows.")).toBeVisible();
    await expect(page.getByText("This project has no agents to check yet.")).toBeVisible();
    await page.getByRole("button", { name: "New grant" }).click();
    const dialog = page.getByRole("dialog", { name: "New trust grant" });
    await dialog.getByLabel("Which").fill("web-*");
    await dialog.getByLabel("stop").check();
    await dialog.getByLabel("Files it may write").fill("/workspace/src/**");
    await dialog.getByLabel("Description").fill("viewers stop web agents");
    await dialog.getByRole("button", { name: "Create grant" }).click();
    const grants = page.getByRole("list", { name: "Grants" });
    await expect(grants).toContainText("everyone with the Viewer role");
    await expect(grants).toContainText("agents named web-*");
    await expect(grants).toContainText("write /workspace/src/**");
    await shot(page, "trust-03-access");
  });

  expect(browserErrors).toEqual([]);
});

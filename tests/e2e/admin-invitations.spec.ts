// The instance door in a real browser: the first account becomes the instance admin; an owner
// creates an invitation on the project's access page (the link is shown once); a new person
// opens it in another browser, signs up and lands in the project with the chosen role; the link
// then no longer works; the admin sees them in Admin → Users and disables them, which signs them
// out and refuses their sign-in.
//
// This file's name sorts first among the specs on purpose: its first sign-up must be the
// instance's first account (the e2e server runs with ARMORY_SIGN_UP=open, see
// playwright.config.ts; invite mode itself is proven over HTTP in tests/integration/instance.test.ts).
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";

const SHOTS = "test-results/screenshots";
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const PASSWORD = "correct horse battery";

async function fillSignUp(page: Page, name: string, email: string) {
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
}

test("first account is the admin; an invitation brings a new person into the project; the admin disables them", async ({ page, browser }) => {
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  const suffix = `${Date.now()}-${randomUUID().slice(0, 8)}`;
  const adminEmail = `admin-${suffix}@example.com`;
  const inviteeEmail = `invitee-${suffix}@example.com`;
  let projectId = "";
  let link = "";

  await test.step("the first account is told it becomes the instance admin", async () => {
    await page.goto("/sign-up");
    await expect(page.getByTestId("sign-up-first")).toContainText("This first account becomes the instance admin.");
    await shot(page, "door-01-first-account");
    await fillSignUp(page, "Ada Admin", adminEmail);
    await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" })).toBeVisible();
  });

  await test.step("the owner creates an invitation for an operator; the link is shown once", async () => {
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Invited project");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.goto(`/projects/${projectId}/access`);
    const form = page.getByRole("form", { name: "New invitation" });
    await form.getByLabel("Role").selectOption("operator");
    await form.getByRole("button", { name: "Create link" }).click();
    const shown = page.getByTestId("invitation-link");
    await expect(shown).toHaveText(/\/sign-up\?invite=inv_[A-Za-z0-9_-]{43}$/);
    link = (await shown.textContent())!.trim();
    await shot(page, "door-02-invitation-link");
    await page.getByRole("button", { name: "Done" }).click();
    await expect(page.getByText(link)).toHaveCount(0);
    await expect(page.getByTestId("invitation-row").filter({ hasText: "Operator" })).toContainText("Pending");
  });

  const invitee = await browser.newContext();
  const other = await invitee.newPage();
  await test.step("the invitee opens the link in another browser, signs up and lands in the project as operator", async () => {
    await other.goto(link);
    await expect(other.getByTestId("invitation-notice")).toContainText("You are invited to Invited project as operator.");
    await shot(other, "door-03-invited-sign-up");
    await fillSignUp(other, "Ivy Invitee", inviteeEmail);
    await expect(other).toHaveURL(new RegExp(`/projects/${projectId}`));
    await expect(other.getByRole("heading", { name: "Invited project" })).toBeVisible();
    await expect(other.getByTitle("Your role: Operator")).toBeVisible();
    // Not an admin: no Admin link, and the admin page says so.
    await expect(other.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" })).toHaveCount(0);
    await other.goto("/admin/users");
    await expect(other.getByTestId("admin-only")).toBeVisible();
  });

  await test.step("the link works once", async () => {
    const third = await browser.newContext();
    const late = await third.newPage();
    await late.goto(link);
    await expect(late.getByTestId("invitation-invalid")).toContainText("This invitation is invalid or has expired.");
    await third.close();
    await page.reload();
    await expect(page.getByTestId("invitation-row").filter({ hasText: "Operator" })).toContainText(`used`);
    await expect(page.getByTestId("invitation-row").filter({ hasText: "Operator" })).toContainText(inviteeEmail);
  });

  await test.step("the admin sees the invitee in Admin → Users and disables them: signed out, sign-in refused", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
    const row = page.locator(`[data-testid="user-row"][data-email="${inviteeEmail}"]`);
    await expect(row).toContainText("Invited project (operator)");
    await expect(row.getByTestId("last-seen")).not.toHaveText("never");
    await shot(page, "door-04-admin-users");
    await row.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Disable account" }).click();
    await expect(row).toContainText("Disabled");

    await other.goto(`/projects/${projectId}/agents`);
    await expect(other).toHaveURL(/\/sign-in/);
    await other.getByLabel("Email").fill(inviteeEmail);
    await other.getByLabel("Password").fill(PASSWORD);
    await other.getByRole("button", { name: "Sign in" }).click();
    await expect(other.getByText("This account is disabled.")).toBeVisible();
    await shot(other, "door-05-disabled-sign-in");
  });

  await invitee.close();
  expect(browserErrors).toEqual([]);
});

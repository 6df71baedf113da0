// The instance door in a real browser: the first account becomes the instance admin; an owner
// creates an invitation on the project's access page (the link is shown once); a new person
// opens it in another browser, signs up and lands in the project with the chosen role; the link
// then no longer works; the admin sees them in Admin → Users and disables them, which signs them
// out and refuses their sign-in.
//
// It runs on an Armory of its own (tests/support/own-armory.ts) in the default mode, invite:
// its first sign-up is that instance's first account, and a stranger without the link is
// turned away.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { startOwnArmory, type OwnArmory } from "../support/own-armory";

const PORT = Number(process.env.ARMORY_E2E_DOOR_PORT ?? 3109);
let armory: OwnArmory | null = null;
let BASE = "";

test.beforeAll(async () => {
  test.setTimeout(240_000);
  // No ARMORY_SIGN_UP: the default (invite), as on a fresh start.
  armory = await startOwnArmory({ name: "door", port: PORT });
  BASE = armory.url;
});

test.afterAll(async () => {
  await armory?.stop();
});

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
    await page.goto(`${BASE}/sign-up`);
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
    await page.goto(`${BASE}/projects/${projectId}/access`);
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

  await test.step("a stranger without the link is told sign-up is by invitation, and gets no form", async () => {
    const strangerContext = await browser.newContext();
    const stranger = await strangerContext.newPage();
    await stranger.goto(`${BASE}/sign-up`);
    await expect(stranger.getByTestId("sign-up-invite")).toContainText("Sign-up is by invitation.");
    await expect(stranger.getByRole("button", { name: "Create account" })).toHaveCount(0);
    await shot(stranger, "door-02b-stranger");
    await strangerContext.close();
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
    await other.goto(`${BASE}/admin/users`);
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

    await other.goto(`${BASE}/projects/${projectId}/agents`);
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

// The first-run story in a real browser against the production server: sign up, create a
// project, rename it, sign out and in again, and every bad input on the way.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";

const SHOTS = "test-results/screenshots";

async function shot(page: Page, name: string, fullPage = false) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage });
}

/** Matches the page at exactly this path (no query string). */
function atPath(pathname: string): RegExp {
  return new RegExp(`^https?://[^/]+${pathname.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

test("sign up, create and rename a project, sign out and back in", async ({ page, browser }) => {
  const email = `e2e-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`;
  const password = "correct horse battery";
  const name = "Ada Lovelace";
  let projectUrl = "";
  // Uncaught exceptions and React errors (e.g. hydration mismatches) fail the test; failed
  // requests the test provokes on purpose (401, 422, 403, 404) are expected.
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) browserErrors.push(msg.text());
  });

  await test.step("signed-out visitors are sent to sign in", async () => {
    await page.goto("/");
    await expect(page).toHaveURL(atPath("/sign-in"));
    await expect(page.getByRole("heading", { name: "Sign in to Armory" })).toBeVisible();
    await shot(page, "01-sign-in");
  });

  await test.step("sign-up blocks a short password before calling the server", async () => {
    await page.getByRole("link", { name: "Create an account" }).click();
    await expect(page).toHaveURL(atPath("/sign-up"));
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByText("Password must be at least 8 characters")).toBeVisible();
    await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
    await expect(page).toHaveURL(atPath("/sign-up"));
    await shot(page, "02-sign-up-short-password");
  });

  await test.step("sign up and land on the empty projects list", async () => {
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(atPath("/"));
    await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
    await expect(page.getByRole("button", { name: /account menu/i })).toContainText(name);
    await shot(page, "03-projects-empty");
    // Signed in, the auth pages send you on.
    await page.goto("/sign-in");
    await expect(page).toHaveURL(atPath("/"));
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
  });

  await test.step("the create dialog validates the name", async () => {
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(dialog.getByText("Project name is required")).toBeVisible();
    await dialog.getByLabel("Name").fill("x".repeat(101));
    await expect(dialog.getByText("Project name must be at most 100 characters")).toBeVisible();
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(dialog.getByText("Project name must be at most 100 characters")).toBeVisible();
    await expect(dialog).toBeVisible();
    await shot(page, "04-create-project-validation");
  });

  await test.step("create a project and open it", async () => {
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("E2E project");
    await dialog.getByLabel("Description").fill("Created by the browser test.");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    await expect(page.getByRole("heading", { level: 1, name: "E2E project" })).toBeVisible();
    await expect(page.getByText("Project created")).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Agents" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
    projectUrl = page.url().replace(/\/agents$/, "");
    await shot(page, "05-project-agents");
  });

  await test.step("rename it in Settings; the header follows", async () => {
    await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Settings" }).click();
    await expect(page).toHaveURL(`${projectUrl}/settings`);
    const nameField = page.getByLabel("Project name");
    await expect(nameField).toHaveValue("E2E project");
    await nameField.fill("");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Project name is required")).toBeVisible();
    await nameField.fill("Renamed project");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Project settings saved")).toBeVisible();
    await expect(page.getByRole("heading", { level: 1, name: "Renamed project" })).toBeVisible();
    await shot(page, "06-settings-renamed", true);
  });

  await test.step("sign out", async () => {
    await page.getByRole("button", { name: /account menu/i }).click();
    await expect(page.getByRole("menu")).toContainText(email);
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL(atPath("/sign-in"));
    await shot(page, "07-signed-out");
  });

  await test.step("signed out, / redirects to sign in", async () => {
    await page.goto("/");
    await expect(page).toHaveURL(atPath("/sign-in"));
  });

  await test.step("signing up again with the same email shows an error", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Someone Else");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("another password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "already exists" })).toBeVisible();
    await expect(page).toHaveURL(atPath("/sign-up"));
    await shot(page, "08-sign-up-duplicate-email");
  });

  await test.step("a wrong password shows the error", async () => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("wrong password!");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "Invalid email or password" })).toBeVisible();
    await expect(page).toHaveURL(atPath("/sign-in"));
    await shot(page, "09-sign-in-wrong-password");
  });

  await test.step("sign in again: the renamed project is listed", async () => {
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(atPath("/"));
    const card = page.getByRole("listitem").filter({ has: page.getByRole("link", { name: "Renamed project" }) });
    await expect(card).toBeVisible();
    await expect(card).toContainText("Owner");
    await expect(card).toContainText("1 member");
    await expect(card).toContainText(/Created (just now|\d+ seconds? ago|1 minute ago)/);
    await shot(page, "10-projects-list");
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(card).toBeVisible();
    await shot(page, "10b-projects-list-mobile", true);
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  await test.step("unknown projects show a clear not-found view", async () => {
    await page.goto(`/projects/${randomUUID()}`);
    await expect(page.getByRole("heading", { level: 1, name: "Project not found" })).toBeVisible();
    await shot(page, "11-project-not-found");
    await page.goto("/projects/not-a-project-id/settings");
    await expect(page.getByRole("heading", { level: 1, name: "Project not found" })).toBeVisible();
  });

  await test.step("someone who is not a member is told they have no access", async () => {
    const other = await browser.newContext({ baseURL: new URL(projectUrl).origin });
    const otherPage = await other.newPage();
    try {
      await otherPage.goto("/sign-up");
      await otherPage.getByLabel("Name").fill("Mallory");
      await otherPage.getByLabel("Email").fill(`other-${email}`);
      await otherPage.getByLabel("Password").fill(password);
      await otherPage.getByRole("button", { name: "Create account" }).click();
      await expect(otherPage).toHaveURL(atPath("/"));
      await otherPage.goto(`${projectUrl}/settings`);
      await expect(otherPage.getByRole("heading", { level: 1, name: "You don't have access to this project" })).toBeVisible();
      await expect(otherPage.getByText("Renamed project")).toHaveCount(0);
      await shot(otherPage, "11b-project-forbidden");
    } finally {
      await other.close();
    }
  });

  await test.step("after signing in, ?next= brings you back", async () => {
    await page.getByRole("button", { name: /account menu/i }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL(atPath("/sign-in"));
    await page.goto(`${projectUrl}/settings`);
    await expect(page).toHaveURL(/\/sign-in\?next=/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${projectUrl}/settings`);
    await expect(page.getByRole("heading", { level: 1, name: "Renamed project" })).toBeVisible();
  });

  await test.step("delete the project from the danger zone", async () => {
    await page.getByRole("button", { name: "Delete project" }).click();
    const dialog = page.getByRole("alertdialog");
    await expect(dialog).toBeVisible();
    const confirm = dialog.getByRole("button", { name: "Delete project" });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(/to confirm/).fill("Renamed project");
    await shot(page, "12-delete-confirm");
    await confirm.click();
    await expect(page).toHaveURL(atPath("/"));
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
    await shot(page, "13-project-deleted");
  });

  expect(browserErrors, "errors in the browser console").toEqual([]);
});

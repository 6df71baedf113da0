// Model providers in a real browser: the instance admin registers a provider under Admin →
// Providers (a bad name is reported at the field), a project template picks it from the
// provider select (a model the provider does not allow is reported at the model field) and gets
// an egress allowlist; the admin page then shows which template uses the provider, and deleting
// it is not offered while it is in use.
//
// The suite's shared server already has its first account (some other spec's), so this spec
// starts its own Armory (tests/support/own-armory.ts): its first sign-up is that instance's admin.
import { expect, test, type Page } from "@playwright/test";
import { startOwnArmory, type OwnArmory } from "../support/own-armory";

const PORT = Number(process.env.ARMORY_E2E_PROVIDERS_PORT ?? 3108);
const BASE = `http://127.0.0.1:${PORT}`;
const SHOTS = "test-results/screenshots";
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

let armory: OwnArmory | null = null;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  armory = await startOwnArmory({ name: "providers", port: PORT, env: { ARMORY_SIGN_UP: "open" } });
});

test.afterAll(async () => {
  await armory?.stop();
});

test("the admin registers a provider; a template picks it; the admin sees who uses it", async ({ page }) => {
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  let projectId = "";

  await test.step("the first account (this instance's admin) opens Admin → Providers: the operator's upstream is the built-in entry", async () => {
    await page.goto(`${BASE}/sign-up`);
    await page.getByLabel("Name").fill("Pat Provider");
    await page.getByLabel("Email").fill(`pat-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    // The instance's first request of each kind is slow on a loaded machine.
    await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible({ timeout: 30_000 });
    await page.goto(`${BASE}/admin/providers`);
    const builtIn = page.getByTestId("provider-row").filter({ hasText: "armory" });
    await expect(builtIn).toContainText("Built-in");
    await expect(builtIn).toContainText("https://api.anthropic.com");
    await expect(builtIn.getByRole("button")).toHaveCount(0);
  });

  await test.step("a bad name is reported at the field; a good registration shows up in the list", async () => {
    await page.getByRole("button", { name: "Register provider" }).click();
    const dialog = page.getByRole("dialog", { name: "Register a provider" });
    await dialog.getByLabel("Name").fill("Acme LLM");
    await dialog.getByLabel("Base URL").fill("https://user:pw@llm.acme.test");
    await dialog.getByLabel(/Key secret/).fill("ACME_KEY");
    await dialog.getByLabel(/Allowed models/).fill("claude-sonnet-4-5\nclaude-haiku-4-5");
    await dialog.getByRole("button", { name: "Register provider" }).click();
    await expect(dialog.getByText(/Provider name must be lower-case letters, digits and hyphens/)).toBeVisible();
    await expect(dialog.getByText(/Base URL cannot carry credentials/)).toBeVisible();
    await shot(page, "providers-01-field-errors");
    await dialog.getByLabel("Name").fill("acme-llm");
    await dialog.getByLabel("Base URL").fill("https://llm.acme.test/anthropic/");
    await dialog.getByRole("button", { name: "Register provider" }).click();
    await expect(dialog).toHaveCount(0);
    const row = page.getByTestId("provider-row").filter({ hasText: "acme-llm" });
    await expect(row).toContainText("https://llm.acme.test/anthropic");
    await expect(row).toContainText("ACME_KEY");
    await expect(row).toContainText("claude-haiku-4-5");
    await expect(row.getByTestId("provider-usage")).toHaveText("no template");
  });

  await test.step("a project template picks the provider; a model it does not allow is reported at the model field", async () => {
    await page.goto(`${BASE}/projects`);
    await page.getByRole("button", { name: "New project" }).click();
    const newProject = page.getByRole("dialog", { name: "New project" });
    await newProject.getByLabel("Name").fill("Provider project");
    await newProject.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.goto(`${BASE}/projects/${projectId}/templates`);
    await page.getByRole("button", { name: "New template" }).first().click();
    const form = page.getByRole("dialog", { name: "New template" });
    await form.getByLabel("Name", { exact: true }).fill("acme-coder");
    await form.getByLabel("Model").fill("claude-opus-4-1");
    const provider = form.getByLabel("Provider");
    await expect(provider.locator("option")).toHaveText(["Armory's upstream (default)", "acme-llm"]);
    await provider.selectOption("acme-llm");
    await expect(form.getByText("Allowed models: claude-sonnet-4-5, claude-haiku-4-5")).toBeVisible();
    await form.getByLabel(/Egress allowlist/).fill("api.github.com\n*.npmjs.org");
    await form.getByRole("button", { name: "Create template" }).click();
    await expect(form.getByText("Model claude-opus-4-1 is not allowed with provider acme-llm (allowed: claude-sonnet-4-5, claude-haiku-4-5)")).toBeVisible();
    await shot(page, "providers-02-model-not-allowed");
    await form.getByLabel("Model").fill("claude-sonnet-4-5");
    await form.getByRole("button", { name: "Create template" }).click();
    await expect(form).toHaveCount(0);
    await page.getByRole("button", { name: "Details of acme-coder" }).click();
    const details = page.getByRole("dialog", { name: "acme-coder" });
    await expect(details).toContainText("acme-llm");
    await expect(details.getByRole("list", { name: "Egress allowlist" })).toHaveText(/api\.github\.com.*\*\.npmjs\.org/);
    await shot(page, "providers-03-template-details");
  });

  await test.step("the admin page shows which template uses the provider, and offers no delete while it does", async () => {
    await page.goto(`${BASE}/admin/providers`);
    const row = page.getByTestId("provider-row").filter({ hasText: "acme-llm" });
    await expect(row.getByTestId("provider-usage")).toHaveText("acme-coder (project Provider project)");
    await expect(row.getByRole("button", { name: "Delete acme-llm" })).toBeDisabled();
    await shot(page, "providers-04-usage");
  });

  expect(browserErrors).toEqual([]);
});

// The Usage page in a real browser against the production server, a real agent container and the
// real Claude Code CLI answered by Armory's built-in demo model (priced as the model the agent asks
// for, claude-sonnet-4-5): the page, open before the turn, shows the turn's cost by itself (live,
// over usage.onChange), in the month's total and in the agent's row; an admin sets the project's
// budget and an agent's, and the progress bars show them.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";
const account = { email: `e2e-usage-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery" };

test.describe.configure({ mode: "serial" });
const slow = { timeout: 30_000 };

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/usage-${step}.png`, fullPage: true });
}

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("the usage page shows a turn's cost live and the budgets an admin sets", async ({ page, context }) => {
  test.setTimeout(240_000);
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
    await dialog.getByLabel("Name").fill("Usage E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("counter");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    await expect(page.getByRole("article", { name: "counter" }).getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
  });

  // The usage page, open in a second tab before the turn: nothing used yet.
  const usage = await context.newPage();
  usage.on("pageerror", (err) => browserErrors.push(err.message));
  await test.step("the usage page starts at $0.00 and is reached from the project's navigation", async () => {
    await usage.goto(`/projects/${projectId}/agents`);
    await usage.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Usage" }).click();
    await expect(usage).toHaveURL(new RegExp(`/projects/${projectId}/usage$`));
    await expect(usage.getByRole("heading", { name: "Usage", level: 2 })).toBeVisible(slow);
    await expect(usage.getByTestId("usage-month-cost")).toHaveText("$0.00", slow);
    await expect(usage.getByRole("row", { name: /counter/ })).toContainText("$0.00");
    await expect(usage.getByRole("button", { name: "This month" })).toHaveAttribute("aria-pressed", "true");
  });

  await test.step("a chat turn", async () => {
    await page.getByRole("article", { name: "counter" }).getByRole("link", { name: "counter" }).click();
    await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true", slow);
    await page.getByLabel("Message").fill("Hello, what does this cost?");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("assistant-text").first()).toContainText("You said", { timeout: 60_000 });
  });

  await test.step("the open usage page shows the turn's cost by itself", async () => {
    const month = usage.getByTestId("usage-month-cost");
    await expect(month).not.toHaveText("$0.00", { timeout: 30_000 });
    const cost = (await month.textContent())!;
    expect(cost).toMatch(/^\$\d+\.\d{2,4}$/);
    const row = usage.getByTestId("usage-agent-row").filter({ hasText: "counter" });
    await expect(row.getByTestId("usage-agent-cost")).toHaveText(cost);
    await expect(usage.getByTestId("usage-range-cost")).toHaveText(cost);
    await expect(row).not.toContainText("price unknown");
    await expect(usage.getByRole("figure", { name: "Cost and tokens by day" })).toBeVisible();
    await shot(usage, "01-after-turn");
  });

  await test.step("an admin sets the project's budget and the agent's", async () => {
    await usage.getByRole("button", { name: "Edit project budget" }).click();
    const form = usage.getByRole("form", { name: "Project budget" });
    await form.getByLabel("Monthly cost (USD)").fill("5");
    await form.getByRole("button", { name: "Save budget" }).click();
    await expect(form).toBeHidden(slow);
    const bar = usage.getByRole("progressbar", { name: "Project cost budget used" });
    await expect(bar).toHaveAttribute("aria-valuetext", /of \$5\.00$/);
    await expect(usage.getByTestId("usage-month")).toContainText("of $5.00");

    await usage.getByRole("button", { name: "Edit budget of counter" }).click();
    const agentForm = usage.getByRole("form", { name: "Budget of counter" });
    await agentForm.getByLabel("Monthly tokens").fill("2000000");
    await agentForm.getByRole("button", { name: "Save budget" }).click();
    await expect(agentForm).toBeHidden(slow);
    await expect(usage.getByRole("progressbar", { name: "counter token budget used" })).toHaveAttribute("aria-valuetext", /of 2M tokens$/);
    await usage.reload();
    await expect(usage.getByRole("progressbar", { name: "counter token budget used" })).toHaveAttribute("aria-valuetext", /of 2M tokens$/, slow);
    await expect(usage.getByRole("progressbar", { name: "Project cost budget used" })).toHaveAttribute("aria-valuetext", /of \$5\.00$/);
    await shot(usage, "02-budgets");
  });

  await test.step("the previous month has nothing yet", async () => {
    await usage.getByRole("button", { name: "Previous month" }).click();
    await expect(usage.getByTestId("usage-range-cost")).toHaveText("$0.00", slow);
    await expect(usage.getByTestId("usage-month-cost")).not.toHaveText("$0.00");
  });

  expect(browserErrors).toEqual([]);
});

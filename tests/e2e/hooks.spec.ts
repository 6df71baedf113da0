// Inbound webhooks in a real browser against the production server and a real agent container:
// a GitHub-verified webhook created on the agent's Webhooks tab (the template preview rendering
// live as it is typed, the secret shown once), a payload this spec signs and POSTs to the URL
// the card shows, and the delivery appearing in the open page by itself (202, the rendered
// message, a link to its conversation); disabling the webhook makes the URL answer 404.
import { createHmac, randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";

const docker = createDockerClient();

/** Critical and serious WCAG 2.0/2.1 A and AA violations (as tests/e2e/accessibility.spec.ts scans), optionally only inside `include`. */
async function axeFindings(page: Page, include?: string): Promise<string[]> {
  let builder = new AxeBuilder({ page }).setLegacyMode(true).options({ runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
  if (include) builder = builder.include(include);
  const { violations } = await builder.analyze();
  return violations.filter((v) => v.impact === "critical" || v.impact === "serious").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
let projectId = "";

test.afterAll(async () => {
  if (!projectId) return;
  const label = `${LABELS.projectId}=${projectId}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("create an inbound webhook, POST a signed payload, see the delivery arrive live", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up, create a project and an agent", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(`e2e-hooks-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Hooks E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await create.getByLabel("Name", { exact: true }).fill("reviewer");
    await create.getByRole("button", { name: "Create agent" }).click();
    await expect(create).toBeHidden({ timeout: 60_000 });
    await page.getByRole("article", { name: "reviewer" }).getByRole("link", { name: "reviewer" }).click();
    await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}/);
  });

  let secret = "";
  await test.step("the Webhooks tab: create a GitHub webhook, previewing the template as it is typed", async () => {
    await page.getByRole("tab", { name: "Webhooks" }).click();
    await expect(page).toHaveURL(/tab=webhooks/);
    await expect(page.getByText("No inbound webhooks yet.")).toBeVisible();
    await page.getByRole("button", { name: "Add webhook" }).click();
    const dialog = page.getByRole("dialog", { name: "New inbound webhook" });
    await dialog.getByLabel("Name").fill("GitHub PRs");
    await dialog.getByLabel("Verification").selectOption("github");
    const template = dialog.getByLabel("Message template");
    await template.fill("{{#payload.x}}");
    await expect(dialog.getByTestId("hook-preview")).toHaveText("The template does not parse.");
    await template.fill("Review PR {{ payload.pull_request.title }} from {{ payload.sender.login }}");
    await expect(dialog.getByTestId("hook-preview")).toHaveText("Review PR Fix the flaky login test from octocat");
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    await expect(dialog).toBeHidden();
    const shown = page.getByRole("dialog", { name: "The secret of GitHub PRs" });
    secret = (await shown.getByTestId("hook-secret").textContent()) ?? "";
    expect(secret).toMatch(/^ahk_/);
    await shown.getByRole("button", { name: "Done" }).click();
    await expect(shown).toBeHidden();
    // Shown once: nowhere on the page afterwards.
    await expect(page.getByText(secret)).toHaveCount(0);
  });

  const card = page.getByTestId("hook-card");
  const url = (await card.getByTestId("hook-url").textContent()) ?? "";
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/hooks\/[0-9a-f-]{36}$/);
  await expect(card.getByText("No deliveries yet.")).toBeVisible();

  await test.step("a signed POST to the URL: 202, and the delivery appears in the open page by itself", async () => {
    const body = JSON.stringify({ action: "opened", pull_request: { title: "Add search" }, sender: { login: "ada" } });
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
      body,
    });
    expect(res.status).toBe(202);
    const { sessionId } = (await res.json()) as { sessionId: string };
    const row = card.getByTestId("hook-delivery-row");
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("hook-delivery-status")).toHaveText("accepted");
    await expect(row.getByTestId("hook-delivery-http")).toHaveText("HTTP 202");
    await expect(row.getByTestId("hook-delivery-message")).toHaveText("Review PR Add search from ada");
    await expect(row.getByRole("link", { name: "Open the conversation" })).toHaveAttribute("href", new RegExp(`session=${sessionId}$`));
    await page.screenshot({ path: "test-results/screenshots/hooks-delivery.png", fullPage: true });
  });

  await test.step("axe finds no critical or serious violation on the tab and in the edit dialog", async () => {
    expect(await axeFindings(page)).toEqual([]);
    await card.getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit GitHub PRs" });
    await expect(dialog.getByTestId("hook-preview")).toHaveText("Review PR Fix the flaky login test from octocat");
    expect(await axeFindings(page, '[role="dialog"]')).toEqual([]);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
  });

  await test.step("an unsigned POST is refused and shows as rejected", async () => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    await expect(card.getByTestId("hook-delivery-row")).toHaveCount(2);
    await expect(card.getByTestId("hook-delivery-status").first()).toHaveText("rejected");
  });

  await test.step("disabling the webhook: the box takes the click, and the URL answers 404", async () => {
    const box = card.getByLabel("Enabled");
    await expect(box).toBeChecked();
    await box.click();
    await expect(box).not.toBeChecked();
    await expect(card.getByText("disabled", { exact: true })).toBeVisible();
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
  });

  expect(browserErrors).toEqual([]);
});

// Notifications in a real browser against the production server: a project secret as the signing
// key, a signed Armory-format webhook created in the dialog (to a receiver this spec runs), "Send
// test" showing its outcome, the delivery row in the log, and the signature verifying with the key.
import { createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let server: http.Server;
let receiverUrl = "";

test.beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("thanks");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/armory`;
});

test.afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

test("create a signed webhook, send a test, see the delivery", async ({ page }) => {
  test.setTimeout(180_000);
  const key = `whsec-${randomUUID()}`;
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  let projectId = "";

  await test.step("sign up, create a project, store the signing key as a project secret", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(`e2e-notify-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Notify E2E");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.goto(`/projects/${projectId}/secrets`);
    const form = page.getByRole("form", { name: "Set a project secret" });
    await form.getByLabel("Name").fill("HOOK_KEY");
    await form.getByLabel("Value").fill(key);
    await form.getByRole("button", { name: "Save secret" }).click();
    await expect(page.getByTestId("secret-row")).toHaveCount(1);
  });

  await test.step("the Notifications tab: create an Armory-format webhook in the dialog", async () => {
    await page.getByRole("link", { name: "Notifications" }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${projectId}/notifications$`));
    await expect(page.getByText("No webhooks yet.")).toBeVisible();
    await page.getByRole("button", { name: "Add webhook" }).click();
    const dialog = page.getByRole("dialog", { name: "New webhook" });
    await dialog.getByLabel("Name").fill("Ops receiver");
    await dialog.getByLabel("Format").selectOption("armory");
    // Creating without a signing key is refused in the form.
    await dialog.getByLabel("URL", { exact: true }).fill(receiverUrl);
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    await expect(dialog.getByText(/choose the secret holding the signing key/)).toBeVisible();
    await dialog.getByLabel("Signing key (project secret)").selectOption("HOOK_KEY");
    await dialog.getByLabel("Turn finished").check();
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    await expect(dialog).toBeHidden();
    const card = page.getByTestId("webhook-card");
    await expect(card.getByRole("heading", { name: "Ops receiver" })).toBeVisible();
    await expect(card.getByText("signed with")).toBeVisible();
    await expect(card.getByText("No deliveries yet.")).toBeVisible();
  });

  await test.step("send test: the outcome and the delivery row show, the signature verifies", async () => {
    const card = page.getByTestId("webhook-card");
    await card.getByRole("button", { name: "Send test" }).click();
    await expect(card.getByTestId("test-outcome")).toHaveText(/Test delivered: HTTP 200 in \d+(\.\d)? m?s\./);
    const row = card.getByTestId("delivery-row");
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("delivery-status")).toHaveText("delivered");
    await expect(row.getByTestId("delivery-response")).toContainText("200");
    await expect(row).toContainText("Test notification");
    await expect(row).toContainText("just now");

    expect(received).toHaveLength(1);
    const req = received[0]!;
    const ts = String(req.headers["x-armory-timestamp"]);
    expect(req.headers["x-armory-signature"]).toBe(`sha256=${createHmac("sha256", key).update(`${ts}.${req.body}`).digest("hex")}`);
    expect(JSON.parse(req.body)).toMatchObject({ type: "test", project: { id: projectId, name: "Notify E2E" } });
    expect(await page.content()).not.toContain(key);
  });

  await test.step("disable it: the toggle is saved", async () => {
    const card = page.getByTestId("webhook-card");
    await card.getByLabel("Enabled").uncheck();
    await expect(card.getByText("disabled", { exact: true })).toBeVisible();
    await page.reload();
    await expect(page.getByTestId("webhook-card").getByLabel("Enabled")).not.toBeChecked();
  });

  expect(browserErrors).toEqual([]);
});

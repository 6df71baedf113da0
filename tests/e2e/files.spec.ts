// The files editor in a real browser against the production server, the real Docker engine and
// a real agent container: open a file from the tree, edit it in Monaco, save, reload the page
// and find the saved text; preview markdown; edit CLAUDE.md and see the reload notice (also when
// the change comes from inside the container); a change underneath unsaved edits offers reload.
// The agent image (armory-agent:<version>) must already exist on the engine (`npm run agent-image`).
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/docker/client";
import { AGENT_IMAGE_VERSION } from "../../src/server/docker/agent-image";
import { LABELS } from "../../src/server/docker/containers";

const SHOTS = "test-results/screenshots";
const docker = createDockerClient();
let projectId = "";
let agentId = "";

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/files-${step}.png` });
}

async function agentContainer() {
  const list = await docker.listContainers({ filters: { label: [`${LABELS.agentId}=${agentId}`] } });
  expect(list).toHaveLength(1);
  return docker.getContainer(list[0]!.Id);
}

/** Runs a shell script in the agent container (as the agent user) and returns its stdout. */
async function sh(script: string): Promise<string> {
  const exec = await (await agentContainer()).exec({ Cmd: ["bash", "-c", script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on("data", (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => stream.on("end", resolve));
  // Strip the 8-byte frame headers of the multiplexed stream.
  let buf = Buffer.concat(chunks);
  const out: Buffer[] = [];
  while (buf.length >= 8) {
    const len = buf.readUInt32BE(4);
    out.push(buf.subarray(8, 8 + len));
    buf = buf.subarray(8 + len);
  }
  return Buffer.concat(out).toString("utf8");
}

const editorLines = (page: Page) => page.getByTestId("code-editor").locator(".view-lines");

test.afterAll(async () => {
  if (!projectId) return;
  const filters = { label: [`${LABELS.projectId}=${projectId}`] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("open, edit, save and reload a file; preview markdown; CLAUDE.md edits announce a reload", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  const external: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) browserErrors.push(msg.text());
  });
  page.on("request", (req) => {
    if (!req.url().startsWith("http://127.0.0.1") && !req.url().startsWith("data:") && !req.url().startsWith("blob:")) external.push(req.url());
  });

  await test.step("sign up, create a project and a running agent with a few files", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill(`e2e-files-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const pd = page.getByRole("dialog", { name: "New project" });
    await pd.getByLabel("Name").fill("Files E2E");
    await pd.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const ad = page.getByRole("dialog", { name: "New agent" });
    await ad.getByLabel("Name", { exact: true }).fill("editor");
    await ad.getByRole("button", { name: "Create agent" }).click();
    await expect(ad).toBeHidden({ timeout: 60_000 });
    const card = page.getByRole("article", { name: "editor" });
    await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
    agentId = /\/agents\/([0-9a-f-]{36})/.exec((await card.getByRole("link", { name: "editor" }).getAttribute("href"))!)![1]!;
    await sh("printf '# Hello\\n\\nFirst line.\\n' > /workspace/hello.md && printf 'Be brief.\\n' > /workspace/CLAUDE.md && mkdir -p /workspace/src && echo 'export const x = 1;' > /workspace/src/x.ts");
  });

  await test.step("open a file from the tree, edit it in Monaco and save", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}/files`);
    const tree = page.getByRole("navigation", { name: "Files" });
    await expect(tree.getByRole("treeitem", { name: /CLAUDE\.md/ })).toBeVisible();
    await expect(tree.getByText("Capabilities")).toHaveCount(0); // capabilities are outside the tree
    await expect(page.getByRole("heading", { name: "Capabilities" })).toBeVisible();
    await expect(page.getByText(AGENT_IMAGE_VERSION)).toBeVisible();
    await tree.getByRole("treeitem", { name: /hello\.md/ }).click();
    await expect(editorLines(page)).toContainText("First line.", { timeout: 30_000 });
    await shot(page, "01-open");
    await page.getByTestId("code-editor").locator(".view-line").last().click();
    await page.keyboard.press("End");
    await page.keyboard.type("Edited in the browser.");
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText("Saved", { exact: true })).toBeVisible();
    await expect(page.getByText("Unsaved changes")).toHaveCount(0);
    expect(await sh("cat /workspace/hello.md")).toContain("Edited in the browser.");
  });

  await test.step("reload the page: the saved text is there; preview renders the markdown", async () => {
    await page.reload();
    await expect(editorLines(page)).toContainText("Edited in the browser.", { timeout: 30_000 });
    await page.getByRole("button", { name: "Preview" }).click();
    const preview = page.getByRole("article", { name: "Preview" });
    await expect(preview.getByRole("heading", { name: "Hello" })).toBeVisible();
    await expect(preview).toContainText("Edited in the browser.");
    await shot(page, "02-preview");
    await page.getByRole("button", { name: "Edit" }).click();
  });

  await test.step("edit CLAUDE.md and see the reload notice", async () => {
    await page.getByRole("navigation", { name: "Files" }).getByRole("treeitem", { name: /CLAUDE\.md/ }).click();
    await expect(editorLines(page)).toContainText("Be brief.", { timeout: 30_000 });
    await page.getByTestId("code-editor").locator(".view-line").first().click();
    await page.keyboard.press("End");
    await page.keyboard.type(" Answer in English.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const notice = page.getByRole("status").filter({ hasText: "Instructions reloaded" });
    await expect(notice).toBeVisible({ timeout: 5000 });
    await expect(notice).toContainText("CLAUDE.md");
    await shot(page, "03-reloaded");
  });

  await test.step("a change inside the container under unsaved edits offers reload or overwrite", async () => {
    await page.getByTestId("code-editor").locator(".view-line").first().click();
    await page.keyboard.press("End");
    await page.keyboard.type(" Mine.");
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    await sh("printf 'Changed by the agent.\\n' > /workspace/CLAUDE.md");
    const alert = page.getByRole("alert").filter({ hasText: "This file changed underneath you" });
    await expect(alert).toBeVisible({ timeout: 5000 });
    await shot(page, "04-underneath");
    await alert.getByRole("button", { name: "Reload" }).click();
    await expect(editorLines(page)).toContainText("Changed by the agent.");
    await expect(page.getByText("Unsaved changes")).toHaveCount(0);
  });

  expect(external, "requests that left the machine").toEqual([]);
  expect(browserErrors).toEqual([]);
});

// The files editor in a real browser against the production server, the real Docker engine and
// a real agent container: the template's instructions are in the new agent's CLAUDE.md; open a
// file from the tree, edit it in Monaco, save, reload the page and find the saved text; preview
// markdown; a file the agent writes appears in the open tree; edit CLAUDE.md and see the reload notice (also when the change comes from inside the
// container); a change underneath unsaved edits offers keep mine / take theirs. Drafts survive
// leaving the Files tab and the page, discarding asks first, ?path= reopens a file; new file, new
// folder, rename, drag-and-drop upload (chunked, with a size limit) and download; axe on Files.
// The agent image (armory-agent:<version>) must already exist on the engine (`npm run agent-image`).
import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { AGENT_IMAGE_VERSION } from "../../src/server/runtime/docker/agent-image";
import { LABELS } from "../../src/server/runtime/docker/containers";

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
const tree = (page: Page) => page.getByRole("navigation", { name: "Files" });
const fileButton = (page: Page, name: string) => tree(page).getByRole("button", { name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`) });

async function trpc<T>(request: APIRequestContext, path: string, input: unknown): Promise<T> {
  const res = await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: { json: T } } }).result.data.json;
}

/** Types at the end of the editor's last line. */
async function typeAtEnd(page: Page, text: string) {
  await page.getByTestId("code-editor").locator(".view-line").last().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(text);
}

test.afterAll(async () => {
  if (!projectId) return;
  const filters = { label: [`${LABELS.projectId}=${projectId}`] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("open, edit, save and reload a file; preview markdown; CLAUDE.md edits announce a reload", async ({ page }) => {
  test.setTimeout(600_000);
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
  });

  await test.step("the template's instructions are the new agent's /workspace/CLAUDE.md, owned by the agent user, shown in Files", async () => {
    const templates = await trpc<{ name: string; instructions: string }[]>(page.request, "template.list", { projectId });
    const instructions = templates.find((t) => t.name === "claude-coder")!.instructions;
    expect(instructions.length).toBeGreaterThan(100);
    expect(await sh("stat -c '%u:%g' /workspace/CLAUDE.md; cat /workspace/CLAUDE.md")).toBe(`1000:1000\n${instructions}`);
    await page.goto(`/projects/${projectId}/agents/${agentId}/files`);
    await fileButton(page, "CLAUDE.md").click();
    const firstLine = instructions.split("\n").find((l) => l.trim())!.trim();
    // The first editor of a fresh server loads Monaco: allow for a slow, shared machine.
    await expect(editorLines(page)).toContainText(firstLine.slice(0, 40), { timeout: 90_000 });
    await shot(page, "00-instructions");
    await sh("printf '# Hello\\n\\nFirst line.\\n' > /workspace/hello.md && printf 'Be brief.\\n' > /workspace/CLAUDE.md && mkdir -p /workspace/src && echo 'export const x = 1;' > /workspace/src/x.ts");
  });

  await test.step("open a file from the tree, edit it in Monaco and save", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}/files`);
    await expect(fileButton(page, "CLAUDE.md")).toBeVisible();
    await expect(tree(page).getByText("Capabilities")).toHaveCount(0); // capabilities are outside the tree
    await expect(page.getByRole("heading", { name: "Capabilities" })).toBeVisible();
    await expect(page.getByText(AGENT_IMAGE_VERSION)).toBeVisible();
    await fileButton(page, "hello.md").click();
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

  await test.step("a file the agent writes appears in the open tree, without a reload (the daemon watches the open directories)", async () => {
    await expect(fileButton(page, "from-the-agent.txt")).toHaveCount(0);
    await sh("echo 'written in the container' > /workspace/from-the-agent.txt");
    await expect(fileButton(page, "from-the-agent.txt")).toBeVisible({ timeout: 5_000 });
  });

  await test.step("edit CLAUDE.md and see the reload notice", async () => {
    await fileButton(page, "CLAUDE.md").click();
    await expect(editorLines(page)).toContainText("Be brief.", { timeout: 30_000 });
    await page.getByTestId("code-editor").locator(".view-line").first().click();
    await page.keyboard.press("End");
    await page.keyboard.type(" Answer in English.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const notice = page.getByRole("status").filter({ hasText: "Instructions reloaded" });
    await expect(notice).toBeVisible({ timeout: 20_000 });
    await expect(notice).toContainText("CLAUDE.md");
    await shot(page, "03-reloaded");
  });

  await test.step("a change inside the container under unsaved edits offers keep mine or take theirs (asking first)", async () => {
    await page.getByTestId("code-editor").locator(".view-line").first().click();
    await page.keyboard.press("End");
    await page.keyboard.type(" Mine.");
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    await sh("printf 'Changed by the agent.\\n' > /workspace/CLAUDE.md");
    const alert = page.getByRole("alert").filter({ hasText: "This file changed underneath you" });
    await expect(alert).toBeVisible({ timeout: 20_000 });
    await shot(page, "04-underneath");
    await alert.getByRole("button", { name: "Take theirs" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Take their version?" });
    await expect(confirm).toBeVisible();
    await confirm.getByRole("button", { name: "Take theirs" }).click();
    await expect(editorLines(page)).toContainText("Changed by the agent.");
    await expect(page.getByText("Unsaved changes")).toHaveCount(0);
  });

  await test.step("a draft survives switching to Chat and back, and another page and back; the tree marks it", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}?tab=files`);
    await fileButton(page, "hello.md").click();
    await expect(editorLines(page)).toContainText("Edited in the browser.", { timeout: 30_000 });
    await typeAtEnd(page, " Draft kept.");
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    await expect(fileButton(page, "hello.md")).toContainText("(draft not saved)");
    await page.getByRole("tab", { name: "Chat" }).click();
    await expect(page.getByTestId("code-editor")).toHaveCount(0);
    await page.getByRole("tab", { name: "Files" }).click();
    await expect(editorLines(page)).toContainText("Draft kept.", { timeout: 30_000 });
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    // Another page of the app (the full-page editor), then back to the agent page.
    await page.getByRole("link", { name: "Open the full-page editor" }).click();
    await expect(page).toHaveURL(new RegExp(`/agents/${agentId}/files`));
    await expect(editorLines(page)).toContainText("Draft kept.", { timeout: 30_000 });
    await expect(fileButton(page, "hello.md")).toContainText("(draft not saved)");
    await page.locator(`a[href$="/agents/${agentId}?tab=files"]`).first().click();
    await expect(page).toHaveURL(new RegExp(`/agents/${agentId}\\?tab=files`));
    await expect(editorLines(page)).toContainText("Draft kept.", { timeout: 30_000 });
    await shot(page, "05-draft-kept");
    expect(await sh("cat /workspace/hello.md")).not.toContain("Draft kept.");
  });

  await test.step("discarding asks first; Keep editing keeps the draft, Discard drops it", async () => {
    await page.getByRole("button", { name: "Discard", exact: true }).click();
    const ask = page.getByRole("alertdialog", { name: "Discard your changes?" });
    await expect(ask).toBeVisible();
    await shot(page, "06-discard-prompt");
    await ask.getByRole("button", { name: "Keep editing" }).click();
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    await page.getByRole("button", { name: "Close /workspace/hello.md" }).click();
    const askClose = page.getByRole("alertdialog", { name: "Close and discard your changes?" });
    await askClose.getByRole("button", { name: "Discard changes" }).click();
    await expect(page.getByTestId("code-editor")).toHaveCount(0);
    await expect(fileButton(page, "hello.md")).not.toContainText("(draft not saved)");
    await fileButton(page, "hello.md").click();
    await expect(editorLines(page)).toContainText("Edited in the browser.", { timeout: 30_000 });
    await expect(editorLines(page)).not.toContainText("Draft kept.");
    await expect(page.getByText("Unsaved changes")).toHaveCount(0);
  });

  await test.step("?path= opens the file, on the files page and on the agent page", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}/files?path=/workspace/src/x.ts`);
    await expect(editorLines(page)).toContainText("export const x = 1;", { timeout: 30_000 });
    await page.goto(`/projects/${projectId}/agents/${agentId}?tab=files&path=/workspace/hello.md`);
    await expect(editorLines(page)).toContainText("Edited in the browser.", { timeout: 30_000 });
  });

  await test.step("new file, new folder, rename and move", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}/files`);
    await page.getByRole("button", { name: "New file" }).click();
    let dialog = page.getByRole("dialog", { name: "New file" });
    await dialog.getByLabel("Name").fill("hello.md");
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect(dialog.getByRole("alert")).toContainText("already exists");
    await dialog.getByLabel("Name").fill("notes.txt");
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("heading", { name: "/workspace/notes.txt" })).toBeVisible();
    expect(await sh("stat -c '%u %s' /workspace/notes.txt")).toBe("1000 0\n");
    await page.getByRole("button", { name: "New folder" }).click();
    dialog = page.getByRole("dialog", { name: "New folder" });
    await dialog.getByLabel("Name").fill("docs");
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect(dialog).toBeHidden();
    await expect(tree(page).getByRole("button", { name: "docs", exact: true })).toBeVisible();
    expect(await sh("stat -c '%u %F' /workspace/docs")).toBe("1000 directory\n");
    await tree(page).getByRole("button", { name: "More actions for notes.txt" }).click();
    await page.getByRole("menuitem", { name: "Rename or move" }).click();
    dialog = page.getByRole("dialog", { name: "Rename or move" });
    await expect(dialog.getByLabel("New path")).toHaveValue("/workspace/notes.txt");
    await dialog.getByLabel("New path").fill("/workspace/docs/notes.md");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("heading", { name: "/workspace/docs/notes.md" })).toBeVisible();
    expect(await sh("ls /workspace/docs; ls /workspace | grep -c notes.txt || true")).toBe("notes.md\n0\n");
  });

  await test.step("upload by drag and drop onto a folder (chunked), a too-large file is refused clearly, and download", async () => {
    const size = 2_500_000;
    const expected = createHash("sha256")
      .update(Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 251)))
      .digest("hex");
    const dataTransfer = await page.evaluateHandle((n) => {
      const dt = new DataTransfer();
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 7) % 251;
      dt.items.add(new File([bytes], "big.bin", { type: "application/octet-stream" }));
      return dt;
    }, size);
    const folder = page.getByTestId("dir:/workspace/docs");
    await folder.dispatchEvent("dragenter", { dataTransfer });
    await folder.dispatchEvent("dragover", { dataTransfer });
    await folder.dispatchEvent("drop", { dataTransfer });
    await expect(page.getByText("Uploaded", { exact: true })).toBeVisible({ timeout: 30_000 });
    await expect(tree(page).getByRole("button", { name: /^big\.bin/ })).toBeVisible();
    expect(await sh("stat -c '%u %s' /workspace/docs/big.bin; sha256sum /workspace/docs/big.bin | cut -d' ' -f1; ls -A /workspace/docs | grep -c armory-upload || true")).toBe(`1000 ${size}\n${expected}\n0\n`);
    // Over the limit (10 MiB by default): refused in the browser with the limit named.
    await page.getByTestId("upload-input").setInputFiles({ name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(11 * 1024 * 1024) });
    await expect(page.getByRole("alert").filter({ hasText: "huge.bin is 11 MiB; files can be at most 10 MiB" })).toBeVisible();
    // Download a file.
    await tree(page).getByRole("button", { name: "More actions for hello.md" }).click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("menuitem", { name: "Download" }).click()]);
    expect(download.suggestedFilename()).toBe("hello.md");
    expect(await readFile((await download.path())!, "utf8")).toContain("Edited in the browser.");
  });

  await test.step("Files has no serious accessibility violations; screenshots at desktop and phone width", async () => {
    await fileButton(page, "hello.md").click();
    await expect(editorLines(page)).toContainText("Edited in the browser.", { timeout: 30_000 });
    const axe = await new AxeBuilder({ page }).include('aside[aria-label="File tree"]').include('section[aria-label="Editor"]').analyze();
    const bad = axe.violations.filter((v) => v.impact === "critical" || v.impact === "serious");
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.screenshot({ path: `${SHOTS}/files-1440x900.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SHOTS}/files-390x844.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  await test.step("closing or reloading with a draft asks first (beforeunload)", async () => {
    await typeAtEnd(page, " Unsaved at the end.");
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.type());
      void d.accept();
    });
    await page.reload();
    expect(dialogs).toEqual(["beforeunload"]);
  });

  expect(external, "requests that left the machine").toEqual([]);
  expect(browserErrors).toEqual([]);
});

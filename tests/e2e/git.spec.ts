// The repository-to-commit loop in a real browser against the production server, the real Docker
// engine, a real agent container and a real git server (git http-backend behind HTTPS with a
// token, tests/support/git-server.ts): an agent created with the repository clones it (shown on its
// page), a file the agent changes shows on the Changes tab with its status letter and +/- counts,
// its side-by-side diff, the whole patch; a commit from the tab lands in the repository, and a
// push arrives on the server. A first clone with a wrong token fails and the Retry button clones
// again once the secret is fixed. Screenshots for the README ("From repository to pull request").
// The agent reaches the git server only through Armory's egress proxy, whose allowlist takes
// dotted host names (no single-label names like a machine's own host name): the spec serves git
// at git.armory.test (ARMORY_E2E_GIT_HOST names another), which must resolve to this machine's
// loopback: an /etc/hosts line "127.0.0.1 git.armory.test" (`.ci/run` adds it).
// Run alone: ARMORY_E2E_PORT=3411 npx playwright test tests/e2e/git.spec.ts
import { randomUUID } from "node:crypto";
import dns from "node:dns/promises";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";
import { startGitServer, type GitServer } from "../support/git-server";

const SHOTS = "test-results/screenshots";
const TOKEN = "ghp_e2e_token_never_in_config_77aa";
const docker = createDockerClient();
let projectId = "";
let agentId = "";
let server: GitServer | undefined;

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/git-${step}.png` });
}

async function trpc<T>(request: APIRequestContext, path: string, input: unknown, method: "query" | "mutation" = "query"): Promise<T> {
  const res =
    method === "mutation"
      ? await request.post(`/api/trpc/${path}`, { data: { json: input } })
      : await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: { json: T } } }).result.data.json;
}

/** Runs a shell script in the agent container as the agent user; returns stdout. */
async function sh(script: string): Promise<string> {
  const list = await docker.listContainers({ filters: { label: [`${LABELS.agentId}=${agentId}`] } });
  expect(list).toHaveLength(1);
  const exec = await docker.getContainer(list[0]!.Id).exec({ Cmd: ["bash", "-c", script], AttachStdout: true, AttachStderr: true, User: "1000:1000" });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on("data", (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => stream.on("end", resolve));
  let buf = Buffer.concat(chunks);
  const out: Buffer[] = [];
  while (buf.length >= 8) {
    const len = buf.readUInt32BE(4);
    out.push(buf.subarray(8, 8 + len));
    buf = buf.subarray(8 + len);
  }
  return Buffer.concat(out).toString("utf8");
}

test.afterAll(async () => {
  await server?.close();
  if (!projectId) return;
  const filters = { label: [`${LABELS.projectId}=${projectId}`] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("an agent's repository: clone, the Changes tab shows the agent's edit and its diff, commit and push", async ({ page }) => {
  test.setTimeout(600_000);
  const host = process.env.ARMORY_E2E_GIT_HOST || "git.armory.test";
  const resolved = await dns.lookup(host).catch(() => null);
  expect(resolved?.address, `${host} must resolve to this machine's loopback: add "127.0.0.1 ${host}" to /etc/hosts`).toMatch(/^127\./);
  server = await startGitServer({ host, token: TOKEN });
  server.createRepo("acme/shop", { "README.md": "# Shop\n", "src/price.ts": "export const price = 10;\n" });

  await test.step("sign up, a project, the token as a secret, a template allowed to reach the git host", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill(`e2e-git-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "New project" }).click();
    const pd = page.getByRole("dialog", { name: "New project" });
    await pd.getByLabel("Name").fill("Git E2E");
    await pd.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    projectId = /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    // A wrong token first: the clone fails, and Retry clones once the secret is fixed.
    await trpc(page.request, "secret.set", { projectId, name: "GIT_TOKEN", value: "ghp_wrong_token" }, "mutation");
    const coder = (await trpc<{ id: string; name: string }[]>(page.request, "template.list", { projectId })).find((t) => t.name === "claude-coder")!;
    // The git server's certificate is self-signed: agents of this test template do not verify it.
    const template = await trpc<{ id: string }>(
      page.request,
      "template.create",
      { projectId, copyFrom: coder.id, name: "git-coder", egressAllowlist: [host], env: { GIT_SSL_NO_VERIFY: "1" } },
      "mutation",
    );
    const agent = await trpc<{ id: string }>(
      page.request,
      "agent.create",
      { projectId, templateId: template.id, name: "shop-coder", start: true, repository: { url: `${server!.origin}/acme/shop.git`, credentialSecret: "GIT_TOKEN" } },
      "mutation",
    );
    agentId = agent.id;
  });

  await test.step("a failed clone shows git's reason and Retry; after the secret is fixed, Retry clones", async () => {
    await page.goto(`/projects/${projectId}/agents/${agentId}`);
    const status = page.getByTestId("repository-status");
    await expect(status.getByRole("alert")).toContainText("The repository could not be cloned", { timeout: 120_000 });
    await expect(status.getByRole("alert")).not.toContainText("ghp_wrong_token");
    await shot(page, "00-clone-failed");
    await trpc(page.request, "secret.set", { projectId, name: "GIT_TOKEN", value: TOKEN }, "mutation");
    await status.getByRole("button", { name: "Retry" }).click();
  });

  await test.step("the agent page shows the repository once cloned", async () => {
    await expect(page.getByTestId("repository-status")).toContainText(`${server!.origin}/acme/shop.git`, { timeout: 120_000 });
    await expect(page.getByTestId("repository-status")).toContainText("(main)", { timeout: 120_000 });
    await shot(page, "01-cloned");
  });

  await test.step("a file the agent changed shows on the Changes tab with its diff", async () => {
    await sh("cd /workspace && echo 'export const price = 12;' > src/price.ts && echo 'sale' > SALE.md");
    await page.getByRole("tab", { name: "Changes" }).click();
    const files = page.getByRole("list", { name: "Changed files" });
    // Live: the tab follows the workspace (git.onChange).
    // The row's own button ("M (modified) src/price.ts +1 -1"), not its Discard button.
    const priceRow = files.getByRole("button", { name: /\([\w, ]+\) src\/price\.ts/ });
    await expect(priceRow).toBeVisible({ timeout: 30_000 });
    await expect(priceRow).toContainText("M");
    await expect(priceRow).toContainText("+1");
    await expect(priceRow).toContainText("-1");
    await expect(files.getByRole("button", { name: /\(new, untracked\) SALE\.md/ })).toContainText("?");
    // The whole patch first.
    await expect(page.getByLabel("All changes", { exact: true })).toContainText("+export const price = 12;");
    await priceRow.click();
    const diff = page.getByRole("region", { name: "Diff of src/price.ts" });
    await expect(diff.locator(".original .view-lines")).toContainText("export const price = 10;", { timeout: 90_000 });
    await expect(diff.locator(".modified .view-lines:not(.line-delete)")).toContainText("export const price = 12;");
    await shot(page, "02-changes");
    const axe = await new AxeBuilder({ page }).exclude(".monaco-editor").analyze();
    expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  });

  await test.step("commit from the tab, then push: the commit arrives on the server", async () => {
    await page.getByLabel("Commit message").fill("Raise the price");
    await page.getByRole("button", { name: "Commit", exact: true }).click();
    await expect(page.getByText(/Committed [0-9a-f]{8} \(2 files\)/)).toBeVisible({ timeout: 30_000 });
    await expect(page.getByText("No changes: the working tree matches the last commit.")).toBeVisible({ timeout: 30_000 });
    expect(await sh("cd /workspace && git log -1 --format='%s|%an'")).toBe("Raise the price|Grace Hopper\n");
    await page.getByRole("button", { name: "Push" }).click();
    await expect(page.getByText("Pushed main")).toBeVisible({ timeout: 60_000 });
    expect(server!.git("acme/shop", ["log", "-1", "--format=%s", "main"]).trim()).toBe("Raise the price");
    expect(server!.git("acme/shop", ["show", "main:src/price.ts"])).toBe("export const price = 12;\n");
    await shot(page, "03-committed");
  });
});

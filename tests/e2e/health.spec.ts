// Health, logs and metrics in a real browser against the production server and the real Docker
// engine: the global /agents health table sorts and filters and fills in live resources; a line
// written inside an agent's container appears in its Logs tab; the Metrics tab charts it; and
// /metrics counts the requests the server just served.
import { randomUUID } from "node:crypto";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { LABELS } from "../../src/server/runtime/docker/containers";
import { writeContainerLog } from "../support/agent-exec";
import { docker, removeProjectDockerObjects } from "../support/docker";

const SHOTS = "test-results/screenshots";
const projectIds: string[] = [];

async function shot(page: Page, step: string) {
  await page.screenshot({ path: `${SHOTS}/health-${step}.png`, fullPage: true });
}

/** A tRPC mutation or query over HTTP as the signed-in browser (superjson envelope). */
async function trpc<T>(request: APIRequestContext, path: string, input: unknown, method: "query" | "mutation" = "mutation"): Promise<T> {
  const res =
    method === "mutation"
      ? await request.post(`/api/trpc/${path}`, { data: { json: input } })
      : await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: { json: T } } }).result.data.json;
}

test.afterAll(async () => {
  for (const id of projectIds) await removeProjectDockerObjects(id);
});

test("the health table sorts, filters and updates live; logs and metrics of an agent show live", async ({ page }) => {
  test.setTimeout(180_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));

  await test.step("sign up and create two projects with three agents through the API", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Ada Health");
    await page.getByLabel("Email").fill(`e2e-health-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();

    const req = page.request;
    const alpha = await trpc<{ id: string }>(req, "project.create", { name: "Alpha" });
    const beta = await trpc<{ id: string }>(req, "project.create", { name: "Beta" });
    projectIds.push(alpha.id, beta.id);
    const templates = await trpc<{ id: string; name: string }[]>(req, "template.list", { projectId: alpha.id }, "query");
    const templateId = templates.find((t) => t.name === "claude-coder")!.id;
    const small = { memoryMb: 128, cpus: 0.5 };
    await trpc(req, "agent.create", { projectId: alpha.id, templateId, name: "zeta-agent", overrides: small, start: true });
    await trpc(req, "agent.create", { projectId: alpha.id, templateId, name: "alpha-agent", overrides: small, start: false });
    await trpc(req, "agent.create", { projectId: beta.id, templateId, name: "mid-agent", overrides: small, start: true });
  });

  const rows = page.getByTestId("health-row");
  const names = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-agent")));

  await test.step("the global Agents page lists every agent, sorted by name, with live resources", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Agents" }).click();
    await expect(page).toHaveURL(/\/agents$/);
    await expect(page.getByRole("heading", { name: "Agents", level: 1 })).toBeVisible();
    await expect(rows).toHaveCount(3);
    expect(await names()).toEqual(["alpha-agent", "mid-agent", "zeta-agent"]);
    // Running agents get their memory figure from the collector without a reload.
    await expect(rows.filter({ hasText: "zeta-agent" }).getByTestId("cell-memory")).toContainText("/ 128 MB", { timeout: 20_000 });
    await expect(page.getByTestId("health-totals")).toContainText("3 agents · 2 running");
    await shot(page, "01-table");
  });

  await test.step("sorting by a column header flips the order", async () => {
    const header = page.getByRole("columnheader", { name: "Agent" });
    await header.getByRole("button").click();
    await expect(header).toHaveAttribute("aria-sort", "descending");
    expect(await names()).toEqual(["zeta-agent", "mid-agent", "alpha-agent"]);
    await page.getByRole("columnheader", { name: "Project" }).getByRole("button").click();
    await expect(page.getByRole("columnheader", { name: "Project" })).toHaveAttribute("aria-sort", "ascending");
    expect(await names()).toEqual(["alpha-agent", "zeta-agent", "mid-agent"]);
  });

  await test.step("filters narrow the table and its totals", async () => {
    await page.getByLabel("Filter by project").selectOption({ label: "Beta" });
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute("data-agent", "mid-agent");
    await expect(page.getByTestId("health-totals")).toContainText("1 agent · 1 running");
    await page.getByLabel("Filter by project").selectOption({ label: "All projects" });
    await page.getByLabel("Filter by status").selectOption({ label: "Running" });
    await expect(rows).toHaveCount(2);
    expect(await names()).not.toContain("alpha-agent");
    await page.getByLabel("Filter by template").selectOption({ label: "claude-coder" });
    await expect(rows).toHaveCount(2);
    await page.getByLabel("Filter by status").selectOption({ label: "All statuses" });
    await page.getByLabel("Search agents by name").fill("zeta");
    await expect(rows).toHaveCount(1);
    await shot(page, "02-filtered");
  });

  await test.step("a line written inside the container appears in the agent's Logs tab", async () => {
    await rows.first().getByRole("link", { name: "zeta-agent" }).click();
    await expect(page.getByRole("heading", { name: "zeta-agent" })).toBeVisible();
    await page.getByRole("tab", { name: "Logs" }).click();
    const view = page.getByTestId("log-view");
    await expect(page.getByTestId("logs-connection")).toHaveText("Live");
    const marker = `hello-from-e2e-${randomUUID().slice(0, 8)}`;
    const [container] = await docker.listContainers({ filters: { label: [`${LABELS.projectId}=${projectIds[0]}`] } });
    await writeContainerLog(container!.Id, `echo "${marker} out"; echo "${marker} err" >&2`);
    await expect(view.getByText(`${marker} out`)).toBeVisible();
    const errLine = view.getByTestId("log-line").filter({ hasText: `${marker} err` });
    await expect(errLine).toHaveAttribute("data-stream", "stderr");
    // Search narrows the view to matching lines.
    await page.getByLabel("Search the log").fill(marker);
    await expect(view.getByTestId("log-line")).toHaveCount(2);
    await shot(page, "03-logs");
  });

  await test.step("the Metrics tab charts CPU, memory and network live", async () => {
    await page.getByRole("tab", { name: "Metrics" }).click();
    await expect(page.getByTestId("metric-memory")).toContainText("of 128 MB");
    await expect(page.getByTestId("metrics-charts")).toBeVisible({ timeout: 20_000 });
    await expect(page.getByRole("figure", { name: "CPU (% of one core)" })).toBeVisible();
    await shot(page, "04-metrics");
  });

  await test.step("/metrics counts the request the server just served", async () => {
    const count = async () => {
      const text = await (await page.request.get("/metrics")).text();
      const m = /^armory_http_request_duration_seconds_count\{method="GET",route="\/api\/health",status="200"\} (\d+)$/m.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await count();
    expect((await page.request.get("/api/health")).status()).toBe(200);
    expect(await count()).toBe(before + 1);
  });

  expect(browserErrors).toEqual([]);
});

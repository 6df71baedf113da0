// The OpenAI-compatible endpoint against the production server (the Next route handler): the
// card on the project's Notifications page shows the base URL, the models and the examples; the
// official `openai` client, using exactly that base URL and a machine token, lists the agent,
// gets an answer from the real CLI in the agent's container (the built-in demo model) and streams
// one over server-sent events.
import { randomUUID } from "node:crypto";
import OpenAI from "openai";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { removeProjectDockerObjects } from "../support/docker";

const SHOTS = "test-results/screenshots";
const projectIds: string[] = [];

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

test("the endpoint card shows what to use; the openai client chats with the agent through it", async ({ page }) => {
  test.setTimeout(240_000);
  const browserErrors: string[] = [];
  page.on("pageerror", (err) => browserErrors.push(err.message));
  let projectId = "";
  let token = "";

  await test.step("sign up, create a project with a running agent and a machine token", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Ada OpenAI");
    await page.getByLabel("Email").fill(`e2e-openai-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
    const req = page.request;
    projectId = (await trpc<{ id: string }>(req, "project.create", { name: "OpenAI E2E" })).id;
    projectIds.push(projectId);
    const templates = await trpc<{ id: string; name: string }[]>(req, "template.list", { projectId }, "query");
    const templateId = templates.find((t) => t.name === "claude-coder")!.id;
    await trpc(req, "agent.create", { projectId, templateId, name: "support-bot", overrides: { memoryMb: 1024 }, start: true });
    token = (await trpc<{ token: string }>(req, "token.create", { name: "openai e2e", scopes: ["read", "write"] })).token;
  });

  let baseURL = "";
  await test.step("the Notifications page's card: base URL, models, examples, where to get a token", async () => {
    await page.goto(`/projects/${projectId}/notifications`);
    const card = page.getByTestId("openai-endpoint");
    await expect(card.getByRole("heading", { name: "OpenAI-compatible endpoint" })).toBeVisible();
    baseURL = (await card.getByTestId("openai-base-url").textContent())!.trim();
    expect(baseURL).toBe(`${new URL(page.url()).origin}/api/openai/${projectId}/v1`);
    await expect(card.getByTestId("openai-models")).toHaveText("support-bot");
    await expect(card.getByLabel("curl", { exact: true })).toContainText(`curl ${baseURL}/chat/completions`);
    await expect(card.getByLabel("curl", { exact: true })).toContainText('"model": "support-bot"');
    await expect(card.getByLabel("Node (openai npm package)", { exact: true })).toContainText(`baseURL: "${baseURL}"`);
    await expect(card.getByRole("link", { name: "create a token" })).toHaveAttribute("href", "/settings/tokens");
    await page.screenshot({ path: `${SHOTS}/openai-card.png`, fullPage: true });
  });

  const openai = () => new OpenAI({ apiKey: token, baseURL, maxRetries: 0, timeout: 120_000 });

  await test.step("the client lists the agent as a model and gets its answer", async () => {
    expect((await openai().models.list()).data.map((m) => m.id)).toEqual(["support-bot"]);
    const { data, response } = await openai()
      .chat.completions.create({ model: "support-bot", messages: [{ role: "user", content: "Hello from the e2e test" }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toContain('You said: "Hello from the e2e test"');
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-armory-session")).toMatch(/^[0-9a-f-]{36}$/);
  });

  await test.step("a streamed answer arrives in chunks over the production server", async () => {
    const stream = await openai().chat.completions.create({ model: "support-bot", messages: [{ role: "user", content: "Stream this please" }], stream: true });
    const deltas: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toContain('You said: "Stream this please"');
    expect(finish).toBe("stop");
  });

  await test.step("a browser session is not a way in: the endpoint wants a token", async () => {
    const res = await page.request.get(`${baseURL}/models`);
    expect(res.status()).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
  });

  expect(browserErrors).toEqual([]);
});

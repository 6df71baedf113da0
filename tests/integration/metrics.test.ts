// GET /metrics: valid Prometheus text that counts the requests just made, open subscriptions and
// agents by state; behind the metrics token when one is configured.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentStatusEvent } from "@/server/api/routers/agent/schemas";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory } from "../support/armory";
import { DB_KINDS } from "../support/databases";

const TOKEN = "metrics-token-0123456789abcdef";
const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*",?)*\})? (-?[0-9.]+(?:e[+-]?\d+)?|[Nn]a[Nn]|[+-]Inf)( \d+)?$/;

/** Parses the Prometheus text format strictly: every line is a comment, a HELP/TYPE line or a sample. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

describe.each(DB_KINDS)("/metrics on %s", (kind) => {
  let armory: TestArmory;
  let http: Awaited<ReturnType<typeof startHttp>>;

  beforeAll(async () => {
    armory = await startTestArmory(kind, { ARMORY_METRICS_TOKEN: TOKEN });
    http = await startHttp(() => armory.services);
  });
  afterAll(async () => {
    await http?.close();
    await armory?.close();
  });

  const scrape = async () => {
    const res = await fetch(`${http.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };
  const HEALTH_COUNT = 'armory_http_request_duration_seconds_count{method="GET",route="/api/health",status="200"}';

  it("refuses scrapes without the configured token", async () => {
    expect((await fetch(`${http.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${http.url}/metrics`, { headers: { authorization: "Bearer nope-nope-nope-nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("parses as Prometheus text and counts a request just made", async () => {
    const before = (await scrape()).get(HEALTH_COUNT) ?? 0;
    expect((await fetch(`${http.url}/api/health`)).status).toBe(200);
    const after = await scrape();
    expect(after.get(HEALTH_COUNT)).toBe(before + 1);
    expect(after.get("armory_process_process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect([...after.keys()].some((k) => k.startsWith("armory_chat_turn_duration_seconds_bucket"))).toBe(false); // no turns yet
  });

  it("names tRPC procedures as routes, counts open subscriptions and agents by state", async () => {
    const user = await signUp(armory.services);
    const caller = await callerFor(armory.services, user);
    const project = await caller.project.create({ name: "Metrics" });
    await fetch(`${http.url}/api/trpc/project.list`, { headers: { cookie: user.cookie } });
    expect((await scrape()).get('armory_http_request_duration_seconds_count{method="GET",route="/api/trpc/project.list",status="200"}')).toBeGreaterThanOrEqual(1);

    const stream = ((await caller.agent.onStatus({ projectId: project.id })) as AsyncIterable<AgentStatusEvent>)[Symbol.asyncIterator]();
    await stream.next();
    expect((await scrape()).get('armory_open_subscriptions{procedure="agent.onStatus"}')).toBe(1);
    await stream.return?.();
    expect((await scrape()).get('armory_open_subscriptions{procedure="agent.onStatus"}')).toBe(0);

    const template = (await caller.template.list({ projectId: project.id }))[0]!;
    await armory.services.db.prisma.agent.create({
      data: {
        projectId: project.id,
        name: "counted",
        templateId: template.id,
        image: "armory-agent:test",
        model: "m",
        memoryMb: 128,
        cpus: 1,
        pidsLimit: 64,
        permissionMode: "default",
        observedState: "exited",
        workspaceVolume: "w",
        sessionVolume: "s",
      },
    });
    expect((await scrape()).get('armory_agents{state="exited"}')).toBe(1);
  });
});

// The Docker-backed path of "permissions hold for the life of a stream" (the other causes and
// streams: tests/integration/stream-revocation.test.ts): a removed member's logs.follow over real
// HTTP (SSE), which follows a real container's log, ends with 403 within a second, while another
// member's follow of the same container keeps delivering new lines.
import type { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLineView } from "@/server/api/routers/logs/schemas";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { onAccessChange } from "@/server/trust/access-events";
import { writeContainerLog } from "../support/agent-exec";
import { callerFor, signUp, startHttp, startTestArmory, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { httpClient } from "../support/http-server";

describe("a Docker-backed stream ends when its permission does", () => {
  let armory: TestArmory;
  let app: { url: string; close(): Promise<void> };
  let projectId: string;
  let agentId: string;
  let containerId: string;
  let owner: Awaited<ReturnType<typeof callerFor>>;
  const unsubscribes: (() => void)[] = [];

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    armory = await startTestArmory(suiteDb("postgres"));
    armory.services.startBackground();
    app = await startHttp(() => armory.services);
    owner = await callerFor(armory.services, await signUp(armory.services, { name: "Owner" }));
    projectId = (await owner.project.create({ name: "Docker streams" })).id;
    const templateId = (await owner.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    agentId = (await owner.agent.create({ projectId, templateId, name: "logger", overrides: { memoryMb: 128 }, start: true })).id;
    containerId = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
  }, 600_000);

  afterAll(async () => {
    for (const u of unsubscribes) u();
    await app?.close();
    await armory?.close();
    await removeProjectDockerObjects(projectId);
  });

  /** Follows the agent's log over HTTP as `cookie`; resolves `matching(text)` when a line with it arrives. */
  function follow(cookie: string) {
    const waiting: { text: string; resolve: () => void }[] = [];
    let started!: () => void;
    let ended!: (v: { error: TRPCClientError<never> | null; at: number }) => void;
    const s = {
      started: new Promise<void>((r) => (started = r)),
      ended: new Promise<{ error: TRPCClientError<never> | null; at: number }>((r) => (ended = r)),
      line: (text: string) => new Promise<void>((resolve) => waiting.push({ text, resolve })),
    };
    const sub = httpClient(app.url, cookie).logs.follow.subscribe(
      { projectId, agentId, tail: 0 },
      {
        onStarted: () => started(),
        onData: (l: LogLineView) => {
          for (const w of waiting.filter((x) => l.message.includes(x.text))) w.resolve();
        },
        onError: (e) => ended({ error: e as TRPCClientError<never>, at: Date.now() }),
        onComplete: () => ended({ error: null, at: Date.now() }),
      },
    );
    unsubscribes.push(() => sub.unsubscribe());
    return s;
  }

  it("logs.follow of a removed member ends with 403 within a second; another member's follow keeps delivering", async () => {
    const m = await signUp(armory.services, { name: "Leaving" });
    const stay = await signUp(armory.services, { name: "Staying" });
    await owner.project.members.add({ projectId, email: m.email, role: "viewer" });
    await owner.project.members.add({ projectId, email: stay.email, role: "viewer" });
    const leaving = follow(m.cookie);
    const staying = follow(stay.cookie);
    await Promise.all([leaving.started, staying.started]);
    // Both follows are live: a new line reaches both.
    const first = [leaving.line("before-removal"), staying.line("before-removal")];
    await writeContainerLog(containerId, "echo before-removal");
    await Promise.all(first);

    const changedAt = new Promise<number>((resolve) => {
      const off = onAccessChange((c) => {
        if (c.kind !== "member" || c.userId !== m.id) return;
        off();
        resolve(Date.now());
      });
    });
    await owner.project.members.remove({ projectId, userId: m.id });
    const { error, at } = await leaving.ended;
    const ms = at - (await changedAt);
    console.log(`member removed (logs.follow, Docker): stream ended ${ms} ms after the change (${error?.message})`);
    expect((error?.data as { code?: string } | undefined)?.code).toBe("FORBIDDEN");
    expect(ms).toBeLessThan(1000);

    const after = staying.line("after-removal");
    await writeContainerLog(containerId, "echo after-removal");
    await after;
  });
});

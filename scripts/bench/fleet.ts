// Bench section "fleet" (issue 15): two Armory instances (separate processes) on one throwaway
// PostgreSQL, FLEET_DAEMONS fake agent daemons speaking armoryd's protocol (no containers; half
// dial each instance), FLEET_STREAMING of them answering a chat turn at once while each session is
// streamed through the *other* instance. Measures delivered events/s and the latency of each text
// delta from the daemon's send to the subscriber (same process, same clock), each instance's
// memory, and the reconnect storm: the time from killing one instance until every daemon is
// connected to the other.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { loadConfig } from "../../src/server/config";
import { openDatabase } from "../../src/server/db";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { FakeDaemon } from "../../tests/cluster/fake-daemon";
import { removeProjectDockerObjects } from "../../tests/support/docker";
import { startPostgresCluster } from "../../tests/support/postgres-cluster";
import { signedUpClient } from "./client";
import type { BenchSection } from "./sections";
import { stats } from "./stats";

const DAEMONS = Number(process.env.FLEET_DAEMONS ?? 1000);
const STREAMING = Math.min(Number(process.env.FLEET_STREAMING ?? 100), DAEMONS);
const DELTAS = Number(process.env.FLEET_DELTAS ?? 50);
const SECRET = "bench-secret-bench-secret-bench-secret-0123";
const P99_GOAL_MS = 250;
/** How long the streamed turns may take to end before the run fails. */
const TURNS_TIMEOUT_MS = 180_000;

interface Instance {
  url: string;
  self: string;
  child: ChildProcess;
  /** The tail of its stderr (its warnings and errors), for a failed run's message. */
  stderr(): string;
}

function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/cluster/instance-process.ts"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      if (l.startsWith("ARMORY_INSTANCE ")) resolve({ ...(JSON.parse(l.slice(16)) as { url: string; self: string }), child, stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`instance exited (${code}): ${stderr}`)));
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

export const fleetBench: BenchSection = {
  name: "fleet",
  async run() {
    const cluster = await startPostgresCluster();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-bench-fleet-"));
    const databaseUrl = await cluster.createDatabase("armory_fleet");
    const env = { DATABASE_URL: databaseUrl, ARMORY_AUTH_SECRET: SECRET, CLUSTER_INSTANCE_DATA_DIR: dataDir };
    const instances: Instance[] = [];
    const daemons: FakeDaemon[] = [];
    let projectId = "";
    try {
      // Set-up on a short-lived instance of the bench's own: migrations, the agents and their tokens.
      const setup = await createServices({
        config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, ARMORY_AGENT_IMAGE_AUTOBUILD: "false" }),
        db: await openDatabase({ databaseUrl }),
        log: createLogger({ level: "silent", format: "json" }),
        authSecret: SECRET,
      });
      const template = await setup.db.prisma.template.findFirstOrThrow({ where: { projectId: null } });
      instances.push(await startInstance(env));
      const [a] = instances;
      const user = await signedUpClient(a!.url, `fleet-${Date.now()}@example.test`);
      projectId = (await user.trpc.project.create.mutate({ name: "Fleet" })).id;
      const ids = Array.from({ length: DAEMONS }, () => crypto.randomUUID());
      await setup.db.prisma.agent.createMany({
        data: ids.map((id, i) => ({
          id,
          projectId,
          name: `fleet-${i}`,
          templateId: template.id,
          image: template.image,
          model: template.model,
          memoryMb: template.memoryMb,
          cpus: template.cpus,
          pidsLimit: template.pidsLimit,
          permissionMode: template.permissionMode,
          workspaceVolume: `armory-fleet-workspace-${id}`,
          sessionVolume: `armory-fleet-claude-${id}`,
          containerId: `fleet-${id.slice(0, 12)}`,
          desiredState: "running",
          observedState: "running",
          // Their containers do not exist: self-heal would try to re-create 1,000 of them on the
          // leader while it is measured (a daemon still dialing counts as unhealthy).
          restartPolicy: "never",
        })),
      });
      const tokens = new Map<string, string>();
      await pool(ids, 20, async (id) => void tokens.set(id, await setup.gateway.ensureAgentToken(id)));
      await setup.close();
      instances.push(await startInstance(env));
      const [, b] = instances;

      // Every daemon dials home: even ones to A, odd ones to B.
      const connectStart = performance.now();
      ids.forEach((id) => daemons.push(new FakeDaemon(tokens.get(id)!, `fleet-${id.slice(0, 12)}`)));
      await pool(daemons.map((d, i) => [d, i] as const), 50, ([d, i]) => d.connect(i % 2 ? b!.url : a!.url));
      const connectMs = performance.now() - connectStart;

      // FLEET_STREAMING turns at once, each sent and streamed through the instance its daemon is not on.
      const latencies: number[] = [];
      let delivered = 0;
      const turns = daemons.slice(0, STREAMING).map((d, i) => ({ d, agentId: ids[i]!, other: i % 2 ? a! : b! }));
      const other = new Map([[a!.url, user.trpc], [b!.url, (await import("../../tests/support/http-server")).httpClient(b!.url, user.cookie)]]);
      for (const t of turns) t.d.answerAtOnce = false;
      const sessions = await Promise.all(turns.map((t) => other.get(t.other.url)!.chat.send.mutate({ projectId, agentId: t.agentId, message: "stream, please" })));
      await Promise.all(turns.map((t) => t.d.until(() => t.d.turnWaiting)));
      let firstSend = 0;
      const unfinished: string[] = [];
      let lastReceipt = 0;
      const ended = turns.map(
        (t, i) =>
          new Promise<void>((resolve, reject) => {
            const sub = other.get(t.other.url)!.chat.stream.subscribe(
              { projectId, agentId: t.agentId, sessionId: sessions[i]!.sessionId, afterSeq: 0 },
              {
                onData: (d: unknown) => {
                  const e = ((d as { data?: unknown }).data ?? d) as { type: string; data: unknown };
                  delivered++;
                  lastReceipt = performance.now();
                  const m = /"fleet-t=([\d.]+)/.exec(JSON.stringify(e.data));
                  if (m) latencies.push(performance.now() - Number(m[1]));
                  if (e.type === "run_completed" || e.type === "run_failed" || e.type === "run_interrupted") {
                    if (e.type !== "run_completed") unfinished.push(`${t.agentId}: ${e.type} ${JSON.stringify(e.data).slice(0, 300)}`);
                    sub.unsubscribe();
                    resolve();
                  }
                },
                onError: reject,
              },
            );
          }),
      );
      // Give the subscriptions their replay, then all daemons answer at once.
      await new Promise((r) => setTimeout(r, 1000));
      firstSend = performance.now();
      for (const t of turns) t.d.answer("fleet", Array.from({ length: DELTAS }, () => `fleet-t=${performance.now()}`));
      // Bounded: a turn whose end is never stored must fail the run, not hang it.
      let endedCount = 0;
      for (const e of ended) void e.then(() => endedCount++, () => {});
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(ended),
        new Promise((_, reject) => (guard = setTimeout(() => reject(new Error(`only ${endedCount} of ${STREAMING} turns ended within ${TURNS_TIMEOUT_MS / 1000} s`)), TURNS_TIMEOUT_MS))),
      ]).finally(() => clearTimeout(guard));
      if (unfinished.length) throw new Error(`${unfinished.length} of ${STREAMING} turns did not complete:\n${unfinished.slice(0, 5).join("\n")}`);
      const streamSeconds = (lastReceipt - firstSend) / 1000;
      const memory = { a: rssMiB(a!.child.pid!), b: rssMiB(b!.child.pid!) };

      // The reconnect storm: A dies; its daemons dial again and the load balancer sends them to B.
      const onA = daemons.filter((_, i) => i % 2 === 0);
      const stormStart = performance.now();
      a!.child.kill("SIGKILL");
      await Promise.all(onA.map((d) => d.closed()));
      await pool(onA, 50, (d) => d.connect(b!.url));
      const stormMs = performance.now() - stormStart;

      const lat = stats(latencies);
      const report = {
        daemons: DAEMONS,
        streaming: STREAMING,
        deltasPerTurn: DELTAS,
        connectAllMs: Math.round(connectMs),
        deliveredEvents: delivered,
        eventsPerSecond: Math.round(delivered / streamSeconds),
        deltaLatencyMs: lat,
        memoryMiB: memory,
        reconnectStormMs: Math.round(stormMs),
      };
      return {
        report,
        goals: [{ name: "fleet: text delta latency across instances (p99)", value: lat.p99, unit: "ms", goal: `p99 < ${P99_GOAL_MS} ms`, met: lat.p99 < P99_GOAL_MS }],
        rows: [
          { measure: `fleet: ${STREAMING} turns streamed via the other instance`, "p50 / p99": `${lat.p50.toFixed(1)} / ${lat.p99.toFixed(1)} ms`, baseline: `${report.eventsPerSecond} events/s`, ratio: `goal p99 < ${P99_GOAL_MS} ms` },
          { measure: `fleet: ${DAEMONS} daemons connect / reconnect storm`, "p50 / p99": `${report.connectAllMs} / ${report.reconnectStormMs} ms`, baseline: `RSS A ${memory.a} MiB, B ${memory.b} MiB`, ratio: "" },
        ],
      };
    } catch (err) {
      // What the instances said is usually the reason (their log goes to their stderr).
      const said = instances.map((i, n) => `instance ${"AB"[n]} (${i.self}) stderr:\n${i.stderr().slice(-2000)}`).join("\n");
      throw new Error(`${(err as Error).message}\n${said}`, { cause: err });
    } finally {
      for (const d of daemons) d.close();
      for (const i of instances) if (i.child.exitCode === null) i.child.kill("SIGKILL");
      await removeProjectDockerObjects(projectId).catch(() => {});
      await cluster.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

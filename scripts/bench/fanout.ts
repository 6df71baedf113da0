// The fan-out measurement shared by the chat section (test harness server) and the server section
// (Armory's production server): subscribers in a child process (stream-clients.ts), every turn
// sent at once, then delivered events/s, latency, and lost / duplicated / reordered events.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { coreCount, cpuSeconds, cpuSecondsByName, machineBusyPercent, machineCpuSeconds } from "./proc";
import { stats, type Stats } from "./stats";
import type { StreamClientsRequest, StreamClientsResult } from "./stream-clients";

export interface FanOutResult {
  streams: number;
  eventsPerStream: number;
  wallMs: number;
  delivered: number;
  eventsPerSec: number;
  latencyMs: Stats;
  lost: number;
  duplicates: number;
  reorderedSessions: number;
  failedRuns: number;
  /**
   * Where the machine's CPU went while the turns ran, per delivered event: every process of the
   * figure (server, subscribers, the agent's CLIs and daemon, the engine) shares the same cores,
   * so `coreCount * 1e6 / machineMicrosPerEvent` is the most events/s this machine could show.
   */
  cpu: {
    machineBusyPercent: number;
    machineMicrosPerEvent: number;
    subscribersMicrosPerEvent: number;
    ceilingEventsPerSec: number;
    /** µs per delivered event of the other processes on the path, by process name (AGENT_SIDE). */
    byProcessMicrosPerEvent: Record<string, number>;
  };
}

/**
 * The processes on an event's way besides the server and the subscribers, by process name: the
 * agent's daemon, the CLIs (the bench's stand-in is named `claude` too), the project relay
 * every agent reaches Armory through, and PostgreSQL (none on PGlite).
 */
export const AGENT_SIDE = ["armoryd", "claude", "armory-relay", "postgres"] as const;

/** Forks the subscribers; resolves once every stream is open. `done` resolves when every session saw its turn end. */
export async function openStreamClients(request: StreamClientsRequest) {
  const child = fork(fileURLToPath(new URL("./stream-clients.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = (kind: string) =>
    new Promise<StreamClientsResult | undefined>((resolve, reject) => {
      const onMessage = (m: { kind: string; message?: string; result?: StreamClientsResult }) => {
        if (m.kind !== kind && m.kind !== "error") return;
        child.off("message", onMessage);
        if (m.kind === "error") reject(new Error(m.message));
        else resolve(m.result);
      };
      child.on("message", onMessage);
      child.once("exit", (code) => code && reject(new Error(`the stream clients exited with ${code}`)));
    });
  const ready = next("ready");
  child.send(request);
  await ready;
  const done = next("done") as Promise<StreamClientsResult>;
  done.catch(() => {});
  return { done, pid: child.pid!, stop: () => child.kill() };
}

/**
 * Sends every session's turn at once (`send`), waits for the subscribers, and checks each
 * session: every seq up to `lastSeq(session)` once and in order, the fake CLI's indexes 1..per.
 */
export async function fanOut(opts: {
  request: StreamClientsRequest;
  per: number;
  send: (sessionId: string) => Promise<unknown>;
  lastSeq: (sessionId: string) => Promise<number>;
  /** Called with every stream open, before the turns are sent (memory readings). */
  onOpen?: () => void | Promise<void>;
}): Promise<FanOutResult & { result: StreamClientsResult }> {
  const clients = await openStreamClients(opts.request);
  try {
    await opts.onOpen?.();
    const start = performance.now();
    const machineAtSend = machineCpuSeconds();
    const clientsAtSend = cpuSeconds(clients.pid);
    const othersAtSend = cpuSecondsByName(AGENT_SIDE);
    await Promise.all(opts.request.sessions.map((s) => opts.send(s.id)));
    const result = await clients.done;
    const wallMs = performance.now() - start;
    const machineAtEnd = machineCpuSeconds();
    const othersAtEnd = cpuSecondsByName(AGENT_SIDE);
    const clientsCpu = cpuSeconds(clients.pid) - clientsAtSend;
    let delivered = 0;
    let lost = 0;
    let duplicates = 0;
    let reordered = 0;
    let failed = 0;
    for (const s of opts.request.sessions) {
      const got = result.sessions[s.id]!;
      delivered += got.seqs.length;
      const unique = new Set(got.seqs).size;
      duplicates += got.seqs.length - unique;
      lost += (await opts.lastSeq(s.id)) - s.afterSeq - unique;
      lost += opts.per - new Set(got.indexes).size;
      if (got.seqs.some((q, k) => k > 0 && q <= got.seqs[k - 1]!) || got.indexes.some((i, k) => i !== k + 1)) reordered++;
      if (!got.completed) failed++;
    }
    return {
      streams: opts.request.sessions.length,
      eventsPerStream: opts.per,
      wallMs: Math.round(wallMs),
      delivered,
      eventsPerSec: Math.round(delivered / (wallMs / 1000)),
      latencyMs: stats(result.latenciesMs),
      lost,
      duplicates,
      reorderedSessions: reordered,
      failedRuns: failed,
      cpu: {
        machineBusyPercent: machineBusyPercent(machineAtSend, machineAtEnd),
        machineMicrosPerEvent: Math.round(((machineAtEnd.busy - machineAtSend.busy) * 1e6) / Math.max(delivered, 1)),
        subscribersMicrosPerEvent: Math.round((clientsCpu * 1e6) / Math.max(delivered, 1)),
        ceilingEventsPerSec: Math.round((coreCount * delivered) / Math.max(machineAtEnd.busy - machineAtSend.busy, 1e-9)),
        byProcessMicrosPerEvent: Object.fromEntries(AGENT_SIDE.map((n) => [n, Math.round(((othersAtEnd[n]! - othersAtSend[n]!) * 1e6) / Math.max(delivered, 1))])),
      },
      result,
    };
  } finally {
    clients.stop();
  }
}

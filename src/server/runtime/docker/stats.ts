// Container resource usage from the Docker stats API: one streaming request per container (the
// engine pushes a JSON document about every second), turned into Armory's resource sample.
import type Docker from "dockerode";
import { jsonLines } from "../../streams/ndjson";
import type { ResourceSample, StatsStreamHandle } from "../port";
import { dockerError } from "./client";

export type { ResourceSample, StatsStreamHandle };

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** The parts of Docker's stats document Armory reads (cgroup v1 and v2). */
export interface RawDockerStats {
  read?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  pids_stats?: { current?: number };
}

const MB = 1024 * 1024;
const round = (v: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

function cpuPercent(cur: CpuStats | undefined, prev: CpuStats | undefined): number {
  const total = cur?.cpu_usage?.total_usage;
  const prevTotal = prev?.cpu_usage?.total_usage;
  const system = cur?.system_cpu_usage;
  const prevSystem = prev?.system_cpu_usage;
  if (total === undefined || prevTotal === undefined || !system || !prevSystem) return 0;
  const cpuDelta = total - prevTotal;
  const systemDelta = system - prevSystem;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  const cpus = cur?.online_cpus || cur?.cpu_usage?.percpu_usage?.length || 1;
  return (cpuDelta / systemDelta) * cpus * 100;
}

/**
 * Docker's figures as Armory reports them (the way `docker stats` computes them): CPU in percent
 * of one core (200 = two cores busy), memory without the reclaimable page cache, totals of every
 * network interface and block device. `previous` replaces an empty precpu_stats (a stream's first
 * document, or one-shot reads).
 */
export function toResourceSample(raw: RawDockerStats, previous?: RawDockerStats): ResourceSample {
  const pre = raw.precpu_stats?.system_cpu_usage ? raw.precpu_stats : previous?.cpu_stats;
  const mem = raw.memory_stats ?? {};
  const ms = mem.stats ?? {};
  // cgroup v1: total_inactive_file; v2: inactive_file.
  const cache = ms.total_inactive_file ?? ms.inactive_file ?? 0;
  const usage = Math.max(0, (mem.usage ?? 0) - (cache < (mem.usage ?? 0) ? cache : 0));
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(raw.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of raw.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? "").toLowerCase();
    if (op === "read") read += e.value ?? 0;
    else if (op === "write") write += e.value ?? 0;
  }
  const time = raw.read && !raw.read.startsWith("0001-") ? new Date(raw.read) : new Date();
  return {
    time: Number.isNaN(time.getTime()) ? new Date() : time,
    cpuPercent: round(cpuPercent(raw.cpu_stats, pre)),
    memoryUsageMB: round(usage / MB),
    memoryLimitMB: round((mem.limit ?? 0) / MB),
    networkRxMB: round(rx / MB, 3),
    networkTxMB: round(tx / MB, 3),
    blockReadMB: round(read / MB, 3),
    blockWriteMB: round(write / MB, 3),
    pids: raw.pids_stats?.current ?? 0,
  };
}

/**
 * Follows one container's stats. `onSample` gets a sample per document the engine pushes; the
 * stream ends by itself when the container stops (`ended` then says why).
 */
export async function streamContainerStats(
  docker: Docker,
  containerId: string,
  onSample: (sample: ResourceSample) => void,
): Promise<StatsStreamHandle> {
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = (await docker.getContainer(containerId).stats({ stream: true })) as unknown as NodeJS.ReadableStream & { destroy?: () => void };
  } catch (err) {
    throw dockerError(err, "read the container's stats");
  }
  let previous: RawDockerStats | undefined;
  const parser = jsonLines<RawDockerStats>((raw) => {
    // A stopped container's last document has no read time and zeroed figures: skip it.
    if (!raw.read || raw.read.startsWith("0001-")) return;
    onSample(toResourceSample(raw, previous));
    previous = raw;
  });
  let stopped = false;
  const ended = new Promise<string>((resolve) => {
    stream.on("data", (chunk: Buffer) => parser.push(chunk));
    stream.once("end", () => {
      parser.end();
      resolve(stopped ? "stopped" : "the container stopped");
    });
    stream.once("close", () => resolve(stopped ? "stopped" : "closed"));
    stream.once("error", (err: Error) => resolve(err.message));
  });
  return {
    ended,
    stop() {
      stopped = true;
      stream.destroy?.();
    },
  };
}

import { describe, expect, it } from "vitest";
import { compareRawTime, parseLogLine, sinceAfter } from "./logs";
import { toResourceSample } from "./stats";

describe("resource samples from Docker stats", () => {
  const raw = {
    read: "2026-11-22T04:21:31.884823926Z",
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000, online_cpus: 2 },
    memory_stats: { usage: 100 * 2 ** 20, limit: 256 * 2 ** 20, stats: { total_inactive_file: 20 * 2 ** 20 } },
    networks: { eth0: { rx_bytes: 2 ** 20, tx_bytes: 2 ** 19 }, eth1: { rx_bytes: 2 ** 20, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: "Read", value: 3 * 2 ** 20 }, { op: "Write", value: 2 ** 20 }, { op: "Total", value: 4 * 2 ** 20 }] },
    pids_stats: { current: 7 },
  };

  it("computes CPU, memory without page cache, and network and block totals like docker stats", () => {
    expect(toResourceSample(raw)).toEqual({
      time: new Date("2026-11-22T04:21:31.884Z"),
      cpuPercent: 100, // 1 s of CPU over 2 s of two-core system time, times 2 cores
      memoryUsageMB: 80,
      memoryLimitMB: 256,
      networkRxMB: 2,
      networkTxMB: 0.5,
      blockReadMB: 3,
      blockWriteMB: 1,
      pids: 7,
    });
  });

  it("uses the previous document when precpu_stats is empty (a stream's first document)", () => {
    const first = { ...raw, precpu_stats: {} };
    expect(toResourceSample(first).cpuPercent).toBe(0);
    expect(toResourceSample(first, { cpu_stats: raw.precpu_stats }).cpuPercent).toBe(100);
  });

  it("reads cgroup v2 names (inactive_file, lower-case ops)", () => {
    const v2 = { ...raw, memory_stats: { usage: 50 * 2 ** 20, limit: 2 ** 30, stats: { inactive_file: 10 * 2 ** 20 } }, blkio_stats: { io_service_bytes_recursive: [{ op: "read", value: 2 ** 20 }] } };
    const s = toResourceSample(v2);
    expect(s.memoryUsageMB).toBe(40);
    expect(s.blockReadMB).toBe(1);
  });
});

describe("log lines", () => {
  it("splits Docker's timestamp from the message", () => {
    const l = parseLogLine("stderr", "2026-11-22T04:27:17.364854637Z hello world ");
    expect(l).toEqual({ timestamp: new Date("2026-11-22T04:27:17.364Z"), rawTime: "2026-11-22T04:27:17.364854637Z", stream: "stderr", message: "hello world " });
  });

  it("resumes strictly after a line, to the nanosecond", () => {
    const since = sinceAfter("2026-11-22T04:27:17.364854637Z");
    expect(since).toBe(`${Date.UTC(2026, 10, 22, 4, 27, 17) / 1000}.364854638`);
    expect(sinceAfter("2026-11-22T04:27:17.999999999Z")).toBe(`${Date.UTC(2026, 10, 22, 4, 27, 18) / 1000}.000000000`);
    expect(compareRawTime("2026-11-22T04:27:17.3Z", "2026-11-22T04:27:17.299999999Z")).toBe(1);
    expect(compareRawTime("2026-11-22T04:27:17.1Z", "2026-11-22T04:27:17.100000000Z")).toBe(0);
  });
});

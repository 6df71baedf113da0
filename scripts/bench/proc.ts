// What the bench reads from /proc: a process's resident memory and CPU time, and the machine's
// CPU time (to show where a figure's CPU goes when every part of it shares the same cores).
import fs from "node:fs";
import os from "node:os";

/** Resident memory of a process, in MB (VmRSS). */
export function rssMB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** User + system CPU seconds a process has used (utime + stime of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's busy and total CPU seconds since boot, over all cores (/proc/stat's cpu line). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  return { busy: (total - idle) / 100, total: total / 100 };
}

/** Busy share of the machine's cores between two machineCpuSeconds() readings, in percent. */
export function machineBusyPercent(from: { busy: number; total: number }, to: { busy: number; total: number }): number {
  return Math.round(((to.busy - from.busy) / Math.max(to.total - from.total, 1e-9)) * 100);
}

export const coreCount = os.cpus().length;

/**
 * CPU seconds used so far by the processes whose name (comm) is one of `names`, per name: the
 * agent's daemon, its CLIs, the project relay, PostgreSQL. Counts the processes alive now (one
 * that ended meanwhile takes its time with it), so read it while they still run.
 */
export function cpuSecondsByName(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (!(comm in out)) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out[comm]! += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return out;
}

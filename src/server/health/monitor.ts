// Self-heal: a health check per running agent (container state plus its daemon, armoryd, connected
// with a fresh heartbeat: src/server/agentd/health.ts) and the per-agent restart policy. Crashes, OOM kills and
// failed health checks restart the agent with exponential back-off up to a cap; repeated
// restarts are reported as a crash loop (never hidden), and every crash, restart and reason goes
// into the agent's activity log. Uses only the agent manager's public methods.
import type { AgentView } from "../api/routers/agent/schemas";
import type { AgentManager } from "../agents/manager";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db/generated/client";
import { engineMessage, type AgentRuntime } from "../runtime";
import { daemonHealth } from "../agentd/health";
import type { DaemonHub } from "../agentd/hub";
import type { Logger } from "../logger";
import { metrics } from "../metrics";

import type { HealthState, RestartPolicy } from "./states";

export { HEALTH_STATES, RESTART_POLICIES, type HealthState, type RestartPolicy } from "./states";

export interface SelfHealSettings {
  /** How often running agents are checked (their daemon's connection and heartbeat). */
  checkIntervalMs: number;
  /** Consecutive failed probes before the agent counts as unhealthy (and is restarted). */
  unhealthyAfter: number;
  /** A just-started agent is "starting" (not probed) this long. */
  startGraceMs: number;
  backoffBaseMs: number;
  /** The back-off cap. */
  backoffMaxMs: number;
  /** Automatic restarts in a row before Armory gives up (the agent stays down, shown as a crash loop). */
  maxRestarts: number;
  /** Restarts in a row from which the agent is shown as crash-looping. */
  crashLoopAfter: number;
  /** Running this long after an automatic restart resets the count. */
  stableAfterMs: number;
  /** A stopped container is looked at again after this long before it counts as crashed (a restart in progress is not a crash). */
  settleMs: number;
}

export const DEFAULT_SELF_HEAL: SelfHealSettings = {
  checkIntervalMs: 30_000,
  unhealthyAfter: 3,
  startGraceMs: 5_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  maxRestarts: 5,
  crashLoopAfter: 3,
  stableAfterMs: 120_000,
  settleMs: 1_000,
};

/** The wait before automatic restart number `previous + 1`: doubling from the base, capped. */
export function backoffDelay(previous: number, s: Pick<SelfHealSettings, "backoffBaseMs" | "backoffMaxMs">): number {
  return Math.min(s.backoffBaseMs * 2 ** Math.min(previous, 30), s.backoffMaxMs);
}

export interface ProbeState {
  ok: boolean;
  message: string;
  checkedAt: Date;
  failures: number;
  containerId: string;
}

export interface HealthFacts {
  id: string;
  desiredState: "running" | "stopped";
  observedState: string;
  oomKilled: boolean;
  statusDetail: string | null;
  restartPolicy: RestartPolicy;
  autoRestartCount: number;
  lastAutoRestartAt: Date | null;
  startedAt: Date | null;
  containerId: string | null;
}

export interface HealthMonitorOptions {
  prisma: PrismaClient;
  runtime: AgentRuntime;
  /** The agent daemons: an agent is healthy while its armoryd is connected and its heartbeat fresh. */
  hub: DaemonHub;
  agents: AgentManager;
  log: Logger;
  settings?: Partial<SelfHealSettings>;
  /**
   * The clock (ms since the epoch) the restart streak is measured with: when an automatic restart
   * happened and whether the agent has since run healthy for `stableAfterMs`. Date.now by default;
   * tests move it instead of waiting two minutes. Back-off timers are real timers either way.
   */
  clock?: () => number;
}

export class HealthMonitor {
  readonly settings: SelfHealSettings;
  private probes = new Map<string, ProbeState>();
  private pending = new Map<string, { timer: NodeJS.Timeout; at: Date; reason: string }>();
  /** The last failure handled per agent (container id + finish time), so repeats of one crash count once. */
  private handled = new Map<string, string>();
  private unwatch: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private firstChecks = new Map<string, NodeJS.Timeout>();
  private inflight = new Set<Promise<unknown>>();

  private readonly now: () => number;

  constructor(private readonly opts: HealthMonitorOptions) {
    this.settings = { ...DEFAULT_SELF_HEAL, ...opts.settings };
    this.now = opts.clock ?? Date.now;
  }

  private get prisma() {
    return this.opts.prisma;
  }

  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.opts.agents.bus.watch((event) => {
      if (event.type === "agent") this.onAgent(event.agent);
      else if (event.type === "removed") this.forget(event.agentId);
    });
    this.timer = setInterval(() => void this.checkAll(), this.settings.checkIntervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const t of this.firstChecks.values()) clearTimeout(t);
    this.firstChecks.clear();
    await Promise.allSettled([this.checking, ...this.inflight]);
  }

  /** Resolves when the crash handling, restarts and checks in progress are done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  private forget(agentId: string): void {
    const first = this.firstChecks.get(agentId);
    if (first) clearTimeout(first);
    this.firstChecks.delete(agentId);
    const p = this.pending.get(agentId);
    if (p) clearTimeout(p.timer);
    this.pending.delete(agentId);
    this.probes.delete(agentId);
    this.handled.delete(agentId);
  }

  probe(agentId: string): ProbeState | null {
    return this.probes.get(agentId) ?? null;
  }

  pendingRestart(agentId: string): { at: Date; reason: string } | null {
    const p = this.pending.get(agentId);
    return p ? { at: p.at, reason: p.reason } : null;
  }

  // ------------------------------------------------------------------ health, as shown

  /** The agent's health and a sentence saying why, from its row and what this process observed. */
  healthOf(a: HealthFacts, now = Date.now()): { health: HealthState; detail: string | null } {
    const s = this.settings;
    const running = a.observedState === "running";
    const recentRestarts = a.autoRestartCount >= s.crashLoopAfter;
    const pending = this.pendingRestart(a.id);
    const restartNote = pending ? ` Restarting in ${Math.max(0, Math.ceil((pending.at.getTime() - now) / 1000))} s.` : "";
    if (!running && a.desiredState === "stopped") return { health: "stopped", detail: null };
    if (recentRestarts) {
      const gaveUp = !running && a.autoRestartCount >= s.maxRestarts;
      return {
        health: "crash-loop",
        detail: gaveUp
          ? `Crash loop: restarted ${a.autoRestartCount} times in a row and still failing; Armory stopped retrying. ${a.statusDetail ?? ""}`.trim()
          : `Crash loop: ${a.autoRestartCount} automatic restarts in a row.${running ? "" : ` ${a.statusDetail ?? ""}`}${restartNote}`.trim(),
      };
    }
    if (!running) {
      if (a.oomKilled) return { health: "oom", detail: `Killed: out of memory.${restartNote}` };
      return { health: "down", detail: `${a.statusDetail ?? `The container is ${a.observedState}.`}${restartNote}` };
    }
    const probe = this.probes.get(a.id);
    if (!probe || (a.containerId && !probe.containerId.startsWith(a.containerId.slice(0, 12)))) {
      return { health: "starting", detail: "No health check yet." };
    }
    if (probe.ok) return { health: "healthy", detail: null };
    return {
      health: probe.failures >= s.unhealthyAfter ? "unhealthy" : "starting",
      detail: `${probe.message} (${probe.failures} failed check${probe.failures === 1 ? "" : "s"} in a row)`,
    };
  }

  // ------------------------------------------------------------------ reacting to the bus

  private onAgent(a: AgentView): void {
    if (a.observedState === "running" && a.containerId) {
      // A (re)started container gets its first health check once its start grace is over.
      const probe = this.probes.get(a.id);
      if ((!probe || !probe.containerId.startsWith(a.containerId)) && !this.firstChecks.has(a.id)) {
        const timer = setTimeout(() => {
          this.firstChecks.delete(a.id);
          void this.track(this.checkAgent(a.id));
        }, this.settings.startGraceMs);
        timer.unref();
        this.firstChecks.set(a.id, timer);
      }
      return;
    }
    // Exit code 0 is a clean stop (armoryd's answer to SIGTERM, e.g. during a restart): not a failure.
    const failed = a.oomKilled || (a.exitCode !== null && a.exitCode !== 0);
    if ((a.observedState === "exited" || a.observedState === "dead") && failed && a.desiredState === "running" && a.finishedAt) {
      const key = `${a.containerId}@${a.finishedAt.toISOString()}`;
      if (this.handled.get(a.id) === key) return;
      this.handled.set(a.id, key);
      this.probes.delete(a.id);
      void this.track(this.onFailure(a)).catch((err: unknown) =>
        this.opts.log.warn({ err: engineMessage(err), agentId: a.id }, "self-heal could not handle a crash"),
      );
    }
  }

  private async onFailure(a: AgentView): Promise<void> {
    // Give a restart in progress (by a person or by Armory) the time to show as running again.
    await new Promise((resolve) => setTimeout(resolve, this.settings.settleMs).unref());
    const now = await this.prisma.agent.findUnique({ where: { id: a.id }, select: { desiredState: true, containerId: true } });
    if (!now || now.desiredState !== "running" || !this.unwatch) return;
    if (await this.runningAgain(now.containerId, a.finishedAt)) return;
    // Removed (docker rm -f) rather than crashed: a deliberate act, shown as missing; Start re-creates it.
    if (now.containerId && (await this.opts.runtime.inspectContainer(now.containerId).catch(() => undefined)) === null) return;
    // Already handled (e.g. by this process before Armory restarted): an entry since the crash.
    const seen = await this.prisma.agentActivity.findFirst({
      where: { agentId: a.id, kind: { in: ["crashed", "oom"] }, createdAt: { gte: a.finishedAt! } },
      select: { id: true },
    });
    if (seen) return;
    const kind = a.oomKilled ? "oom" : "crashed";
    const reason = a.oomKilled ? "killed: out of memory" : (a.statusDetail ?? `exited with code ${a.exitCode}`);
    metrics().agentFailures.inc({ reason: kind });
    const row = await this.prisma.agent.findUnique({ where: { id: a.id }, select: { restartPolicy: true } });
    if (!row) return;
    await this.record(a.id, kind, a.oomKilled ? `Out of memory: the container was killed (exit code ${a.exitCode ?? 137}).` : `Crashed: ${reason}.`, {
      exitCode: a.exitCode,
      oomKilled: a.oomKilled,
      restartPolicy: row.restartPolicy,
    });
    if (row.restartPolicy === "never") return;
    await this.scheduleRestart(a.id, reason, a.finishedAt);
  }

  /** Docker says the container runs again, started after `since` (someone restarted it meanwhile). */
  private async runningAgain(containerId: string | null, since: Date | null): Promise<boolean> {
    if (!containerId) return false;
    const c = await this.opts.runtime.inspectContainer(containerId).catch(() => null);
    return c?.state === "running" && (!since || !c.startedAt || c.startedAt >= since);
  }

  /** Plans an automatic restart after the back-off; gives up (recorded) past the cap. */
  private async scheduleRestart(agentId: string, reason: string, crashedAt: Date | null = null): Promise<void> {
    if (this.pending.has(agentId) || !this.unwatch) return;
    const row = await this.prisma.agent.findUnique({ where: { id: agentId }, select: { autoRestartCount: true, restartPolicy: true } });
    if (!row || row.restartPolicy === "never") return;
    const s = this.settings;
    if (row.autoRestartCount >= s.maxRestarts) {
      await this.record(agentId, "gave-up", `Not restarting: ${row.autoRestartCount} automatic restarts in a row did not help. Start the agent by hand once the cause is fixed.`, { reason });
      return;
    }
    const delay = backoffDelay(row.autoRestartCount, s);
    const at = new Date(Date.now() + delay);
    const timer = setTimeout(() => {
      this.pending.delete(agentId);
      void this.track(this.restartNow(agentId, reason, crashedAt)).catch((err: unknown) =>
        this.opts.log.warn({ err: engineMessage(err), agentId }, "automatic restart failed"),
      );
    }, delay);
    timer.unref();
    this.pending.set(agentId, { timer, at, reason });
  }

  /** `crashedAt`: the crash being healed (null for an unhealthy, still running agent). */
  private async restartNow(agentId: string, reason: string, crashedAt: Date | null): Promise<void> {
    const row = await this.prisma.agent.findUnique({
      where: { id: agentId },
      select: { projectId: true, desiredState: true, observedState: true, autoRestartCount: true, containerId: true },
    });
    if (!row || row.desiredState !== "running" || !this.unwatch) return; // stopped by someone meanwhile
    if (crashedAt && (await this.runningAgain(row.containerId, crashedAt))) return; // started by someone meanwhile
    const attempt = row.autoRestartCount + 1;
    await this.prisma.agent.update({ where: { id: agentId }, data: { autoRestartCount: attempt, lastAutoRestartAt: new Date(this.now()) } });
    if (attempt === this.settings.crashLoopAfter) {
      await this.record(agentId, "crash-loop", `Crash loop: ${attempt} automatic restarts in a row. Last failure: ${reason}.`, { attempt });
    }
    try {
      if (row.observedState === "running") await this.opts.agents.restart(row.projectId, agentId);
      else await this.opts.agents.start(row.projectId, agentId);
      metrics().agentRestarts.inc({ result: "ok" });
      await this.record(agentId, "restarted", `Restarted automatically (attempt ${attempt} of ${this.settings.maxRestarts}) after: ${reason}.`, {
        attempt,
        reason,
        backoffMs: backoffDelay(attempt - 1, this.settings),
      });
    } catch (err) {
      metrics().agentRestarts.inc({ result: "failed" });
      await this.record(agentId, "restart-failed", `Automatic restart ${attempt} failed: ${engineMessage(err)}`, { attempt, reason });
      await this.scheduleRestart(agentId, reason, crashedAt);
    }
  }

  // ------------------------------------------------------------------ probing

  /** Probes every running agent once (a few at a time) and acts on the results. */
  checkAll(): Promise<void> {
    this.checking ??= this.runChecks().finally(() => (this.checking = null));
    return this.checking;
  }

  private async runChecks(): Promise<void> {
    let rows;
    try {
      rows = await this.prisma.agent.findMany({
        where: { observedState: "running", containerId: { not: null } },
        select: { id: true, containerId: true, startedAt: true, autoRestartCount: true, lastAutoRestartAt: true, restartPolicy: true },
      });
    } catch (err) {
      this.opts.log.warn({ err: engineMessage(err) }, "health checks could not list agents");
      return;
    }
    const now = Date.now();
    const queue = rows.filter((r) => !r.startedAt || now - r.startedAt.getTime() >= this.settings.startGraceMs);
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) await this.checkOne(r);
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
  }

  /** Health-checks one running agent now (and acts on the result). */
  async checkAgent(agentId: string): Promise<void> {
    const r = await this.prisma.agent.findUnique({
      where: { id: agentId },
      select: { id: true, containerId: true, startedAt: true, autoRestartCount: true, lastAutoRestartAt: true, restartPolicy: true, observedState: true },
    });
    if (r?.observedState === "running") await this.checkOne(r);
  }

  private async checkOne(r: {
    id: string;
    containerId: string | null;
    startedAt: Date | null;
    autoRestartCount: number;
    lastAutoRestartAt: Date | null;
    restartPolicy: RestartPolicy;
  }): Promise<void> {
    if (!r.containerId || !this.unwatch) return;
    // The daemon's connection and heartbeat, not an exec probe: no engine call.
    const { ok, message } = daemonHealth(this.opts.hub, r.id, r.containerId);
    metrics().healthChecks.inc({ result: ok ? "ok" : "failed" });
    const prev = this.probes.get(r.id);
    const sameContainer = prev?.containerId === r.containerId;
    const failures = ok ? 0 : (sameContainer ? prev!.failures : 0) + 1;
    this.probes.set(r.id, { ok, message, checkedAt: new Date(), failures, containerId: r.containerId });
    if (ok) {
      if (sameContainer && prev && prev.failures >= this.settings.unhealthyAfter) {
        await this.record(r.id, "healthy", "Healthy again: the agent's daemon answers.", {});
      }
      // Ran long enough since the last automatic restart: the streak is over.
      const since = r.lastAutoRestartAt?.getTime() ?? 0;
      if (r.autoRestartCount > 0 && this.now() - since >= this.settings.stableAfterMs) {
        await this.prisma.agent.update({ where: { id: r.id }, data: { autoRestartCount: 0 } });
      }
      return;
    }
    if (failures === this.settings.unhealthyAfter) {
      await this.record(r.id, "unhealthy", `Unhealthy: ${message} (${failures} checks in a row).`, { failures });
      if (r.restartPolicy === "on_failure") await this.scheduleRestart(r.id, `health check failed ${failures} times: ${message}`);
    }
  }

  // ------------------------------------------------------------------ activity

  private async record(agentId: string, kind: string, message: string, data: Prisma.InputJsonValue): Promise<void> {
    try {
      await this.prisma.agentActivity.create({ data: { agentId, kind, message, data } });
      this.opts.log.info({ agentId, kind }, message);
    } catch (err) {
      // The agent was removed meanwhile (foreign key): nothing to record.
      this.opts.log.debug({ agentId, kind, err: engineMessage(err) }, "could not record agent activity");
    }
  }

  /** Changes the agent's restart policy; a new policy also starts a fresh restart count. */
  async setRestartPolicy(agentId: string, policy: RestartPolicy): Promise<void> {
    await this.prisma.agent.update({ where: { id: agentId }, data: { restartPolicy: policy, autoRestartCount: 0 } });
    await this.record(agentId, "policy", `Restart policy set to ${policy === "never" ? "never" : "on failure"}.`, { policy });
    if (policy === "never") {
      const p = this.pending.get(agentId);
      if (p) clearTimeout(p.timer);
      this.pending.delete(agentId);
    }
  }
}

// An agent's health as its daemon reports it: healthy while armoryd is connected from the agent's
// current container and its heartbeat (with its self-report) is fresh. No exec probe: the engine
// is not asked at all. Used by the health monitor and by safe re-creates (rollouts).
import { DEAD_AFTER_MS } from "../../contracts/armoryd";
import type { DaemonHub, DaemonInfo } from "./hub";

export interface DaemonHealth {
  ok: boolean;
  message: string;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1000)} s`;
}

/** Judges the daemon of `agentId` in `containerId` now. */
export function daemonHealth(hub: DaemonHub, agentId: string, containerId: string, now = Date.now()): DaemonHealth {
  const info: DaemonInfo | null = hub.info(agentId);
  if (!info || info.state !== "connected") {
    const since = info?.disconnectedAt ? ` for ${seconds(now - info.disconnectedAt.getTime())}` : "";
    return { ok: false, message: `the agent's daemon (armoryd) is not connected${since}` };
  }
  if (info.containerId && info.containerId !== containerId) {
    return { ok: false, message: "the connected daemon runs in another container than the agent's current one" };
  }
  if (!hub.holds(agentId)) {
    // Held by another live Armory instance (several instances): its heartbeats and self-reports
    // go there, and that instance closes the connection when they stop (the daemon then counts as
    // disconnected here too). Judging it by the heartbeat it never sends here restarted healthy agents.
    return { ok: true, message: "armoryd is connected to another Armory instance, which follows its heartbeat" };
  }
  const heard = info.lastHeartbeatAt?.getTime() ?? info.connectedAt.getTime();
  if (now - heard > DEAD_AFTER_MS) return { ok: false, message: `the agent's daemon sent no heartbeat for ${seconds(now - heard)}` };
  const r = info.report;
  if (!r) return { ok: false, message: "the agent's daemon has not reported yet" };
  if (r.problems.length) return { ok: false, message: r.problems.join("; ") };
  return {
    ok: true,
    message: `armoryd answers (heartbeat ${seconds(now - heard)} ago; ${mb(r.rssBytes)} RSS, ${r.processes} Claude Code process${r.processes === 1 ? "" : "es"}, ${r.terminals} terminal${r.terminals === 1 ? "" : "s"})`,
  };
}

/**
 * Resolves when the daemon in `containerId` is connected and healthy (its first self-report
 * follows its hello within milliseconds); rejects after `timeoutMs` with the last reason.
 */
export async function waitHealthy(hub: DaemonHub, agentId: string, containerId: string, timeoutMs: number): Promise<DaemonHealth> {
  const deadline = Date.now() + timeoutMs;
  await hub.waitFor(agentId, { timeoutMs, containerId });
  for (;;) {
    const h = daemonHealth(hub, agentId, containerId);
    if (h.ok) return h;
    if (Date.now() >= deadline) throw new Error(h.message);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Lifecycle events of agent services on a Swarm. The manager's event stream has service events
// (create, update, remove) and node events (a node going down or coming back), but no task
// events, and container events only of its own node. So the follower listens to services and
// nodes, and looks at the agent services' tasks every POLL_MS besides: a task that changed state
// (started, failed, its node went down) becomes an event of its service. Each event only makes
// Armory inspect the agent again (AgentManager.observe), so a repeated event is harmless.
import type Docker from "dockerode";
import { LABELS } from "../agent-container";
import { DockerEventsFollower, type RawEvent } from "../docker/events";
import type { EventsFollowerOptions } from "../port";
import { listSwarmNodes } from "./placement";

/** How often the tasks are looked at. */
export const POLL_MS = 2000;

interface TaskRow {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Status?: { State?: string; ContainerStatus?: { ExitCode?: number } };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
}

export class SwarmEventsFollower extends DockerEventsFollower {
  private timer: NodeJS.Timeout | null = null;
  /** service id -> what its tasks looked like at the last look ("task@node:state,..."). */
  private seen = new Map<string, string>();
  private polling = false;

  constructor(docker: Docker, opts: EventsFollowerOptions) {
    super(docker, opts);
  }

  override start(): void {
    super.start();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  override stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    super.stop();
  }

  protected override filters(): Record<string, string[]> {
    return { type: ["service", "node"] };
  }

  protected override dispatch(raw: RawEvent): void {
    const time = raw.timeNano ? new Date(Math.floor(raw.timeNano / 1e6)) : new Date();
    const action = raw.Action ?? "";
    if (raw.Type === "service" && raw.Actor?.ID) {
      this.opts.onEvent({ action: `service-${action}`, containerId: raw.Actor.ID, agentId: null, exitCode: null, time });
    } else if (raw.Type === "node") {
      // A node changed (down, up, drained): look at the tasks now rather than at the next tick.
      void this.poll();
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const [tasks, nodes] = await Promise.all([
        this.docker.listTasks() as Promise<TaskRow[]>,
        listSwarmNodes(this.docker),
      ]);
      const nodeState = new Map(nodes.map((n) => [n.ID, n.Status?.State ?? "unknown"]));
      const byService = new Map<string, TaskRow[]>();
      for (const t of tasks) {
        if (!t.ServiceID || t.Spec?.ContainerSpec?.Labels?.[LABELS.managed] !== "true") continue;
        byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
      }
      const now = new Date();
      for (const [serviceId, list] of byService) {
        const key = list
          .map((t) => `${t.ID}@${nodeState.get(t.NodeID ?? "") ?? "-"}:${t.Status?.State ?? ""}`)
          .sort()
          .join(",");
        if (this.seen.get(serviceId) === key) continue;
        const first = !this.seen.has(serviceId);
        this.seen.set(serviceId, key);
        if (first) continue; // what it was before Armory looked: the reconcile on "up" covers it
        const agentId = list[0]?.Spec?.ContainerSpec?.Labels?.[LABELS.agentId] ?? null;
        const failed = list.find((t) => t.Status?.State === "failed");
        this.opts.onEvent({ action: "task", containerId: serviceId, agentId, exitCode: failed?.Status?.ContainerStatus?.ExitCode ?? null, time: now });
      }
      for (const id of [...this.seen.keys()]) if (!byService.has(id)) this.seen.delete(id);
    } catch (err) {
      // The events stream reports the manager going away; a failed look is retried at the next tick.
      this.opts.log.debug({ err: (err as Error).message }, "could not list the Swarm's tasks");
    } finally {
      this.polling = false;
    }
  }
}

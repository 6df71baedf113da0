// Directory watches in agents' containers, reference-counted: one daemon watch (armoryd's
// fs.watch, src/armoryd/dirwatch.ts) per agent and directory, however many subscribers show that
// directory. The first subscriber starts it, the last one stops it (fs.unwatch). Each `fs.changed`
// event of the daemon is handed to `publish` once per path a subscriber asked for (a directory
// reached through a symbolic link is watched once, at the path it resolves to, and reported
// under each path it was asked by).
//
// Watches outlive connections: the same daemon reconnecting still holds them; a daemon that is
// not the one that acknowledged a watch (it restarted, or the request was lost with the
// connection) is sent the watch again when it connects. A stop that could not reach the daemon is
// sent when it connects again. A watch whose directory vanished ends on the daemon's side (its
// last event says so) and is not sent again.
import { randomUUID } from "node:crypto";
import type { DaemonEvent } from "../../contracts/armoryd";
import type { DaemonHub, DaemonInfo } from "../agentd/hub";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import { baseName } from "./paths";

export interface WatchTarget {
  /** The directory as the subscriber asked for it (checked by its guard). */
  shown: string;
  /** Where it resolves in the container (what the daemon watches). */
  resolved: string;
  /** The file root `resolved` lies in. */
  root: string;
}

export interface WatchedChange {
  projectId: string;
  agentId: string;
  path: string;
  change: "written" | "deleted";
}

interface WatchRecord {
  key: string;
  watchId: string;
  projectId: string;
  agentId: string;
  resolved: string;
  root: string;
  /** Subscribers by the path they asked for. */
  shown: Map<string, number>;
  refs: number;
  /** The daemon that acknowledged the watch (null until one did). */
  daemonId: string | null;
  /** Settles when the first fs.watch was answered (rejects with its error). */
  ready: Promise<void>;
  /** The daemon ended it (the directory vanished). */
  ended: boolean;
}

/** The capability (hello.capabilities.supportedActions) of a daemon that serves fs.watch. */
export const WATCH_ACTION = "files-watch";

const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

export class DirectoryWatches {
  private readonly byKey = new Map<string, WatchRecord>();
  private readonly byId = new Map<string, WatchRecord>();
  /** Stops the daemon did not get (it was disconnected), by agent: sent when it connects. */
  private readonly unsent = new Map<string, Set<string>>();
  private readonly instance = randomUUID().slice(0, 8);
  private nextId = 1;

  constructor(
    private readonly hub: DaemonHub,
    private readonly publish: (change: WatchedChange) => void,
    private readonly log?: Logger,
  ) {
    hub.onAnyEvent((agentId, event) => this.onEvent(agentId, event));
    hub.onState((info) => {
      if (info.state === "connected") this.onConnected(info);
    });
  }

  /** Watches held for an agent (one per directory, whatever the number of subscribers). */
  count(agentId: string): number {
    let n = 0;
    for (const r of this.byId.values()) if (r.agentId === agentId && !r.ended) n++;
    return n;
  }

  /**
   * Holds a watch on each target until the returned release function is called (once is enough;
   * more calls do nothing). Rejects with the daemon's error (then nothing is held).
   */
  async acquire(ref: { projectId: string; agentId: string }, targets: WatchTarget[]): Promise<() => void> {
    const taken: [WatchRecord, string][] = [];
    const release = () => {
      for (const [rec, shown] of taken.splice(0)) this.release(rec, shown);
    };
    try {
      for (const t of targets) {
        const key = `${ref.agentId}\0${t.resolved}`;
        let rec = this.byKey.get(key);
        if (!rec || rec.ended) {
          const watchId = `armory-${this.instance}-${this.nextId++}`;
          rec = { key, watchId, ...ref, resolved: t.resolved, root: t.root, shown: new Map(), refs: 0, daemonId: null, ready: Promise.resolve(), ended: false };
          this.byKey.set(key, rec);
          this.byId.set(watchId, rec);
          rec.ready = this.send(rec);
        }
        rec.refs++;
        rec.shown.set(t.shown, (rec.shown.get(t.shown) ?? 0) + 1);
        taken.push([rec, t.shown]);
        await rec.ready;
      }
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  private async send(rec: WatchRecord): Promise<void> {
    const info = this.hub.info(rec.agentId);
    // A daemon from before fs.watch would drop the request as an unknown frame (no answer).
    if (info && !info.hello.capabilities.supportedActions.includes(WATCH_ACTION)) {
      throw new DomainError("PRECONDITION_FAILED", "The agent's daemon cannot watch directories (an older agent image): update the agent on its Versions tab.");
    }
    const daemonId = info?.daemonId ?? null;
    await this.hub.request(rec.agentId, "fs.watch", { watchId: rec.watchId, root: rec.root, path: rec.resolved });
    rec.daemonId = daemonId;
  }

  private release(rec: WatchRecord, shown: string): void {
    const n = (rec.shown.get(shown) ?? 1) - 1;
    if (n > 0) rec.shown.set(shown, n);
    else rec.shown.delete(shown);
    if (--rec.refs > 0) return;
    if (this.byKey.get(rec.key) === rec) this.byKey.delete(rec.key);
    this.byId.delete(rec.watchId);
    if (!rec.ended) this.unwatch(rec.agentId, rec.watchId);
  }

  private unwatch(agentId: string, watchId: string): void {
    this.hub.request(agentId, "fs.unwatch", { watchId }).catch(() => {
      let set = this.unsent.get(agentId);
      if (!set) this.unsent.set(agentId, (set = new Set()));
      set.add(watchId);
    });
  }

  private onConnected(info: DaemonInfo): void {
    const stops = this.unsent.get(info.agentId);
    if (stops) {
      this.unsent.delete(info.agentId);
      for (const id of stops) this.unwatch(info.agentId, id);
    }
    for (const rec of this.byId.values()) {
      if (rec.agentId !== info.agentId || rec.ended || rec.daemonId === info.daemonId) continue;
      rec.ready = this.send(rec);
      rec.ready.catch((err: unknown) => this.log?.warn({ err, agentId: rec.agentId, path: rec.resolved }, "could not watch a directory again on the agent's daemon"));
    }
  }

  private onEvent(agentId: string, event: DaemonEvent): void {
    if (event.type !== "fs.changed") return;
    const rec = this.byId.get(event.watchId);
    if (!rec || rec.agentId !== agentId) return;
    const under = (shown: string, path: string) => (path === rec.resolved ? shown : join(shown, baseName(path)));
    for (const shown of rec.shown.keys()) {
      for (const c of event.changes) this.publish({ projectId: rec.projectId, agentId, path: under(shown, c.path), change: c.change });
      // Not every name was listed: the directory itself changed (a subscriber lists it again).
      if (event.truncated) this.publish({ projectId: rec.projectId, agentId, path: shown, change: "written" });
    }
    if (event.ended) rec.ended = true;
  }
}

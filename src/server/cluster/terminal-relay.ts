// Terminals across instances. The browser's terminal stream lives on the instance serving it (the
// watcher); the PTY's daemon may be connected to another one (the holder). term.open, input,
// resize and close already travel as routed daemon requests; this relays the PTY's output back:
// the watcher asks the holder to relay one terminal (the routed operation terminal.relay) before
// it opens the PTY, and the holder sends that terminal's output, exit and end as TermNotices on
// their own channel, numbered per terminal. Output arriving within one turn of the event loop goes
// as one notice (small ones inline in the NOTIFY, big ones through cluster_message), one notice at a
// time per terminal; the watcher hands them on in order. Bounded both ways: the holder ends a relay
// whose notices fall more than RELAY_MAX_BYTES behind, the watcher one with more than
// MAX_OUT_OF_ORDER notices waiting for a missing one. A relay ends when either side goes away:
// the holder loses the daemon (ended, sent), the watcher's instance stops answering (the holder
// closes the PTY), the holder's instance stops or the daemon moves (the watcher ends the
// terminal), or the LISTEN connection drops (output may have been lost: the watcher ends it).
import { CLUSTER_CHANNELS, termNotice, terminalRelayParams, type TermNotice } from "../../contracts/cluster";
import type { DaemonEvent } from "../../contracts/armoryd";
import { DaemonUnavailableError, type DaemonHub } from "../agentd/hub";
import type { RawSql } from "../db";
import type { Logger } from "../logger";
import type { NotifyChannel } from "./notify-channel";
import type { Presence } from "./presence";
import type { Router } from "./routing";

/** Output bytes of one notice at most (base64 makes it a third bigger). */
const CHUNK_BYTES = 48 * 1024;
/** Output waiting on the holder for notices to go out; beyond this the relay ends. */
export const RELAY_MAX_BYTES = 8 * 1024 * 1024;
/** Notices waiting on the watcher for an earlier one that does not come. */
const MAX_OUT_OF_ORDER = 256;
const RELAY_TIMEOUT_MS = 10_000;

/** What the watcher's terminal sees: the daemon's own terminal events, or the relay's end. */
export type RelayedTerminalEvent = Extract<DaemonEvent, { type: "term.data" | "term.exit" }> | { type: "ended"; reason: string };
export type RelayListener = (event: RelayedTerminalEvent, meta: { daemonId: string }) => void;

/** The holder's side of one relayed terminal. */
interface Relay {
  agentId: string;
  termId: string;
  /** The watcher's instance. */
  to: string;
  daemonId: string;
  seq: number;
  chunks: Buffer[];
  bytes: number;
  /** Exit or end, sent after the output before it. */
  last: TermNotice["step"] | null;
  sending: boolean;
  scheduled: boolean;
  off: () => void;
}

/** The watcher's side. */
interface Watch {
  agentId: string;
  holder: string;
  next: number;
  early: Map<number, TermNotice>;
  listener: RelayListener;
  ended: boolean;
}

export interface TerminalRelayOptions {
  self: string;
  channel: NotifyChannel;
  router: Router;
  presence: Presence;
  hub: DaemonHub;
  raw: RawSql;
  log: Logger;
}

export class TerminalRelay {
  private readonly relays = new Map<string, Relay>();
  private readonly watches = new Map<string, Watch>();
  private readonly offs: (() => void)[] = [];
  private watcherCheck: NodeJS.Timeout | null = null;

  constructor(private readonly opts: TerminalRelayOptions) {
    const { channel, router, presence, hub } = opts;
    router.handle("terminal.relay", async (req) => {
      const p = terminalRelayParams.parse(req.params);
      if (!p.relay) return void this.stopRelay(p.termId, req.from);
      this.startRelay(req.agentId, p.termId, req.from);
      return {};
    });
    this.offs.push(
      channel.on(CLUSTER_CHANNELS.term, (m) => this.receive(m)),
      // Output sent while this instance did not listen is lost: its relayed terminals end.
      channel.onReconnect(() => {
        for (const [termId] of this.watches) this.endWatch(termId, "The connection between Armory instances dropped: this terminal's output may be incomplete.");
      }),
      presence.onChange((d) => {
        for (const [termId, w] of this.watches) {
          if (w.agentId !== d.agentId) continue;
          if ("gone" in d) this.endWatch(termId, "The Armory instance holding the agent's daemon stopped or lost it: this terminal's shell is gone.");
          else if (d.instanceId !== w.holder) this.endWatch(termId, "The agent's daemon moved to another Armory instance: this terminal's shell is gone.");
        }
      }),
      hub.onState((info) => {
        if (info.state === "connected" && hub.holds(info.agentId)) {
          // The daemon connected here: a terminal relayed from elsewhere lost its holder.
          for (const [termId, w] of this.watches) {
            if (w.agentId === info.agentId) this.endWatch(termId, "The agent's daemon moved to another Armory instance: this terminal's shell is gone.");
          }
        }
        for (const r of [...this.relays.values()]) {
          if (r.agentId !== info.agentId) continue;
          if (info.state === "disconnected") this.finishRelay(r, { type: "ended", reason: "Lost the connection to the agent's daemon." });
          else if (info.daemonId !== r.daemonId) this.finishRelay(r, { type: "ended", reason: "The agent's daemon restarted: this terminal's shell is gone." });
        }
      }),
    );
  }

  // ------------------------------------------------------------------ the watcher's side

  /**
   * Relays the terminal `termId` of an agent whose daemon another instance holds: `listener` gets
   * its output and exit in order, or its end. Call before term.open (no output is missed);
   * the returned function stops the relay.
   */
  async watch(agentId: string, termId: string, listener: RelayListener): Promise<() => void> {
    const d = this.opts.presence.remoteDaemon(agentId);
    if (!d) throw new DaemonUnavailableError(agentId, "The agent's daemon is not connected: the agent is stopped, starting or unreachable.");
    const w: Watch = { agentId, holder: d.instanceId, next: 1, early: new Map(), listener, ended: false };
    this.watches.set(termId, w);
    try {
      await this.opts.router.call(d.instanceId, "terminal.relay", agentId, { termId, relay: true }, { timeoutMs: RELAY_TIMEOUT_MS });
    } catch (err) {
      this.watches.delete(termId);
      throw err;
    }
    return () => {
      if (this.watches.get(termId) !== w) return;
      this.watches.delete(termId);
      if (w.ended) return;
      this.opts.router.call(w.holder, "terminal.relay", agentId, { termId, relay: false }, { timeoutMs: RELAY_TIMEOUT_MS }).catch((err: unknown) => {
        this.opts.log.debug({ err: (err as Error).message, agentId, termId }, "could not stop a terminal relay (its instance may be gone)");
      });
    };
  }

  private receive(message: unknown): void {
    const parsed = termNotice.safeParse(message);
    if (!parsed.success || parsed.data.to !== this.opts.self) return;
    const n = parsed.data;
    const w = this.watches.get(n.termId);
    if (!w || w.ended || n.from !== w.holder || n.seq < w.next) return;
    w.early.set(n.seq, n);
    if (w.early.size > MAX_OUT_OF_ORDER) return this.endWatch(n.termId, "Terminal output between Armory instances was lost: this terminal ends.");
    for (let next = w.early.get(w.next); next && !w.ended; next = w.early.get(w.next)) {
      w.early.delete(w.next);
      w.next++;
      const step = next.step;
      if (step.type === "data") w.listener({ type: "term.data", termId: n.termId, data: step.data }, { daemonId: next.daemonId });
      else {
        w.ended = true;
        w.listener(step.type === "exit" ? { type: "term.exit", termId: n.termId, exitCode: step.exitCode } : step, { daemonId: next.daemonId });
      }
    }
  }

  private endWatch(termId: string, reason: string): void {
    const w = this.watches.get(termId);
    if (!w || w.ended) return;
    w.ended = true;
    w.listener({ type: "ended", reason }, { daemonId: "" });
  }

  // ------------------------------------------------------------------ the holder's side

  private startRelay(agentId: string, termId: string, to: string): void {
    const { hub } = this.opts;
    const info = hub.holds(agentId) ? hub.info(agentId) : null;
    if (!info) throw new DaemonUnavailableError(agentId, "The agent's daemon is no longer connected to the instance it was routed to; try again.");
    this.relays.get(termId)?.off();
    const r: Relay = { agentId, termId, to, daemonId: info.daemonId, seq: 0, chunks: [], bytes: 0, last: null, sending: false, scheduled: false, off: () => {} };
    r.off = hub.onEvent(agentId, (event) => {
      if ((event.type !== "term.data" && event.type !== "term.exit") || event.termId !== termId) return;
      if (event.type === "term.exit") return this.finishRelay(r, { type: "exit", exitCode: event.exitCode });
      const chunk = Buffer.from(event.data, "base64");
      r.chunks.push(chunk);
      r.bytes += chunk.length;
      if (r.bytes > RELAY_MAX_BYTES) return this.finishRelay(r, { type: "ended", reason: "The terminal's output could not be passed between Armory instances fast enough." }, true);
      this.schedule(r);
    });
    this.relays.set(termId, r);
    this.watcherCheck ??= setInterval(() => void this.checkWatchers(), this.opts.presence.heartbeatMs);
    this.watcherCheck.unref();
  }

  /** Ends a relay with `last` after the output before it (or at once, dropping it). */
  private finishRelay(r: Relay, last: TermNotice["step"], dropOutput = false): void {
    if (r.last || this.relays.get(r.termId) !== r) return;
    r.off();
    r.last = last;
    if (dropOutput) {
      r.chunks = [];
      r.bytes = 0;
    }
    this.schedule(r);
  }

  /** The watcher closed it: nothing more to send. */
  private stopRelay(termId: string, from: string): void {
    const r = this.relays.get(termId);
    if (!r || r.to !== from) return;
    r.off();
    this.drop(r);
  }

  private drop(r: Relay): void {
    if (this.relays.get(r.termId) === r) this.relays.delete(r.termId);
    if (!this.relays.size && this.watcherCheck) {
      clearInterval(this.watcherCheck);
      this.watcherCheck = null;
    }
  }

  private schedule(r: Relay): void {
    if (r.scheduled || r.sending) return;
    r.scheduled = true;
    setImmediate(() => {
      r.scheduled = false;
      void this.send(r);
    });
  }

  /** Sends what is waiting, one notice at a time (so they are committed, and numbered, in order). */
  private async send(r: Relay): Promise<void> {
    if (r.sending || this.relays.get(r.termId) !== r) return;
    r.sending = true;
    try {
      while (this.relays.get(r.termId) === r && (r.chunks.length || r.last)) {
        let step: TermNotice["step"];
        if (r.chunks.length) {
          const all = Buffer.concat(r.chunks);
          const part = all.subarray(0, CHUNK_BYTES);
          const rest = all.subarray(CHUNK_BYTES);
          r.chunks = rest.length ? [rest] : [];
          r.bytes = rest.length;
          step = { type: "data", data: part.toString("base64") };
        } else {
          step = r.last!;
          this.drop(r);
        }
        const notice: TermNotice = { from: this.opts.self, to: r.to, termId: r.termId, seq: ++r.seq, daemonId: r.daemonId, step };
        await this.opts.channel.notify(CLUSTER_CHANNELS.term, notice);
      }
    } catch (err) {
      // The watcher cannot get the rest in order: its terminal ends on its side (it stops hearing); close the PTY here.
      this.opts.log.warn({ err: (err as Error).message, agentId: r.agentId, termId: r.termId }, "could not relay terminal output to another instance; closing the terminal");
      r.off();
      this.drop(r);
      this.closePty(r);
    } finally {
      r.sending = false;
    }
  }

  /** Relays whose watcher's instance stopped answering: their PTYs are closed (nobody can reach them). */
  private async checkWatchers(): Promise<void> {
    const to = [...new Set([...this.relays.values()].map((r) => r.to))];
    if (!to.length) return;
    try {
      const rows = await this.opts.raw.query<{ id: string }>(
        `SELECT id FROM armory_instance WHERE id = ANY($1) AND "heartbeatAt" > now() - ($2 || ' milliseconds')::interval`,
        [to, String(this.opts.presence.expireMs)],
      );
      const alive = new Set(rows.map((r) => r.id));
      for (const r of [...this.relays.values()]) {
        if (alive.has(r.to)) continue;
        this.opts.log.info({ agentId: r.agentId, termId: r.termId, instance: r.to }, "the instance serving a terminal stopped; closing its shell");
        r.off();
        this.drop(r);
        this.closePty(r);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "could not check the instances serving relayed terminals");
    }
  }

  private closePty(r: Relay): void {
    if (!this.opts.hub.holds(r.agentId)) return;
    this.opts.hub.request(r.agentId, "term.close", { termId: r.termId }, { timeoutMs: 5_000 }).catch((err: unknown) => {
      this.opts.log.debug({ err: (err as Error).message, agentId: r.agentId, termId: r.termId }, "term.close failed (the PTY may already be gone)");
    });
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    for (const r of [...this.relays.values()]) {
      r.off();
      this.drop(r);
    }
    for (const termId of [...this.watches.keys()]) this.endWatch(termId, "Armory is stopping.");
    this.watches.clear();
  }
}

// Commands for an agent whose daemon another instance holds: sent to that instance over NOTIFY
// (rpc channel; big payloads through cluster_message), run there, answered back. Bounded: at most
// MAX_PENDING outgoing and MAX_SERVING incoming at once, each with a timeout that gives a sentence.
// Errors cross as their kind, code and sentence and are rethrown as the same kind of error.
import { randomUUID } from "node:crypto";
import superjson from "superjson";
import { CLUSTER_CHANNELS, rpcNotice, type RoutedOperation, type RpcRequest, type RpcResponse } from "../../contracts/cluster";
import type { RequestMethod } from "../../contracts/armoryd";
import { DaemonRequestError, DaemonUnavailableError } from "../agentd/hub";
import { DomainError, type DomainErrorCode } from "../domain/errors";
import type { Logger } from "../logger";
import type { NotifyChannel } from "./notify-channel";

export const MAX_PENDING = 1000;
export const MAX_SERVING = 256;
/** Added to the operation's own timeout for the round trip between instances. */
const TRANSIT_MS = 5000;

export type RouteHandler = (req: RpcRequest) => Promise<unknown>;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  agentId: string;
  to: string;
}

export class Router {
  private readonly handlers = new Map<RoutedOperation, RouteHandler>();
  private readonly pending = new Map<string, Pending>();
  private serving = 0;
  private readonly off: () => void;

  constructor(
    private readonly opts: { self: string; channel: NotifyChannel; log: Logger },
  ) {
    this.off = opts.channel.on(CLUSTER_CHANNELS.rpc, (m) => this.receive(m));
  }

  handle(op: RoutedOperation, handler: RouteHandler): void {
    this.handlers.set(op, handler);
  }

  /** Runs `op` on instance `to` (the holder of the agent's daemon) and returns its result. */
  call(to: string, op: RoutedOperation, agentId: string, params: unknown, o: { method?: RequestMethod; timeoutMs: number }): Promise<unknown> {
    if (this.pending.size >= MAX_PENDING) {
      return Promise.reject(new DomainError("UNAVAILABLE", "Too many requests are waiting for other Armory instances; try again shortly."));
    }
    const id = randomUUID();
    const req: RpcRequest = { from: this.opts.self, type: "request", to, id, op, agentId, method: o.method, params: superjson.serialize(params), timeoutMs: o.timeoutMs };
    return new Promise((resolve, reject) => {
      const wait = o.timeoutMs + TRANSIT_MS;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DaemonUnavailableError(agentId, `The Armory instance holding the agent's daemon did not answer within ${Math.round(wait / 1000)} s.`));
      }, wait);
      this.pending.set(id, { resolve, reject, timer, agentId, to });
      this.opts.channel.notify(CLUSTER_CHANNELS.rpc, req).catch((err: unknown) => {
        clearTimeout(timer);
        this.pending.delete(id);
        this.opts.log.warn({ err: (err as Error).message }, "could not send a cluster request");
        reject(new DomainError("UNAVAILABLE", "Could not reach the Armory instance holding the agent's daemon (the database is unavailable)."));
      });
    });
  }

  /** Fails the requests waiting on `instanceId` at once (it expired). */
  instanceGone(instanceId: string): void {
    for (const [id, p] of this.pending) {
      if (p.to !== instanceId) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new DaemonUnavailableError(p.agentId, "The Armory instance holding the agent's daemon stopped; try again once the daemon has reconnected."));
    }
  }

  private receive(message: unknown): void {
    const parsed = rpcNotice.safeParse(message);
    if (!parsed.success || parsed.data.to !== this.opts.self) return;
    const m = parsed.data;
    if (m.type === "response") return this.settle(m);
    void this.serve(m);
  }

  private settle(m: RpcResponse): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) return p.resolve(superjson.deserialize(m.result as Parameters<typeof superjson.deserialize>[0]));
    const e = m.error ?? { kind: "other" as const, code: "INTERNAL", message: "The other Armory instance gave no reason." };
    if (e.kind === "unavailable") p.reject(new DaemonUnavailableError(p.agentId, e.message));
    else if (e.kind === "daemon") p.reject(new DaemonRequestError(e.method as RequestMethod, { code: e.code as never, message: e.message }));
    else if (e.kind === "domain") p.reject(new DomainError(e.code as DomainErrorCode, e.message));
    else p.reject(new DomainError("UNAVAILABLE", e.message));
  }

  private async serve(m: RpcRequest): Promise<void> {
    const answer = (r: Omit<RpcResponse, "from" | "type" | "to" | "id">) =>
      this.opts.channel.notify(CLUSTER_CHANNELS.rpc, { from: this.opts.self, type: "response", to: m.from, id: m.id, ...r }).catch((err: unknown) => {
        this.opts.log.warn({ err: (err as Error).message }, "could not answer a cluster request");
      });
    const handler = this.handlers.get(m.op);
    if (!handler) return void answer({ ok: false, error: { kind: "other", code: "UNSUPPORTED", message: `This Armory instance does not handle ${m.op}.` } });
    if (this.serving >= MAX_SERVING) {
      return void answer({ ok: false, error: { kind: "domain", code: "UNAVAILABLE", message: "The Armory instance holding the agent's daemon is busy; try again shortly." } });
    }
    this.serving++;
    try {
      const result = await handler({ ...m, params: superjson.deserialize(m.params as Parameters<typeof superjson.deserialize>[0]) });
      await answer({ ok: true, result: superjson.serialize(result) });
    } catch (err) {
      if (err instanceof DaemonUnavailableError) await answer({ ok: false, error: { kind: "unavailable", code: err.code, message: err.message } });
      else if (err instanceof DaemonRequestError) await answer({ ok: false, error: { kind: "daemon", code: err.error.code, message: err.error.message.slice(0, 2000), method: err.method } });
      else if (err instanceof DomainError) await answer({ ok: false, error: { kind: "domain", code: err.code, message: err.message.slice(0, 2000) } });
      else {
        this.opts.log.error({ err, op: m.op, agentId: m.agentId }, "a routed cluster request failed");
        await answer({ ok: false, error: { kind: "other", code: "INTERNAL", message: "The Armory instance holding the agent's daemon could not do it (see its log)." } });
      }
    } finally {
      this.serving--;
    }
  }

  close(): void {
    this.off();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new DomainError("UNAVAILABLE", "Armory is stopping."));
    }
  }
}

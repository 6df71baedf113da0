// Inbound webhooks: per agent, URLs (POST /api/hooks/<hookId>) whose verified payload becomes a
// chat message to the agent (src/contracts/hooks.ts has the shapes and the template renderer).
//
// Each hook has its own secret, generated here, sealed under the master key (SecretStore.seal)
// and shown once (create, rotateSecret). Requests are verified by the hook's kind over the raw
// body (./verify.ts), rate-limited per hook from the delivery log, rendered by the hook's
// template and sent through services.turns (userId null: the audit entry names the hook).
// Every request to a known hook leaves a delivery row (the newest HOOK_DELIVERIES_KEPT per hook
// are kept); a delivery's payload can be replayed by a person (hook.replay).
import { randomBytes } from "node:crypto";
import {
  HOOK_DELIVERIES_KEPT,
  HOOKS_PER_AGENT_MAX,
  renderHookTemplate,
  type HookCreateFields,
  type HookDeliveryStatus,
  type HookDeliveryView,
  type HookUpdateFields,
  type HookView,
  type HookWithSecret,
} from "../../contracts/hooks";
import type { PrismaClient } from "../db";
import type { HookDelivery, InboundHook, Prisma } from "../db/generated/client";
import { DomainError, notFound } from "../domain/errors";
import type { Logger } from "../logger";
import { inboundHookAad, type SecretStore } from "../secrets/store";
import { listenerStream } from "../streams/listener-stream";
import { writeAuditEvent } from "../trust/audit";

/** What the service needs to start turns (services.turns) and name a kept conversation (services.chat). */
export interface HookTurns {
  send(input: { projectId: string; agentId: string; sessionId?: string; message: string; userId: string | null }): Promise<{ sessionId: string; runId: string }>;
}
export interface HookChat {
  renameSession(projectId: string, agentId: string, sessionId: string, title: string): Promise<unknown>;
}

export interface HookServiceOptions {
  prisma: PrismaClient;
  secrets: SecretStore;
  turns: HookTurns;
  chat: HookChat;
  log: Logger;
  now?: () => Date;
}

/** A hook ready to verify a request (the endpoint's view; the secret is decrypted on demand). */
export interface ActiveHook {
  id: string;
  projectId: string;
  agentId: string;
  agentName: string;
  name: string;
  verify: InboundHook["verify"];
  secret(): string;
}

/** The parts of a request a delivery records and renders. */
export interface IncomingDelivery {
  event: string | null;
  payload: unknown;
  headers: Record<string, string>;
  ip: string | null;
  userAgent: string | null;
}

/** What the endpoint answers: status, JSON body, extra headers. */
export interface HookAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

type HookRow = InboundHook & { deliveries?: Pick<HookDelivery, "status" | "httpStatus" | "receivedAt">[] };

const RATE_WINDOW_MS = 60_000;
/** Statuses that count against a hook's rate (verified requests that reached the template). */
const COUNTED: HookDeliveryStatus[] = ["accepted", "failed"];

export function hookPath(hookId: string): string {
  return `/api/hooks/${hookId}`;
}

function hookView(h: HookRow): HookView {
  const last = h.deliveries?.[0];
  return {
    id: h.id,
    projectId: h.projectId,
    agentId: h.agentId,
    name: h.name,
    path: hookPath(h.id),
    verify: h.verify,
    template: h.template,
    session: h.session,
    sessionName: h.sessionName,
    sessionId: h.sessionId,
    rateLimitPerMinute: h.rateLimitPerMinute,
    enabled: h.enabled,
    createdById: h.createdById,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    lastDelivery: last ? { status: last.status, httpStatus: last.httpStatus, at: last.receivedAt } : null,
  };
}

function deliveryView(d: HookDelivery): HookDeliveryView {
  return {
    id: d.id,
    hookId: d.hookId,
    receivedAt: d.receivedAt,
    event: d.event,
    payload: d.payload ?? null,
    headers: (d.headers ?? {}) as Record<string, string>,
    status: d.status,
    httpStatus: d.httpStatus,
    error: d.error,
    message: d.message,
    sessionId: d.sessionId,
    runId: d.runId,
    replayOf: d.replayOf,
  };
}

const lastDeliveryInclude = { deliveries: { orderBy: { receivedAt: "desc" }, take: 1, select: { status: true, httpStatus: true, receivedAt: true } } } as const;

/** The HTTP status a refused send answers (the chat's own message goes with it). */
function statusOf(err: unknown): number {
  if (!(err instanceof DomainError)) return 500;
  switch (err.code) {
    case "BAD_REQUEST":
      return 400;
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
      return 409;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    default:
      return 503;
  }
}

export class HookService {
  private readonly now: () => Date;
  /** Per hook: the tail of its serialized rate-check-and-send steps. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(agentId: string, d: HookDeliveryView) => void>();

  constructor(private readonly opts: HookServiceOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  private get prisma() {
    return this.opts.prisma;
  }

  private newSecret(): string {
    return `ahk_${randomBytes(32).toString("base64url")}`;
  }

  private async row(projectId: string, agentId: string, hookId: string): Promise<HookRow> {
    const h = await this.prisma.inboundHook.findFirst({ where: { id: hookId, projectId, agentId }, include: lastDeliveryInclude });
    if (!h) throw notFound("Webhook");
    return h;
  }

  private async nameFree(agentId: string, name: string, except?: string) {
    const other = await this.prisma.inboundHook.findFirst({ where: { agentId, name, ...(except ? { id: { not: except } } : {}) }, select: { id: true } });
    if (other) throw new DomainError("CONFLICT", `This agent already has a webhook named ${name}.`);
  }

  // ------------------------------------------------------------------ management

  async list(projectId: string, agentId: string): Promise<HookView[]> {
    const rows = await this.prisma.inboundHook.findMany({ where: { projectId, agentId }, include: lastDeliveryInclude, orderBy: { createdAt: "asc" } });
    return rows.map(hookView);
  }

  async create(projectId: string, agentId: string, fields: HookCreateFields, userId: string | null): Promise<HookWithSecret> {
    const count = await this.prisma.inboundHook.count({ where: { agentId } });
    if (count >= HOOKS_PER_AGENT_MAX) throw new DomainError("BAD_REQUEST", `An agent has at most ${HOOKS_PER_AGENT_MAX} webhooks.`);
    await this.nameFree(agentId, fields.name);
    const id = crypto.randomUUID();
    const secret = this.newSecret();
    const sealed = this.opts.secrets.seal(secret, inboundHookAad(id));
    const row = await this.prisma.inboundHook.create({
      data: {
        id,
        projectId,
        agentId,
        name: fields.name,
        verify: fields.verify,
        secretCiphertext: sealed.ciphertext,
        secretKeyId: sealed.keyId,
        template: fields.template,
        session: fields.session,
        sessionName: fields.session === "named" ? (fields.sessionName ?? null) : null,
        rateLimitPerMinute: fields.rateLimitPerMinute,
        enabled: fields.enabled,
        createdById: userId,
      },
      include: lastDeliveryInclude,
    });
    this.opts.log.info({ hookId: id, agentId, verify: fields.verify }, "inbound webhook created");
    return { hook: hookView(row), secret };
  }

  async update(projectId: string, agentId: string, hookId: string, patch: HookUpdateFields): Promise<HookView> {
    const current = await this.row(projectId, agentId, hookId);
    if (patch.name !== undefined && patch.name !== current.name) await this.nameFree(agentId, patch.name, hookId);
    const session = patch.session ?? current.session;
    const sessionName = patch.sessionName !== undefined ? patch.sessionName : current.sessionName;
    if (session === "named" && !sessionName) throw new DomainError("BAD_REQUEST", "sessionName: a named session needs a name.");
    const data: Prisma.InboundHookUpdateInput = {
      name: patch.name,
      verify: patch.verify,
      template: patch.template,
      session,
      sessionName: session === "named" ? sessionName : null,
      rateLimitPerMinute: patch.rateLimitPerMinute,
      enabled: patch.enabled,
    };
    // A different kept conversation from now on when the name changes or the hook stops keeping one.
    if (session !== "named" || sessionName !== current.sessionName) data.sessionId = null;
    const row = await this.prisma.inboundHook.update({ where: { id: hookId }, data, include: lastDeliveryInclude });
    return hookView(row);
  }

  async remove(projectId: string, agentId: string, hookId: string): Promise<void> {
    await this.row(projectId, agentId, hookId);
    await this.prisma.inboundHook.delete({ where: { id: hookId } });
    this.opts.log.info({ hookId, agentId }, "inbound webhook deleted");
  }

  /** A new secret (the old one stops verifying at once), shown in this answer only. */
  async rotateSecret(projectId: string, agentId: string, hookId: string): Promise<HookWithSecret> {
    await this.row(projectId, agentId, hookId);
    const secret = this.newSecret();
    const sealed = this.opts.secrets.seal(secret, inboundHookAad(hookId));
    const row = await this.prisma.inboundHook.update({
      where: { id: hookId },
      data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId },
      include: lastDeliveryInclude,
    });
    this.opts.log.info({ hookId, agentId }, "inbound webhook secret rotated");
    return { hook: hookView(row), secret };
  }

  /** A hook's deliveries, newest first. */
  async deliveries(projectId: string, agentId: string, hookId: string, limit: number): Promise<HookDeliveryView[]> {
    await this.row(projectId, agentId, hookId);
    const rows = await this.prisma.hookDelivery.findMany({ where: { hookId }, orderBy: { receivedAt: "desc" }, take: limit });
    return rows.map(deliveryView);
  }

  /** Every new delivery to this agent's hooks, as it is recorded. */
  onDelivery(agentId: string, signal?: AbortSignal): AsyncGenerator<HookDeliveryView> {
    return listenerStream<HookDeliveryView>((sink) => {
      const l = (a: string, d: HookDeliveryView) => {
        if (a === agentId) sink.push(d);
      };
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    }, signal);
  }

  /**
   * Sends a recorded delivery's payload again, rendered by the hook's current template (a new
   * delivery naming the one it replays). Replays are a person's choice: the rate does not apply.
   */
  async replay(projectId: string, agentId: string, deliveryId: string, by: { ip: string | null; userAgent: string | null }): Promise<HookDeliveryView> {
    const d = await this.prisma.hookDelivery.findFirst({ where: { id: deliveryId, hook: { projectId, agentId } } });
    if (!d) throw notFound("Delivery");
    if (d.payload === null) throw new DomainError("BAD_REQUEST", "This delivery was refused before its payload was verified: there is nothing to replay.");
    if (d.event === "ping") throw new DomainError("BAD_REQUEST", "A ping starts no turn: there is nothing to replay.");
    const hook = await this.active(d.hookId);
    if (!hook) throw new DomainError("PRECONDITION_FAILED", "This webhook is disabled: enable it to replay its deliveries.");
    const { delivery } = await this.deliver(
      hook,
      { event: d.event, payload: d.payload, headers: (d.headers ?? {}) as Record<string, string>, ip: by.ip, userAgent: by.userAgent },
      { replayOf: d.id },
    );
    return delivery;
  }

  // ------------------------------------------------------------------ the endpoint's side

  /** The hook a request names, or null when it does not exist or is disabled (the endpoint answers 404 for both). */
  async active(hookId: string): Promise<ActiveHook | null> {
    const h = await this.prisma.inboundHook.findUnique({ where: { id: hookId }, include: { agent: { select: { name: true } } } });
    if (!h || !h.enabled) return null;
    return {
      id: h.id,
      projectId: h.projectId,
      agentId: h.agentId,
      agentName: h.agent.name,
      name: h.name,
      verify: h.verify,
      secret: () => this.opts.secrets.open({ ciphertext: h.secretCiphertext, keyId: h.secretKeyId }, inboundHookAad(h.id), `The secret of webhook ${h.name}`),
    };
  }

  /** Records a request refused before it became a turn (bad signature, size, type, body). */
  async refuse(hook: ActiveHook, status: Extract<HookDeliveryStatus, "rejected">, httpStatus: number, error: string, d: Partial<IncomingDelivery>): Promise<HookDeliveryView> {
    this.opts.log.warn({ hookId: hook.id, httpStatus, error }, "inbound webhook request refused");
    return this.record(hook, { status, httpStatus, error, event: d.event ?? null, headers: d.headers ?? {}, payload: null });
  }

  /** Records a ping (verified; starts no turn). */
  async ping(hook: ActiveHook, d: IncomingDelivery): Promise<HookDeliveryView> {
    return this.record(hook, { status: "accepted", httpStatus: 200, event: d.event, headers: d.headers, payload: d.payload as Prisma.InputJsonValue });
  }

  /**
   * A verified payload: checks the hook's rate (not for replays), renders the template and sends
   * the message. Serialized per hook (one rate decision and one kept conversation at a time).
   */
  deliver(hook: ActiveHook, d: IncomingDelivery, opts: { replayOf?: string } = {}): Promise<{ answer: HookAnswer; delivery: HookDeliveryView }> {
    const prev = this.locks.get(hook.id) ?? Promise.resolve();
    const step = prev.catch(() => {}).then(() => this.deliverNow(hook, d, opts));
    const tail = step.catch(() => {});
    this.locks.set(hook.id, tail);
    void tail.then(() => {
      if (this.locks.get(hook.id) === tail) this.locks.delete(hook.id);
    });
    return step;
  }

  private async deliverNow(hook: ActiveHook, d: IncomingDelivery, opts: { replayOf?: string }): Promise<{ answer: HookAnswer; delivery: HookDeliveryView }> {
    const row = await this.prisma.inboundHook.findUnique({ where: { id: hook.id } });
    if (!row) throw notFound("Webhook");
    const base = { event: d.event, headers: d.headers, payload: d.payload as Prisma.InputJsonValue, replayOf: opts.replayOf ?? null };
    const fail = async (httpStatus: number, error: string, status: HookDeliveryStatus = "failed", extra: Record<string, string> = {}) => {
      const delivery = await this.record(hook, { ...base, status, httpStatus, error });
      this.opts.log.warn({ hookId: hook.id, deliveryId: delivery.id, httpStatus, error }, "inbound webhook delivery not sent");
      return { answer: { status: httpStatus, body: { error, deliveryId: delivery.id }, headers: extra }, delivery };
    };

    if (!opts.replayOf) {
      const since = new Date(this.now().getTime() - RATE_WINDOW_MS);
      const recent = await this.prisma.hookDelivery.findMany({
        where: { hookId: hook.id, status: { in: COUNTED }, receivedAt: { gte: since } },
        orderBy: { receivedAt: "asc" },
        select: { receivedAt: true },
      });
      if (recent.length >= row.rateLimitPerMinute) {
        const oldest = recent[0]!.receivedAt.getTime();
        const retryAfter = Math.max(1, Math.ceil((oldest + RATE_WINDOW_MS - this.now().getTime()) / 1000));
        return fail(429, `Over this webhook's rate of ${row.rateLimitPerMinute} a minute: retry in ${retryAfter} s.`, "rate_limited", { "retry-after": String(retryAfter) });
      }
    }

    let message: string;
    try {
      message = renderHookTemplate(row.template, { payload: d.payload, headers: d.headers, event: d.event }).trim();
    } catch (err) {
      return fail(400, `The template could not be rendered: ${(err as Error).message}`);
    }
    if (!message) return fail(400, "The template rendered an empty message for this payload: nothing was sent.");

    let sent: { sessionId: string; runId: string };
    try {
      sent = await this.send(row, message);
    } catch (err) {
      const status = statusOf(err);
      if (status === 500) this.opts.log.error({ err, hookId: hook.id }, "inbound webhook: the message could not be sent");
      return fail(status, status === 500 ? "The message could not be sent (see Armory's log)." : (err as Error).message);
    }
    const delivery = await this.record(hook, { ...base, status: "accepted", httpStatus: 202, message, sessionId: sent.sessionId, runId: sent.runId });
    await writeAuditEvent(this.prisma, {
      userId: null,
      userEmail: null,
      tokenId: null,
      tokenPrefix: null,
      action: opts.replayOf ? "hook.replayed" : "hook.deliver",
      type: "webhook",
      permission: "chat",
      projectId: hook.projectId,
      agentId: hook.agentId,
      agentName: hook.agentName,
      allowed: true,
      reason: `Inbound webhook "${hook.name}" (${hook.id}, ${hook.verify}${opts.replayOf ? `, replay of ${opts.replayOf}` : ""}) sent a message: run ${sent.runId} in session ${sent.sessionId}.`,
      outcome: "ok",
      requestId: `hook-delivery-${delivery.id}`,
      ip: d.ip,
      userAgent: d.userAgent,
    }).catch((err: unknown) => this.opts.log.error({ err, hookId: hook.id, deliveryId: delivery.id }, "could not write an inbound webhook delivery to the audit log"));
    this.opts.log.info({ hookId: hook.id, deliveryId: delivery.id, sessionId: sent.sessionId, runId: sent.runId, event: d.event }, "inbound webhook delivery accepted");
    return { answer: { status: 202, body: { sessionId: sent.sessionId, runId: sent.runId, deliveryId: delivery.id } }, delivery };
  }

  /** Sends into a new conversation, or the hook's kept one (made, and named, on first use or when it is gone). */
  private async send(row: InboundHook, message: string) {
    const target = { projectId: row.projectId, agentId: row.agentId, message, userId: null };
    if (row.session !== "named") return this.opts.turns.send(target);
    const kept = row.sessionId
      ? await this.prisma.chatSession.findFirst({ where: { id: row.sessionId, agentId: row.agentId }, select: { id: true } })
      : null;
    if (kept) return this.opts.turns.send({ ...target, sessionId: kept.id });
    const sent = await this.opts.turns.send(target);
    await this.prisma.inboundHook.update({ where: { id: row.id }, data: { sessionId: sent.sessionId } });
    if (row.sessionName) {
      await this.opts.chat.renameSession(row.projectId, row.agentId, sent.sessionId, row.sessionName).catch((err: unknown) =>
        this.opts.log.warn({ err: (err as Error).message, hookId: row.id }, "could not name the webhook's conversation"),
      );
    }
    return sent;
  }

  private async record(
    hook: ActiveHook,
    d: {
      status: HookDeliveryStatus;
      httpStatus: number;
      event: string | null;
      headers: Record<string, string>;
      payload: Prisma.InputJsonValue | null;
      error?: string;
      message?: string;
      sessionId?: string;
      runId?: string;
      replayOf?: string | null;
    },
  ): Promise<HookDeliveryView> {
    const row = await this.prisma.hookDelivery.create({
      data: {
        hookId: hook.id,
        receivedAt: this.now(),
        event: d.event,
        payload: d.payload === null ? undefined : d.payload,
        headers: d.headers,
        status: d.status,
        httpStatus: d.httpStatus,
        error: d.error ?? null,
        message: d.message ?? null,
        sessionId: d.sessionId ?? null,
        runId: d.runId ?? null,
        replayOf: d.replayOf ?? null,
      },
    });
    await this.prune(hook.id);
    const view = deliveryView(row);
    for (const l of this.listeners) l(hook.agentId, view);
    return view;
  }

  /** Keeps the newest HOOK_DELIVERIES_KEPT deliveries of a hook. */
  private async prune(hookId: string): Promise<void> {
    const edge = await this.prisma.hookDelivery.findMany({ where: { hookId }, orderBy: { receivedAt: "desc" }, skip: HOOK_DELIVERIES_KEPT, take: 1, select: { receivedAt: true } });
    if (edge[0]) await this.prisma.hookDelivery.deleteMany({ where: { hookId, receivedAt: { lte: edge[0].receivedAt } } });
  }
}

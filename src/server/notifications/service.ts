// Notifications out: a project's webhooks and their deliveries.
//
// Every event on the project events bus (src/contracts/project-events.ts) goes to the project's
// enabled webhooks that want its type. This service also produces some of those events from
// existing sources: turn.finished / turn.failed from the chat bus, agent.crashed from the agents'
// status bus (the other producers, approvals and budgets, publish their own).
//
// Each (event, webhook) pair is one delivery row, persisted before the first attempt: a POST with
// a 10 s limit; a 2xx delivers it; a network error, 408, 429 or 5xx is retried with exponential
// back-off and jitter (5 attempts: after about 10 s, 30 s, 2 min, 10 min); any other status, a
// refused address or a missing secret fails it at once. Pending retries survive a restart (their
// nextAttemptAt is in the database; start() picks them up). The clock and timer are injectable.
//
// Secrets (a signing key, a URL kept as a secret) are read from the project's secrets at send
// time and never stored elsewhere, logged or returned.
import type { ProjectEvent } from "../../contracts/project-events";
import { PROJECT_EVENT_TYPES, type ProjectEventType } from "../../contracts/project-events";
import type { AgentStatusBus } from "../agents/status-bus";
import type { Config } from "../config";
import type { PrismaClient } from "../db";
import type { NotificationDelivery, NotificationFormat, Prisma } from "../db/generated/client";
import { DomainError, notFound } from "../domain/errors";
import type { ProjectEventBus } from "../events/agent-event-bus";
import { AddressRefused } from "../gateway/address-guard";
import type { Logger } from "../logger";
import type { SecretStore } from "../secrets/store";
import { listenerStream } from "../streams/listener-stream";
import { describe, renderBody, signature, storedEvent, testEvent, type DeliveryEventType, type StoredEvent } from "./formats";
import { guardHost, parseWebhookUrl, postWebhook, WebhookUrlError } from "./send";

export const MAX_ATTEMPTS = 5;
/** The wait before attempt n+1 (index n-1), before jitter. */
export const RETRY_DELAYS_MS = [10_000, 30_000, 120_000, 600_000];
export const SEND_TIMEOUT_MS = 10_000;
export const WEBHOOKS_PER_PROJECT_MAX = 50;
/** A crash older than this when first seen (e.g. reported at Armory's start) is not notified. */
/** How long a delivery being sent is claimed by the instance sending it. */
const CLAIM_MS = 60_000;
const CRASH_FRESH_MS = 10 * 60_000;

/** The clock and timer deliveries use (tests drive retries with their own). */
export interface NotificationClock {
  now(): Date;
  /** Calls `fn` after `ms`; returns the cancel. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemClock: NotificationClock = {
  now: () => new Date(),
  schedule(fn, ms) {
    const t = setTimeout(fn, Math.min(ms, 2 ** 31 - 1));
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface WebhookView {
  id: string;
  projectId: string;
  name: string;
  url: string | null;
  urlSecret: string | null;
  format: NotificationFormat;
  events: ProjectEventType[];
  secretName: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastDelivery: { status: DeliveryView["status"]; responseStatus: number | null; at: Date } | null;
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  eventType: string;
  title: string;
  payload: Record<string, unknown>;
  attempts: number;
  status: "pending" | "delivered" | "failed";
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
}

export interface WebhookInput {
  name: string;
  url?: string | null;
  urlSecret?: string | null;
  format: NotificationFormat;
  events: ProjectEventType[];
  secretName?: string | null;
  enabled?: boolean;
}

/** What the service needs of the chat event bus. */
export interface ChatEventTap {
  tap(listener: (sessionId: string, e: { runId: string; type: string; data: unknown }) => void): () => void;
}

export interface NotificationServiceOptions {
  prisma: PrismaClient;
  secrets: SecretStore;
  events: ProjectEventBus;
  log: Logger;
  config: Pick<Config, "publicUrl" | "webhooksAllowPrivate">;
  clock?: NotificationClock;
  /** 0..1, for the jitter (tests may pin it). */
  random?: () => number;
  timeoutMs?: number;
}

const bad = (message: string) => new DomainError("BAD_REQUEST", message);

function deliveryView(d: NotificationDelivery, projectName = ""): DeliveryView {
  const payload = (d.payload ?? {}) as StoredEvent;
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventType: d.eventType,
    title: payload.type ? describe(payload, projectName).title : d.eventType,
    payload,
    attempts: d.attempts,
    status: d.status,
    responseStatus: d.responseStatus,
    responseBody: d.responseBody,
    error: d.error,
    durationMs: d.durationMs,
    nextAttemptAt: d.nextAttemptAt,
    createdAt: d.createdAt,
    lastAttemptAt: d.lastAttemptAt,
    deliveredAt: d.deliveredAt,
  };
}

export class NotificationService {
  private readonly clock: NotificationClock;
  private readonly random: () => number;
  private readonly unsubscribes: (() => void)[] = [];
  private readonly inflight = new Map<string, Promise<DeliveryView | null>>();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly deliveryListeners = new Set<(projectId: string, d: DeliveryView) => void>();
  private cancelTimer: (() => void) | null = null;
  private timerAt: number | null = null;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private closed = false;
  private started = false;
  /** The last crash notified per agent (container id + finish time). */
  private crashes = new Map<string, string>();
  private readonly startedAt = Date.now();

  constructor(private readonly opts: NotificationServiceOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  private get prisma() {
    return this.opts.prisma;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Delivers project events from now on and resumes the pending deliveries (once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribes.push(this.opts.events.on((e) => this.track(this.enqueue(e))));
    this.kick();
  }

  /** Publishes turn.finished / turn.failed when chat turns end. */
  watchChat(chat: ChatEventTap): void {
    this.unsubscribes.push(
      chat.tap((sessionId, e) => {
        if (e.type !== "run_completed" && e.type !== "run_failed") return;
        this.track(this.publishTurn(sessionId, e.runId, e.type, (e.data ?? {}) as Record<string, unknown>));
      }),
    );
  }

  /** Publishes agent.crashed when an agent that should run exits with an error or is OOM-killed. */
  watchAgents(bus: AgentStatusBus): void {
    this.unsubscribes.push(
      bus.watch((event) => {
        if (event.type !== "agent") return;
        const a = event.agent;
        const failed = a.oomKilled || (a.exitCode !== null && a.exitCode !== 0);
        if (!failed || a.desiredState !== "running" || !a.finishedAt) return;
        if (a.observedState !== "exited" && a.observedState !== "dead") return;
        const key = `${a.containerId}@${a.finishedAt.toISOString()}`;
        if (this.crashes.get(a.id) === key) return;
        this.crashes.set(a.id, key);
        if (a.finishedAt.getTime() < this.startedAt - CRASH_FRESH_MS) return;
        this.opts.events.publish({
          type: "agent.crashed",
          projectId: a.projectId,
          agentId: a.id,
          agentName: a.name,
          at: a.finishedAt,
          path: `/projects/${a.projectId}/agents/${a.id}`,
          oomKilled: a.oomKilled,
          exitCode: a.exitCode,
          detail: a.oomKilled ? `Killed: out of memory (limit ${a.memoryMb} MB).` : (a.statusDetail ?? `Exited with code ${a.exitCode}.`),
        });
      }),
    );
  }

  /** Stops listening and waits for the attempts in flight (pending retries stay in the database). */
  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.unsubscribes.splice(0)) u();
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.idle();
  }

  /** Resolves when the work started so far (publishing, attempts) is done. */
  async idle(): Promise<void> {
    while (this.tasks.size || this.pumping) await Promise.allSettled([...this.tasks, this.pumping]);
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((err: unknown) => this.opts.log.warn({ err: (err as Error)?.message }, "notification work failed"));
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
  }

  // ------------------------------------------------------------------ producing events

  private async publishTurn(sessionId: string, runId: string, type: "run_completed" | "run_failed", data: Record<string, unknown>): Promise<void> {
    const run = await this.prisma.chatRun.findUnique({ where: { id: runId }, select: { agentId: true, projectId: true, costUsd: true, durationMs: true, endedAt: true } });
    if (!run) return;
    const agent = await this.prisma.agent.findUnique({ where: { id: run.agentId }, select: { name: true } });
    const base = {
      projectId: run.projectId,
      agentId: run.agentId,
      agentName: agent?.name ?? "",
      at: run.endedAt ?? this.clock.now(),
      path: `/projects/${run.projectId}/agents/${run.agentId}?session=${sessionId}`,
      sessionId,
      runId,
    };
    if (type === "run_completed") {
      const result = await this.prisma.chatEvent.findFirst({ where: { sessionId, runId, type: "result" }, orderBy: { seq: "desc" }, select: { data: true } });
      const text = (result?.data as { result?: unknown } | null)?.result;
      this.opts.events.publish({
        ...base,
        type: "turn.finished",
        durationMs: run.durationMs,
        costUsd: typeof data.costUsd === "number" ? data.costUsd : run.costUsd,
        result: typeof text === "string" ? text.slice(0, 4000) : "",
      });
    } else {
      this.opts.events.publish({
        ...base,
        type: "turn.failed",
        reason: typeof data.reason === "string" ? data.reason : "failed",
        error: typeof data.message === "string" ? data.message.slice(0, 4000) : "",
      });
    }
  }

  // ------------------------------------------------------------------ webhooks (CRUD)

  private async checkInput(projectId: string, w: WebhookInput): Promise<{ url: string | null; urlSecret: string | null; secretName: string | null }> {
    const url = w.url?.trim() || null;
    const urlSecret = w.urlSecret?.trim() || null;
    const secretName = w.secretName?.trim() || null;
    if (!url === !urlSecret) throw bad("Give the webhook either a URL or the name of a project secret holding its URL (not both)");
    if (urlSecret && w.format === "armory") throw bad("Armory-format webhooks take their URL in clear; their secret is the signing key (secretName)");
    if (w.format === "armory" && !secretName) throw bad("Armory-format webhooks are signed: choose the project secret that holds the signing key (secretName)");
    if (url) {
      let parsed: URL;
      try {
        parsed = parseWebhookUrl(url);
      } catch (err) {
        throw bad((err as Error).message);
      }
      try {
        await guardHost(parsed, this.opts.config.webhooksAllowPrivate);
      } catch (err) {
        if (err instanceof AddressRefused) {
          throw bad(
            err.reason === "unresolvable"
              ? `The webhook host ${err.host} does not resolve`
              : `${err.message} (webhooks go to public addresses only; ARMORY_WEBHOOKS_ALLOW_PRIVATE=true allows private ones)`,
          );
        }
        throw err;
      }
    }
    for (const name of [urlSecret, secretName]) {
      if (name && !(await this.opts.secrets.projectHas(projectId, name))) throw bad(`The project has no secret named ${name.slice(0, 128)}`);
    }
    const events = new Set(w.events);
    if (!events.size) throw bad("Choose at least one event to send");
    for (const e of events) if (!PROJECT_EVENT_TYPES.includes(e)) throw bad(`Unknown event ${String(e).slice(0, 64)}`);
    return { url, urlSecret, secretName };
  }

  async list(projectId: string): Promise<WebhookView[]> {
    const rows = await this.prisma.notificationWebhook.findMany({
      where: { projectId },
      orderBy: { createdAt: "asc" },
      include: { deliveries: { orderBy: { createdAt: "desc" }, take: 1, select: { status: true, responseStatus: true, createdAt: true } } },
    });
    return rows.map(({ deliveries, ...w }) => ({
      ...w,
      events: w.events.filter((e): e is ProjectEventType => (PROJECT_EVENT_TYPES as readonly string[]).includes(e)),
      lastDelivery: deliveries[0] ? { status: deliveries[0].status, responseStatus: deliveries[0].responseStatus, at: deliveries[0].createdAt } : null,
    }));
  }

  private async one(projectId: string, webhookId: string): Promise<WebhookView> {
    const w = (await this.list(projectId)).find((x) => x.id === webhookId);
    if (!w) throw notFound("Webhook");
    return w;
  }

  async create(projectId: string, input: WebhookInput): Promise<WebhookView> {
    const checked = await this.checkInput(projectId, input);
    const count = await this.prisma.notificationWebhook.count({ where: { projectId } });
    if (count >= WEBHOOKS_PER_PROJECT_MAX) throw bad(`At most ${WEBHOOKS_PER_PROJECT_MAX} webhooks per project`);
    const row = await this.prisma.notificationWebhook.create({
      data: { projectId, name: input.name.trim(), format: input.format, events: [...new Set(input.events)], enabled: input.enabled ?? true, ...checked },
      select: { id: true },
    });
    return this.one(projectId, row.id);
  }

  async update(projectId: string, webhookId: string, patch: Partial<WebhookInput>): Promise<WebhookView> {
    const current = await this.prisma.notificationWebhook.findFirst({ where: { id: webhookId, projectId } });
    if (!current) throw notFound("Webhook");
    const next: WebhookInput = {
      name: patch.name ?? current.name,
      format: patch.format ?? current.format,
      events: patch.events ?? (current.events as ProjectEventType[]),
      enabled: patch.enabled ?? current.enabled,
      // A new URL replaces a URL secret and the other way round.
      url: patch.url !== undefined ? patch.url : patch.urlSecret ? null : current.url,
      urlSecret: patch.urlSecret !== undefined ? patch.urlSecret : patch.url ? null : current.urlSecret,
      secretName: patch.secretName !== undefined ? patch.secretName : current.secretName,
    };
    const checked = await this.checkInput(projectId, next);
    await this.prisma.notificationWebhook.update({
      where: { id: webhookId },
      data: { name: next.name.trim(), format: next.format, events: [...new Set(next.events)], enabled: next.enabled, ...checked },
    });
    return this.one(projectId, webhookId);
  }

  async remove(projectId: string, webhookId: string): Promise<void> {
    const res = await this.prisma.notificationWebhook.deleteMany({ where: { id: webhookId, projectId } });
    if (!res.count) throw notFound("Webhook");
  }

  // ------------------------------------------------------------------ deliveries

  /** A page of a webhook's delivery log, newest first. */
  async deliveries(projectId: string, webhookId: string, cursor: string | null, limit: number): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    const w = await this.prisma.notificationWebhook.findFirst({ where: { id: webhookId, projectId }, select: { project: { select: { name: true } } } });
    if (!w) throw notFound("Webhook");
    let cursorRow: { createdAt: Date; id: string } | null = null;
    if (cursor) {
      cursorRow = await this.prisma.notificationDelivery.findFirst({ where: { id: cursor, webhookId }, select: { createdAt: true, id: true } });
      if (!cursorRow) throw bad("That page of the delivery log no longer exists; reload the log");
    }
    const where: Prisma.NotificationDeliveryWhereInput = cursorRow
      ? { webhookId, OR: [{ createdAt: { lt: cursorRow.createdAt } }, { createdAt: cursorRow.createdAt, id: { lt: cursorRow.id } }] }
      : { webhookId };
    const rows = await this.prisma.notificationDelivery.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limit + 1 });
    const items = rows.slice(0, limit).map((d) => deliveryView(d, w.project.name));
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
  }

  /** Delivery changes of one project until `signal` aborts. */
  onDelivery(projectId: string, signal?: AbortSignal): AsyncGenerator<DeliveryView> {
    return listenerStream<DeliveryView>((sink) => {
      const l = (p: string, d: DeliveryView) => {
        if (p === projectId) sink.push(d);
      };
      this.deliveryListeners.add(l);
      return () => this.deliveryListeners.delete(l);
    }, signal);
  }

  /** "Send test": one real delivery of a test event (not retried); resolves with its outcome. */
  async test(projectId: string, webhookId: string): Promise<DeliveryView> {
    const w = await this.prisma.notificationWebhook.findFirst({ where: { id: webhookId, projectId }, select: { id: true } });
    if (!w) throw notFound("Webhook");
    const row = await this.prisma.notificationDelivery.create({
      data: { webhookId, eventType: "test", payload: testEvent(projectId, this.clock.now()) as Prisma.InputJsonValue, nextAttemptAt: null },
    });
    return (await this.attempt(row.id))!;
  }

  /** Sends a delivery's event again as a new delivery (with its own retries); resolves after the first attempt. */
  async redeliver(projectId: string, deliveryId: string): Promise<DeliveryView> {
    const d = await this.prisma.notificationDelivery.findFirst({ where: { id: deliveryId, webhook: { projectId } } });
    if (!d) throw notFound("Delivery");
    const row = await this.prisma.notificationDelivery.create({
      data: { webhookId: d.webhookId, eventType: d.eventType, payload: d.payload as Prisma.InputJsonValue, nextAttemptAt: d.eventType === "test" ? null : this.clock.now() },
    });
    return (await this.attempt(row.id))!;
  }

  /** One delivery per matching webhook, persisted, then sent. */
  private async enqueue(e: ProjectEvent): Promise<void> {
    if (this.closed) return;
    const hooks = await this.prisma.notificationWebhook.findMany({ where: { projectId: e.projectId, enabled: true, events: { has: e.type } }, select: { id: true } });
    if (!hooks.length) return;
    const payload = storedEvent(e) as Prisma.InputJsonValue;
    const now = this.clock.now();
    const rows = await Promise.all(
      hooks.map((h) => this.prisma.notificationDelivery.create({ data: { webhookId: h.id, eventType: e.type, payload, nextAttemptAt: now }, select: { id: true } })),
    );
    await Promise.all(rows.map((r) => this.attempt(r.id)));
  }

  /** Sends the due pending deliveries, then sets the timer for the next one. */
  private kick(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        const due = await this.prisma.notificationDelivery.findMany({
          where: { status: "pending", nextAttemptAt: { lte: this.clock.now() } },
          orderBy: { nextAttemptAt: "asc" },
          take: 100,
          select: { id: true },
        });
        await Promise.all(due.filter((d) => !this.inflight.has(d.id)).map((d) => this.attempt(d.id)));
        if (due.length === 100) this.pumpAgain = true;
      } while (this.pumpAgain && !this.closed);
      await this.armTimer();
    })()
      .catch((err: unknown) => this.opts.log.warn({ err: (err as Error)?.message }, "could not send pending notifications"))
      .finally(() => (this.pumping = null));
  }

  private async armTimer(): Promise<void> {
    const next = await this.prisma.notificationDelivery.findFirst({
      where: { status: "pending", nextAttemptAt: { not: null } },
      orderBy: { nextAttemptAt: "asc" },
      select: { nextAttemptAt: true },
    });
    if (this.closed || !next?.nextAttemptAt) return;
    const at = next.nextAttemptAt.getTime();
    if (this.timerAt !== null && this.timerAt <= at && this.cancelTimer) return;
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.clock.schedule(
      () => {
        this.cancelTimer = null;
        this.timerAt = null;
        this.kick();
      },
      Math.max(0, at - this.clock.now().getTime()),
    );
  }

  private attempt(deliveryId: string): Promise<DeliveryView | null> {
    const running = this.inflight.get(deliveryId);
    if (running) return running;
    const p = this.attemptOnce(deliveryId).finally(() => this.inflight.delete(deliveryId));
    this.inflight.set(deliveryId, p);
    return p;
  }

  private async attemptOnce(deliveryId: string): Promise<DeliveryView | null> {
    const d = await this.prisma.notificationDelivery.findUnique({ where: { id: deliveryId }, include: { webhook: { include: { project: { select: { name: true } } } } } });
    if (!d) return null;
    const projectName = d.webhook.project.name;
    if (d.status !== "pending") return deliveryView(d, projectName);
    const w = d.webhook;
    const isTest = d.eventType === "test";
    const attempts = d.attempts + 1;
    const startedAt = this.clock.now();
    // Several Armory instances pump the same deliveries: the one that moves the attempt time on
    // first sends it (the others see the claim and leave it); a claim left by a dead instance
    // lapses after CLAIM_MS and the delivery is tried again.
    const claimed = await this.prisma.notificationDelivery.updateMany({
      where: { id: d.id, status: "pending", attempts: d.attempts, nextAttemptAt: d.nextAttemptAt },
      data: { nextAttemptAt: new Date(startedAt.getTime() + CLAIM_MS) },
    });
    if (!claimed.count) return deliveryView(d, projectName);
    let outcome: { status: number | null; body: string | null; error: string | null; durationMs: number | null; retryable: boolean };
    try {
      if (!w.enabled && !isTest) throw new FinalError("The webhook is disabled");
      const rawUrl = w.url ?? (w.urlSecret ? await this.opts.secrets.projectValue(w.projectId, w.urlSecret) : null);
      if (!rawUrl) throw new FinalError(`The project secret ${w.urlSecret ?? ""} holding the webhook's URL does not exist`);
      let url: URL;
      try {
        url = parseWebhookUrl(rawUrl);
      } catch (err) {
        throw new FinalError(err instanceof WebhookUrlError ? err.message : "The webhook URL is not valid");
      }
      const body = renderBody(w.format, d.payload as StoredEvent, { deliveryId: d.id, projectName, publicUrl: this.opts.config.publicUrl });
      const headers: Record<string, string> = {};
      if (w.format === "armory") {
        const key = w.secretName ? await this.opts.secrets.projectValue(w.projectId, w.secretName) : null;
        if (!key) throw new FinalError(`The project secret ${w.secretName ?? ""} holding the signing key does not exist`);
        const timestamp = String(Math.floor(startedAt.getTime() / 1000));
        headers["x-armory-event"] = d.eventType;
        headers["x-armory-delivery"] = d.id;
        headers["x-armory-timestamp"] = timestamp;
        headers["x-armory-signature"] = signature(key, timestamp, body);
      }
      const r = await postWebhook(url, body, headers, { allowPrivate: this.opts.config.webhooksAllowPrivate, timeoutMs: this.opts.timeoutMs ?? SEND_TIMEOUT_MS });
      const retryable = r.refused ? false : r.status === null || r.status >= 500 || r.status === 408 || r.status === 429;
      outcome = { status: r.status, body: r.body, error: r.error ?? (r.status !== null && (r.status < 200 || r.status >= 300) ? `HTTP ${r.status}` : null), durationMs: r.durationMs, retryable };
    } catch (err) {
      const message = err instanceof FinalError || err instanceof DomainError ? err.message : "Could not prepare the delivery";
      if (!(err instanceof FinalError || err instanceof DomainError)) this.opts.log.warn({ err: (err as Error)?.message, deliveryId }, "could not prepare a webhook delivery");
      outcome = { status: null, body: null, error: message, durationMs: null, retryable: false };
    }
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    const retry = !ok && outcome.retryable && !isTest && attempts < MAX_ATTEMPTS;
    const delay = RETRY_DELAYS_MS[Math.min(attempts - 1, RETRY_DELAYS_MS.length - 1)]! * (0.8 + 0.4 * this.random());
    const updated = await this.prisma.notificationDelivery
      .update({
        where: { id: deliveryId },
        data: {
          attempts,
          status: ok ? "delivered" : retry ? "pending" : "failed",
          responseStatus: outcome.status,
          responseBody: outcome.body,
          error: ok ? null : outcome.error,
          durationMs: outcome.durationMs,
          lastAttemptAt: startedAt,
          deliveredAt: ok ? this.clock.now() : null,
          nextAttemptAt: retry ? new Date(this.clock.now().getTime() + Math.round(delay)) : null,
        },
      })
      .catch(() => null); // deleted meanwhile (its webhook was removed)
    if (!updated) return null;
    const view = deliveryView(updated, projectName);
    for (const l of this.deliveryListeners) l(w.projectId, view);
    if (!ok) this.opts.log.info({ deliveryId, webhookId: w.id, attempts, status: outcome.status, error: outcome.error, retry }, "webhook delivery not accepted");
    if (retry) void this.armTimer().catch(() => {});
    return view;
  }
}

/** A delivery that cannot succeed as configured (not retried). */
class FinalError extends Error {}

export type { DeliveryEventType };

// The model gateway: agents never hold the real model key. Each agent's container gets
// ANTHROPIC_BASE_URL pointing here and its own token as ANTHROPIC_API_KEY; the gateway checks the
// token (only its sha256 is stored), forwards the request to the configured upstream with
// Armory's key, streams the answer back chunk by chunk (no buffering), and counts tokens per
// agent. An agent whose template names a provider an instance admin registered (Admin →
// Providers: a base URL and the name of the project secret holding its key) is forwarded there
// instead, once the provider is confirmed. Without either, the built-in demo model answers.
// Forwarding (./upstream.ts) resolves the host once and connects to the checked address, refuses
// loopback/link-local/own-listener targets not registered as that exact address, never follows
// redirects, sends a hop header (and refuses requests carrying one), and bounds time and size.
//
// Reachability: agents sit on their project's internal network with no host address on it
// (src/server/runtime/docker/project-network.ts). They reach the gateway at http://armory-gateway:8080,
// the project's relay container, which copies bytes to this gateway's listener on the uplink
// network (ARMORY_AGENT_NETWORK; the host's side of that bridge, e.g. 172.18.0.1), serving only
// the gateway path and the egress proxy (CONNECT, ./egress.ts). ARMORY_GATEWAY_URL names another
// address for the relays to forward to (Armory in a container on the uplink network).
//
// Usage and budgets (./budgets.ts): each request's tokens and list-price cost are added to the
// agent's usage of the day; a request from an agent whose (or whose project's) monthly budget is
// reached is refused before it is forwarded, with 402 billing_error: the Claude Code CLI retries
// 429, 5xx and even 400, but not 402 or 403 (checked against the CLI in the agent image), and a
// 403 reads "Failed to authenticate" there.
import type { ProjectEventBus } from "../events/agent-event-bus";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { Config } from "../config";
import type { PrismaClient } from "../db";
import { DomainError } from "../domain/errors";
import { httpServerOptions } from "../http-boundary";
import type { Logger } from "../logger";
import type { SecretStore } from "../secrets/store";
import { LineSplitter } from "../streams/ndjson";
import { demoReply, readJsonBody, serveDemoMessages, type MessagesRequest } from "./demo-model";
import type { TokenUsage } from "./pricing";
import { checkedAddress, HOP_HEADER, postUpstream, UpstreamRefused, type Listener, type UpstreamFailure, type UpstreamResponse } from "./upstream";
import { EgressProxy } from "./egress";
import { BudgetKeeper, type BudgetRefusal } from "./budgets";
import { RELAY_ALIAS, RELAY_PORT, type AgentRuntime } from "../runtime";
import { AGENTD_PATH, ENV_AGENT_TOKEN, ENV_DAEMON_URL } from "../../contracts/armoryd";

export const GATEWAY_PATH = "/api/gateway/anthropic";
const TOKEN_RE = /^armgw_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/;

export interface GatewayOptions {
  prisma: PrismaClient;
  config: Config;
  log: Logger;
  runtime: AgentRuntime;
  /** Armory's signing secret: agent tokens are derived from it (so they never need storing). */
  secret: string;
  /** Where a template's provider key is read from (a project or agent secret). */
  secrets: SecretStore;
  /** Where a reached budget is announced (notifications subscribe there). */
  events?: ProjectEventBus;
}

/** Where one agent's model requests go. */
export type ModelRoute =
  | { kind: "demo" }
  | { kind: "armory"; baseUrl: string }
  | {
      kind: "provider";
      /** The registered provider's name (Admin → Providers). */
      name: string;
      baseUrl: string;
      keySecret: string | null;
      /** false: migrated from a template's free-form URL and not yet confirmed by an admin (refused). */
      confirmed: boolean;
      allowedModels: string[];
      projectId: string;
    };

/** How long a route is reused before the agent's template is read again (template edits apply within this). */
const ROUTE_TTL_MS = 5_000;

export interface GatewayUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  lastUsedAt: Date | null;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();

function anthropicError(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}) {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ type: "error", error: { type, message } }));
}

export class ModelGateway {
  private listener: http.Server | null = null;
  private listening: Promise<string> | null = null;
  /** Makes sure the agent's project network and relay exist (set by services.ts). */
  private relays: ((agentId: string) => Promise<void>) | null = null;
  /** HTTP CONNECT from agents (through their project's relay): the per-template egress allowlist. */
  readonly egress: EgressProxy;
  /** Usage per agent and day, and the monthly budgets checked before each request. */
  readonly budgets: BudgetKeeper;
  private verified = new Map<string, { agentId: string; until: number }>();
  private routes = new Map<string, { route: ModelRoute; until: number }>();

  constructor(private readonly opts: GatewayOptions) {
    this.budgets = new BudgetKeeper({ prisma: opts.prisma, log: opts.log.child({ component: "budgets" }), events: opts.events });
    this.egress = new EgressProxy({
      prisma: opts.prisma,
      log: opts.log.child({ component: "egress" }),
      verifyToken: (token) => this.verifyToken(token),
      allowPrivate: opts.config.egressAllowPrivate,
      ownPorts: () => {
        const bound = this.listener?.address();
        return [opts.config.port, ...(bound && typeof bound === "object" ? [bound.port] : [])];
      },
    });
  }

  /** True when no upstream key is configured: agents without a provider of their own get the demo model. */
  get demo(): boolean {
    return !this.opts.config.model.apiKey;
  }

  /** The agent's template provider if it has one, else Armory's upstream, else the demo model. */
  async routeFor(agentId: string): Promise<ModelRoute> {
    const cached = this.routes.get(agentId);
    if (cached && cached.until > Date.now()) return cached.route;
    const row = await this.opts.prisma.agent.findUnique({
      where: { id: agentId },
      select: { projectId: true, template: { select: { provider: true } } },
    });
    const provider = row?.template.provider;
    const route: ModelRoute = provider
      ? {
          kind: "provider",
          name: provider.name,
          baseUrl: provider.baseUrl.replace(/\/+$/, ""),
          keySecret: provider.keySecret,
          confirmed: provider.confirmed,
          allowedModels: provider.allowedModels,
          projectId: row.projectId,
        }
      : this.demo
        ? { kind: "demo" }
        : { kind: "armory", baseUrl: this.opts.config.model.baseUrl };
    if (this.routes.size > 10_000) this.routes.clear();
    this.routes.set(agentId, { route, until: Date.now() + ROUTE_TTL_MS });
    return route;
  }

  /** Drops every cached route: a provider was registered, changed, confirmed or deleted. */
  forgetRoutes(): void {
    this.routes.clear();
  }

  /** True when this agent's turns are answered by the built-in demo model. */
  async demoFor(agentId: string): Promise<boolean> {
    return (await this.routeFor(agentId)).kind === "demo";
  }

  /** The agent's token: derived from Armory's secret, so it is the same after every restart. */
  tokenFor(agentId: string): string {
    const mac = createHmac("sha256", this.opts.secret).update(`armory-gateway:${agentId}`).digest("base64url");
    return `armgw_${agentId}_${mac}`;
  }

  /** Makes sure the agent's token hash is stored; returns the token (for the container's env only). */
  async ensureAgentToken(agentId: string): Promise<string> {
    const token = this.tokenFor(agentId);
    const tokenHash = sha256(token).toString("hex");
    await this.opts.prisma.agentGateway.upsert({
      where: { agentId },
      create: { agentId, tokenHash },
      update: { tokenHash },
    });
    return token;
  }

  /** The environment an agent needs to reach the model through the gateway. */
  async agentEnv(agentId: string): Promise<Record<string, string>> {
    const [baseUrl, token, demo] = await Promise.all([
      this.baseUrl(),
      this.ensureAgentToken(agentId),
      this.demoFor(agentId),
      this.relays?.(agentId),
    ]);
    // Everything beyond the gateway goes through the egress proxy, authenticated by the same token.
    const proxy = `http://agent:${token}@${RELAY_ALIAS}:${RELAY_PORT}`;
    const noProxy = `${RELAY_ALIAS},localhost,127.0.0.1`;
    return {
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: token,
      ARMORY_DEMO_MODEL: demo ? "1" : "0",
      // armoryd dials home through the same relay, authenticated by the same token.
      [ENV_DAEMON_URL]: `ws://${RELAY_ALIAS}:${RELAY_PORT}${AGENTD_PATH}`,
      [ENV_AGENT_TOKEN]: token,
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      https_proxy: proxy,
      http_proxy: proxy,
      NO_PROXY: noProxy,
      no_proxy: noProxy,
    };
  }

  /** Serves WebSocket upgrades on the gateway listener (the agent daemons' endpoint, DaemonHub.handleUpgrade). */
  upgrades: ((req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => void) | null = null;

  /** Called before an agent's env is handed out: ensures its project's network and relay. */
  useRelays(ensure: (agentId: string) => Promise<void>): void {
    this.relays = ensure;
  }

  /** The budget refusal this agent's model requests got at or after `since`, if any (a failed turn asks). */
  budgetRefusal(agentId: string, since: Date): BudgetRefusal | null {
    return this.budgets.budgetRefusal(agentId, since);
  }

  async usage(agentId: string): Promise<GatewayUsage> {
    const row = await this.opts.prisma.agentGateway.findUnique({ where: { agentId } });
    return { requests: row?.requests ?? 0, inputTokens: row?.inputTokens ?? 0, outputTokens: row?.outputTokens ?? 0, lastUsedAt: row?.lastUsedAt ?? null };
  }

  // ------------------------------------------------------------------ reachability

  /** The URL agents use for ANTHROPIC_BASE_URL: their project's relay, on the gateway's path. */
  async baseUrl(): Promise<string> {
    const configured = this.opts.config.gateway.url;
    const path = configured ? new URL(configured).pathname.replace(/\/+$/, "") : GATEWAY_PATH;
    return `http://${RELAY_ALIAS}:${RELAY_PORT}${path}`;
  }

  /** Where the project relays forward to (starting the gateway listener if needed). */
  async relayTarget(): Promise<{ host: string; port: number }> {
    const u = new URL(await this.listenUrl());
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
  }

  /** The gateway's own URL on the uplink network (the listener's, or ARMORY_GATEWAY_URL). */
  listenUrl(): Promise<string> {
    if (this.opts.config.gateway.url) return Promise.resolve(this.opts.config.gateway.url);
    this.listening ??= this.listen().catch((err: unknown) => {
      this.listening = null;
      throw err;
    });
    return this.listening;
  }

  private async listen(): Promise<string> {
    const { config, runtime, log } = this.opts;
    await runtime.ensureNetwork(config.agentNetwork);
    const host = (await runtime.inspectNetwork(config.agentNetwork)).gateway;
    if (!host) throw new Error(`The Docker network ${config.agentNetwork} has no gateway address; set ARMORY_GATEWAY_URL.`);
    const wildcard = config.bindAddress === "0.0.0.0" || config.bindAddress === "::";
    const port = config.gateway.port ?? config.port;
    if (wildcard && port === config.port) {
      // Armory's own server already listens on every address, the bridge's included.
      return `http://${host}:${port}${GATEWAY_PATH}`;
    }
    // The same header/body timeouts as Armory's own server (a slow body is cut; tunnels and streamed replies are not).
    const server = http.createServer(httpServerOptions(config.limits), (req, res) => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? "")) {
        // An agent's HTTP_PROXY request for a plain http:// URL: only HTTPS is tunnelled (CONNECT).
        return anthropicError(res, 403, "permission_error", "Armory's egress proxy only tunnels HTTPS (CONNECT host:443); plain http:// is not proxied.");
      }
      if (!this.handles(req.url)) return anthropicError(res, 404, "not_found_error", "Only the model gateway is served here.");
      void this.handle(req, res);
    });
    server.on("connect", (req, socket, head) => this.egress.handle(req, socket, head));
    // Agent daemons dial home here (through their project's relay): the WebSocket at AGENTD_PATH.
    server.on("upgrade", (req, socket, head) => {
      if (this.upgrades) return this.upgrades(req, socket, head);
      socket.destroy();
    });
    server.requestTimeout = 0;
    const listenOn = (p: number) =>
      new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(p, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    try {
      await listenOn(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0) throw err;
      // Chat turns hand the current URL to the CLI, so any free port works; containers created
      // now carry this one until they are re-created.
      log.warn({ host, port }, "model gateway port is taken; listening on a free port instead (set ARMORY_GATEWAY_PORT)");
      await listenOn(0);
    }
    this.listener = server;
    const bound = (server.address() as { port: number }).port;
    const url = `http://${host}:${bound}${GATEWAY_PATH}`;
    log.info({ url: `http://${host}:${bound}` }, "model gateway listening for agents");
    return url;
  }

  async close(): Promise<void> {
    const server = this.listener;
    this.listener = null;
    this.listening = null;
    this.egress.closeAll();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // ------------------------------------------------------------------ requests

  handles(url: string | undefined): boolean {
    return !!url && (url === GATEWAY_PATH || url.startsWith(`${GATEWAY_PATH}/`) || url.startsWith(`${GATEWAY_PATH}?`));
  }

  private async authenticate(req: http.IncomingMessage): Promise<string | null> {
    const auth = req.headers.authorization;
    const key = req.headers["x-api-key"];
    const token = typeof key === "string" && key ? key : auth?.startsWith("Bearer ") ? auth.slice(7) : "";
    return this.verifyToken(token);
  }

  /** The agent an Armory gateway token belongs to, or null (constant-time hash comparison). */
  async verifyToken(token: string): Promise<string | null> {
    const m = TOKEN_RE.exec(token);
    if (!m) return null;
    const agentId = m[1]!;
    const digest = sha256(token);
    const hex = digest.toString("hex");
    const cached = this.verified.get(hex);
    if (cached && cached.until > Date.now()) return cached.agentId;
    const row = await this.opts.prisma.agentGateway.findUnique({ where: { agentId }, select: { tokenHash: true } });
    if (!row) return null;
    const stored = Buffer.from(row.tokenHash, "hex");
    if (stored.length !== digest.length || !timingSafeEqual(stored, digest)) return null;
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(hex, { agentId, until: Date.now() + 30_000 });
    return agentId;
  }

  /** Serves one request under GATEWAY_PATH (from the gateway listener or Armory's main server). */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { log } = this.opts;
    try {
      // Armory sends this header upstream: receiving it means a provider points back at a gateway.
      if (req.headers[HOP_HEADER] !== undefined) {
        log.warn({ hop: String(req.headers[HOP_HEADER]).slice(0, 20) }, "model gateway refused a looped request");
        return anthropicError(res, 508, "invalid_request_error", `This request already passed through an Armory model gateway (${HOP_HEADER}); refused to prevent a forwarding loop.`);
      }
      const agentId = await this.authenticate(req);
      if (!agentId) return anthropicError(res, 401, "authentication_error", "Invalid or missing Armory gateway token.");
      const sub = (req.url ?? "").slice(GATEWAY_PATH.length);
      const path = sub.split("?")[0];
      if (req.method !== "POST" || path !== "/v1/messages") {
        return anthropicError(res, 404, "not_found_error", "The gateway serves POST /v1/messages.");
      }
      const { raw, json } = await readJsonBody(req, this.opts.config.gateway.maxRequestBytes);
      const route = await this.routeFor(agentId);
      if (route.kind === "provider" && !route.confirmed) {
        return anthropicError(res, 403, "permission_error", `The agent's template uses provider ${route.name}, which was migrated from a free-form base URL and awaits confirmation: an instance admin confirms it under Admin → Providers.`);
      }
      if (route.kind === "provider" && route.allowedModels.length) {
        const model = (json as { model?: unknown }).model;
        if (typeof model !== "string" || !route.allowedModels.includes(model)) {
          return anthropicError(res, 400, "invalid_request_error", `Provider ${route.name} allows the models ${route.allowedModels.join(", ")}; this request asked for ${typeof model === "string" ? model.slice(0, 200) : "none"}.`);
        }
      }
      let key: string | null = null;
      if (route.kind === "armory") key = this.opts.config.model.apiKey!;
      else if (route.kind === "provider" && route.keySecret) {
        // 403, not 5xx: the CLI retries server errors, and retrying cannot set (or re-key) the secret.
        try {
          key = await this.opts.secrets.valueFor(route.projectId, agentId, route.keySecret);
        } catch (err) {
          if (err instanceof DomainError) return anthropicError(res, 403, "permission_error", err.message);
          throw err;
        }
        if (key === null) {
          return anthropicError(res, 403, "permission_error", `The agent's template sends its model requests to provider ${route.name}, but the secret ${route.keySecret} that holds the key is not set in its project. Set it under the project's Secrets.`);
        }
      }
      const refusal = await this.budgets.check(agentId);
      if (refusal) {
        log.info({ agentId, scope: refusal.scope, limit: refusal.limit }, "model request refused: budget reached");
        return anthropicError(res, 402, "billing_error", refusal.message, { "x-should-retry": "false" });
      }
      const requested = (json as { model?: unknown }).model;
      const counter = new UsageCounter(typeof requested === "string" && requested ? requested.slice(0, 200) : "unknown");
      res.on("close", () => void this.record(agentId, counter));
      if (route.kind === "demo") {
        const tap = res.write.bind(res);
        res.write = ((chunk: string | Buffer, ...rest: unknown[]) => {
          counter.feed(chunk);
          return (tap as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof res.write;
        const end = res.end.bind(res);
        res.end = ((chunk?: unknown, ...rest: unknown[]) => {
          if (chunk && typeof chunk !== "function") counter.feedJson(chunk as string | Buffer);
          return (end as (c?: unknown, ...r: unknown[]) => http.ServerResponse)(chunk, ...rest);
        }) as typeof res.end;
        await serveDemoMessages(json as MessagesRequest, res);
        return;
      }
      await this.forward(route, key, sub, req, raw, res, counter);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status) return anthropicError(res, status, "invalid_request_error", (err as Error).message);
      log.error({ err }, "model gateway request failed");
      anthropicError(res, 500, "api_error", "Armory's model gateway failed on this request.");
    }
  }

  /**
   * One Messages API call Armory makes itself (the teams' llm router): non-streaming, to the same
   * upstream agents without a provider use (ANTHROPIC_BASE_URL with Armory's key, resolved once and
   * connected to the checked address, no redirects), or the demo model when no key is configured.
   * Bounded: `timeoutMs` in all (at most the gateway's own limits) and `maxResponseBytes`.
   * Throws ModelCallError saying why when there is no usable answer.
   */
  async complete(
    req: { model: string; system?: string; messages: { role: "user" | "assistant"; content: string }[]; maxTokens: number },
    opts: { timeoutMs?: number; maxResponseBytes?: number; signal?: AbortSignal } = {},
  ): Promise<{ text: string; usage: TokenUsage; demo: boolean }> {
    const none: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0, cacheCreation1hTokens: 0 };
    if (this.demo) {
      const reply = demoReply({ model: req.model, stream: false, messages: req.messages });
      const text = reply.blocks.map((b) => (b.type === "text" ? b.text : "")).join("");
      return { text, usage: none, demo: true };
    }
    const { config } = this.opts;
    const g = config.gateway;
    const url = new URL(config.model.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/messages`;
    let pinned: { address: string; family: 4 | 6 };
    try {
      pinned = await checkedAddress(url, { operator: true, ownListeners: this.ownListeners(), resolveTimeoutMs: g.connectTimeoutMs });
    } catch (err) {
      if (err instanceof UpstreamRefused) throw new ModelCallError(`the model upstream is not reachable (${err.message})`);
      throw err;
    }
    const body = Buffer.from(
      JSON.stringify({ model: req.model, max_tokens: req.maxTokens, stream: false, ...(req.system ? { system: req.system } : {}), messages: req.messages }),
    );
    const headers: Record<string, string> = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": config.model.apiKey! };
    const totalMs = Math.min(opts.timeoutMs ?? 30_000, g.upstreamTimeoutMs);
    const maxBytes = Math.min(opts.maxResponseBytes ?? 1024 * 1024, g.maxResponseBytes);
    const limits = { connectTimeoutMs: g.connectTimeoutMs, totalTimeoutMs: totalMs, idleTimeoutMs: Math.min(g.idleTimeoutMs, totalMs), maxResponseBytes: maxBytes };
    let upstream: UpstreamResponse;
    try {
      upstream = await postUpstream(url, pinned, headers, body, limits, opts.signal ?? new AbortController().signal);
    } catch (err) {
      const f = err as UpstreamFailure;
      throw new ModelCallError(
        f.kind === "connect-timeout" || f.kind === "timeout" ? `the model did not answer within ${Math.round(totalMs / 1000)} s` : `the model upstream could not be reached (${f.kind === "network" ? f.message : f.kind})`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of upstream.chunks) chunks.push(chunk);
    const failure = upstream.failure();
    if (failure) {
      throw new ModelCallError(failure.kind === "too-large" ? `the model's answer passed ${maxBytes} bytes` : failure.kind === "timeout" ? `the model did not answer within ${Math.round(totalMs / 1000)} s` : "the model's answer was cut off");
    }
    const raw = Buffer.concat(chunks).toString("utf8");
    let json: { content?: { type?: string; text?: string }[]; usage?: ApiUsage; error?: { message?: string } };
    try {
      json = JSON.parse(raw) as typeof json;
    } catch {
      throw new ModelCallError(`the model upstream answered ${upstream.status} with a body that is not JSON`);
    }
    if (upstream.status < 200 || upstream.status >= 300) {
      throw new ModelCallError(`the model upstream answered ${upstream.status}${json.error?.message ? `: ${String(json.error.message).slice(0, 200)}` : ""}`);
    }
    const text = (Array.isArray(json.content) ? json.content : []).map((b) => (b?.type === "text" && typeof b.text === "string" ? b.text : "")).join("");
    const u = json.usage ?? {};
    return {
      text,
      demo: false,
      usage: {
        inputTokens: u.input_tokens ?? 0,
        outputTokens: u.output_tokens ?? 0,
        cacheReadTokens: u.cache_read_input_tokens ?? 0,
        cacheCreationTokens: u.cache_creation_input_tokens ?? 0,
        cacheCreation1hTokens: u.cache_creation?.ephemeral_1h_input_tokens ?? 0,
      },
    };
  }

  /** Armory's own listeners: the gateway must never be pointed back at them (only by an exact registration). */
  private ownListeners(): Listener[] {
    const out: Listener[] = [{ address: this.opts.config.bindAddress, port: this.opts.config.port }];
    const bound = this.listener?.address();
    if (bound && typeof bound === "object") out.push({ address: bound.address, port: bound.port });
    return out;
  }

  /**
   * Forwards to the route's upstream: a registered (confirmed) provider or the operator's upstream.
   * Resolved once and connected to the checked address; never follows a redirect; bounded in time
   * and size; streamed chunk by chunk.
   */
  private async forward(
    route: Extract<ModelRoute, { kind: "armory" | "provider" }>,
    key: string | null,
    sub: string,
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
    counter: UsageCounter,
  ) {
    const { log, config } = this.opts;
    const who = route.kind === "provider" ? `provider ${route.name}` : "Armory's model upstream";
    const url = new URL(route.baseUrl);
    const [path, query] = [sub.split("?")[0]!, sub.includes("?") ? sub.slice(sub.indexOf("?")) : ""];
    url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
    url.search = query;
    let pinned: { address: string; family: 4 | 6 };
    try {
      pinned = await checkedAddress(url, {
        operator: route.kind === "armory",
        ownListeners: this.ownListeners(),
        resolveTimeoutMs: config.gateway.connectTimeoutMs,
      });
    } catch (err) {
      if (!(err instanceof UpstreamRefused)) throw err;
      log.warn({ provider: route.kind === "provider" ? route.name : null, host: url.hostname, reason: err.message }, "model gateway refused an upstream");
      // A DNS hiccup may pass (502: the CLI retries); a refusal is 403: retrying cannot change the registration.
      if (err.transient) return anthropicError(res, 502, "api_error", `Armory's model gateway could not reach the model upstream (${err.message}).`);
      return anthropicError(res, 403, "permission_error", `Armory's model gateway refused to forward to ${who}: ${err.message}.`);
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key) headers["x-api-key"] = key;
    for (const h of ["anthropic-version", "anthropic-beta", "accept"]) {
      const v = req.headers[h];
      if (typeof v === "string") headers[h] = v;
    }
    headers["anthropic-version"] ??= "2023-06-01";
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const g = config.gateway;
    const limits = { connectTimeoutMs: g.connectTimeoutMs, totalTimeoutMs: g.upstreamTimeoutMs, idleTimeoutMs: g.idleTimeoutMs, maxResponseBytes: g.maxResponseBytes };
    let upstream: UpstreamResponse;
    try {
      upstream = await postUpstream(url, pinned, headers, body, limits, abort.signal);
    } catch (err) {
      const f = err as UpstreamFailure;
      if (f.kind === "aborted") return;
      if (f.kind === "connect-timeout" || f.kind === "timeout") {
        log.warn({ host: url.hostname, failure: f }, "model upstream timed out");
        const what = f.kind === "connect-timeout" ? `connecting took longer than ${g.connectTimeoutMs / 1000} s` : f.idle ? `it sent nothing for ${g.idleTimeoutMs / 1000} s` : `it took longer than ${g.upstreamTimeoutMs / 1000} s`;
        return anthropicError(res, 504, "api_error", `Armory's model gateway gave up on ${who}: ${what}.`);
      }
      const message = f.kind === "network" ? f.message : f.kind;
      log.warn({ host: url.hostname, err: message }, "model upstream unreachable");
      return anthropicError(res, 502, "api_error", `Armory's model gateway could not reach the model upstream (${message}).`);
    }
    if (upstream.status >= 300 && upstream.status < 400) {
      upstream.discard();
      let target = "elsewhere";
      try {
        target = new URL(String(upstream.headers.location ?? ""), url).host || target;
      } catch {
        // no usable Location
      }
      log.warn({ host: url.hostname, status: upstream.status, redirectHost: target }, "model upstream answered with a redirect; not followed");
      return anthropicError(res, 502, "api_error", `${who} answered with a redirect (${upstream.status}); Armory's model gateway never follows redirects. An instance admin can register the provider's final URL instead.`);
    }
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(upstream.headers)) {
      if (typeof v !== "string") continue;
      if (["content-type", "content-encoding", "request-id", "retry-after"].includes(k) || k.startsWith("anthropic-")) outHeaders[k] = v;
    }
    outHeaders["x-accel-buffering"] = "no";
    res.writeHead(upstream.status, outHeaders);
    res.flushHeaders();
    const sse = String(upstream.headers["content-type"] ?? "").includes("text/event-stream");
    for await (const chunk of upstream.chunks) {
      // Straight through, chunk by chunk (waiting when the agent reads slower than the upstream sends).
      if (!res.write(chunk) && !res.destroyed) await new Promise((r) => res.once("drain", r).once("close", r));
      if (sse) counter.feed(chunk);
      else counter.body.push(chunk);
    }
    const failure = upstream.failure();
    if (failure && failure.kind !== "aborted") {
      const reason =
        failure.kind === "too-large"
          ? `the response passed ${g.maxResponseBytes} bytes (ARMORY_GATEWAY_MAX_RESPONSE_BYTES)`
          : failure.kind === "timeout"
            ? failure.idle
              ? `it sent nothing for ${g.idleTimeoutMs / 1000} s`
              : `it took longer than ${g.upstreamTimeoutMs / 1000} s`
            : `the connection broke (${failure.kind === "network" ? failure.message : failure.kind})`;
      log.warn({ host: url.hostname, failure }, "model upstream response cut");
      if (sse) {
        // The stream's own error event: the CLI reports it as the turn's error.
        const event = { type: "error", error: { type: "api_error", message: `Armory's model gateway cut the reply from ${who}: ${reason}.` } };
        res.end(`event: error\ndata: ${JSON.stringify(event)}\n\n`);
      } else {
        // A cut JSON body must not look complete.
        res.destroy();
      }
      return;
    }
    if (!sse) counter.feedJson(Buffer.concat(counter.body));
    res.end();
  }

  private async record(agentId: string, counter: UsageCounter): Promise<void> {
    if (counter.recorded) return;
    counter.recorded = true;
    try {
      await this.opts.prisma.agentGateway.update({
        where: { agentId },
        data: {
          requests: { increment: 1 },
          inputTokens: { increment: counter.input + counter.cacheRead + counter.cacheCreation },
          outputTokens: { increment: counter.output },
          lastUsedAt: new Date(),
        },
      });
      await this.budgets.record(agentId, counter.model, {
        inputTokens: counter.input,
        outputTokens: counter.output,
        cacheReadTokens: counter.cacheRead,
        cacheCreationTokens: counter.cacheCreation,
        cacheCreation1hTokens: counter.cacheCreation1h,
      });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message, agentId }, "could not record gateway usage");
    }
  }
}

/** A model call Armory made itself (ModelGateway.complete) produced no usable answer; the message says why. */
export class ModelCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelCallError";
  }
}

type ApiUsage = {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_creation?: { ephemeral_1h_input_tokens?: number };
};

/**
 * Reads token usage from an SSE stream (message_start, then message_delta's running totals) or a
 * JSON message as it passes: uncached input, cache reads and writes (and of those, 1-hour writes), output.
 */
class UsageCounter {
  input = 0;
  output = 0;
  cacheRead = 0;
  cacheCreation = 0;
  cacheCreation1h = 0;
  recorded = false;
  body: Buffer[] = [];
  private lines = new LineSplitter({ maxLineLength: 8 * 1024 * 1024 });

  constructor(readonly model: string) {}

  /** message_start and message_delta carry cumulative counts: keep the largest seen of each. */
  private take(u: ApiUsage): void {
    this.input = Math.max(this.input, u.input_tokens ?? 0);
    this.output = Math.max(this.output, u.output_tokens ?? 0);
    this.cacheRead = Math.max(this.cacheRead, u.cache_read_input_tokens ?? 0);
    this.cacheCreation = Math.max(this.cacheCreation, u.cache_creation_input_tokens ?? 0);
    this.cacheCreation1h = Math.max(this.cacheCreation1h, u.cache_creation?.ephemeral_1h_input_tokens ?? 0);
  }

  feed(chunk: string | Buffer): void {
    for (const line of this.lines.push(chunk)) {
      if (!line.startsWith("data:")) continue;
      try {
        const d = JSON.parse(line.slice(5)) as { type?: string; message?: { usage?: ApiUsage }; usage?: ApiUsage };
        if (d.type === "message_start" && d.message?.usage) this.take(d.message.usage);
        else if (d.type === "message_delta" && d.usage) this.take(d.usage);
      } catch {
        // not JSON: not ours to judge, it was passed through unchanged
      }
    }
  }

  feedJson(chunk: string | Buffer): void {
    try {
      const d = JSON.parse(chunk.toString()) as { usage?: ApiUsage };
      if (d.usage) this.take(d.usage);
    } catch {
      // an SSE stream's end, or not JSON
    }
  }
}

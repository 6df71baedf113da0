// The process-wide services (config, logger, database, auth, Docker, agents). Armory's server
// (src/server/main.ts) creates them once before it listens and registers them
// (services-registry.ts), where Next's route handlers find them; tests create their own.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { AgentConfigWatch } from "./agent-config/watch";
import { DefaultAgentImage } from "./agents/images";
import { AgentManager } from "./agents/manager";
import { createAuth, type Auth } from "./auth";
import type { Config } from "./config";
import { openDatabase, type Database } from "./db";
import { applyMigrations } from "./db/migrate";
import { createRuntime, DockerRuntime, type AgentRuntime, type ProjectNetworks } from "./runtime";
import type { Docker } from "./runtime/docker/client";
import { ensurePrivateDir } from "./private-dir";
import { syncTemplates } from "./domain/templates";
import { StatsCollector } from "./health/collector";
import { HealthMonitor, type SelfHealSettings } from "./health/monitor";
import { HealthService } from "./health/service";
import { LogService } from "./logs/service";
import { metrics } from "./metrics";
import { AgentFiles } from "./files/service";
import { createLogger, type Logger } from "./logger";
import { pruneAuditEvents } from "./trust/audit";
import { resolveMasterKey } from "./secrets/crypto";
import { SecretStore } from "./secrets/store";
import { Rollouts } from "./versions/rollout";
import { ChatService } from "./chat/service";
import { ApprovalService } from "./approvals/service";
import { normalizeAgentPath } from "./trust/grants";
import { DomainError } from "./domain/errors";
import { TerminalService } from "./terminal/service";
import { ModelGateway } from "./gateway/gateway";
import { UsageService } from "./usage/service";
import { DaemonHub } from "./agentd/hub";
import { AgentEventBus, type ProjectEventBus } from "./events/agent-event-bus";
import { NotificationService, type NotificationClock } from "./notifications/service";
import { AutomationTurns } from "./automation/turns";
import { HookService } from "./hooks/service";
import { TeamService } from "./teams/service";
import { ScheduleService, type ScheduleClock } from "./schedules/service";
import { SnapshotService } from "./snapshots/service";
import { GitService } from "./git/service";
import { postgresCluster, singleCluster, type Cluster } from "./cluster";

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  auth: Auth;
  /** The container engine, through the runtime port (src/server/runtime/). */
  runtime: AgentRuntime;
  agentImage: DefaultAgentImage;
  agents: AgentManager;
  /** Encrypted project and agent secrets (injected into containers at create time). */
  secrets: SecretStore;
  /** Safe re-creates of agent containers: image updates and env changes, with rollback and history. */
  rollouts: Rollouts;
  /** Resources (stats collector), health checks and self-heal. */
  health: HealthService;
  logs: LogService;
  /** Agent files (files.*) and their agent-file-changed events. */
  files: AgentFiles;
  /** Config hot-reload: listens to the agents' daemons; `onReload(listener)` is the hook for other code. */
  agentConfig: AgentConfigWatch;
  gateway: ModelGateway;
  /** Model usage by day and agent, and the monthly budgets the gateway enforces. */
  usage: UsageService;
  /** The agent daemons' connections (armoryd): chat, files, config and the terminal go through it. */
  hub: DaemonHub;
  /** Per-project internal networks and their egress relays (network isolation). */
  projectNetworks: ProjectNetworks;
  chat: ChatService;
  /** Git workspaces: repository clones, a branch per session, diffs, commits, pull requests. */
  git: GitService;
  /** Tool approvals (Claude Code's permission prompts during chat turns). */
  approvals: ApprovalService;
  /** Approvals, finished and failed turns, crashes, budgets (src/contracts/project-events.ts): what notifications send out. */
  projectEvents: ProjectEventBus;
  /** Project webhooks: delivers projectEvents (and produces turn and crash events from chat and agents). */
  notifications: NotificationService;
  /** Terminals (a PTY in an agent's container through its daemon), each as long as its subscription. */
  terminal: TerminalService;
  /** Turns started by automation (schedules, inbound webhooks, the OpenAI-compatible endpoint, teams) and their outcomes. */
  turns: AutomationTurns;
  /** Inbound webhooks (POST /api/hooks/<id>): verified payloads rendered into chat messages. */
  hooks: HookService;
  /** Teams: a set of agents and a router (keyword, llm, hybrid) that picks one per message. */
  teams: TeamService;
  /** Schedules (cron messages to agents) and the scheduler that fires them. */
  schedules: ScheduleService;
  /** Agent snapshots (workspace and session volumes as archives): create, restore, clone. */
  snapshots: SnapshotService;
  /** Several instances on one PostgreSQL (leader, routing, fan-out); a no-op on PGlite (src/server/cluster/). */
  cluster: Cluster;
  startedAt: Date;
  /** Starts the long-lived work (Docker events, reconcile loop, image build); once per process. */
  startBackground(): void;
  close(): Promise<void>;
}

export function pgliteDirFor(config: Pick<Config, "dataDir">): string {
  return path.join(config.dataDir, "pglite");
}

/**
 * The auth secret comes from ARMORY_AUTH_SECRET; on an embedded start without one, a random
 * secret is generated once into the data directory so sessions survive restarts.
 */
export function resolveAuthSecret(config: Config, log: Logger): string {
  if (config.authSecret) return config.authSecret;
  const file = path.join(config.dataDir, "auth-secret");
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  ensurePrivateDir(config.dataDir);
  const secret = randomBytes(32).toString("base64url");
  fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
  log.warn(
    { file },
    "ARMORY_AUTH_SECRET is not set: generated one into the data directory. Keep that file private and backed up, or set ARMORY_AUTH_SECRET.",
  );
  return secret;
}

export interface CreateServicesOptions {
  config: Config;
  log?: Logger;
  /** An already open database (tests); otherwise opened from the config. */
  db?: Database;
  authSecret?: string;
  migrate?: boolean;
  /** Directory of built-in templates (default ./templates). */
  templatesDir?: string;
  /** An engine client of the test's own (otherwise the engine config.engine names). */
  docker?: Docker;
  /** Self-heal timings (tests shorten them). */
  selfHeal?: Partial<SelfHealSettings>;
  /** The self-heal monitor's clock (tests prove the two-minute streak reset without waiting). */
  healthClock?: () => number;
  /** The clock and timer of webhook retries (tests drive retries without waiting). */
  notificationClock?: NotificationClock;
  /** The scheduler's clock and timer (tests drive schedules without waiting). */
  scheduleClock?: ScheduleClock;
  /** Cluster timings (tests shorten them): heartbeat, expiry of a silent instance, leader lock tries. */
  cluster?: { heartbeatMs?: number; expireMs?: number; leaderPollMs?: number };
}

export async function createServices(opts: CreateServicesOptions): Promise<Services> {
  const { config } = opts;
  const log = opts.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const db =
    opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirFor(config) }));
  try {
    if (opts.migrate !== false) {
      const result = await applyMigrations(db, {
        log: (msg, data) => {
          // The runner says its level in the data; pino has its own level field.
          const { level, ...fields } = (data ?? {}) as { level?: string };
          if (level === "warn") log.warn(fields, msg);
          else log.info(fields, msg);
        },
      });
      if (result.applied.length) log.info({ applied: result.applied }, "database migrations applied");
    }
    await syncTemplates(db.prisma, { dir: opts.templatesDir, log });
    const secret = opts.authSecret ?? resolveAuthSecret(config, log);
    const auth = createAuth({ prisma: db.prisma, config, secret, log });
    const runtime = opts.docker ? new DockerRuntime(opts.docker) : createRuntime(config);
    const agentImage = new DefaultAgentImage(runtime, log);
    const secrets = new SecretStore(db.prisma, resolveMasterKey(config, log));
    const foreign = await secrets.foreignKeyCount();
    if (foreign) {
      log.error(
        { secrets: foreign, keyId: secrets.keyId },
        "some secrets were encrypted with another key than the current ARMORY_SECRET_KEY: agents using them cannot be (re)created until the key is restored or the secrets are set again",
      );
    }
    const projectEvents: ProjectEventBus = new AgentEventBus();
    const gateway = new ModelGateway({ prisma: db.prisma, config, log: log.child({ component: "gateway" }), runtime, secret, secrets, events: projectEvents });
    // Every agent's daemon dials home to the gateway listener, authenticated by the agent's token.
    const hub = new DaemonHub({
      log: log.child({ component: "agentd" }),
      verifyToken: (token) => gateway.verifyToken(token),
      containerIdsComparable: runtime.containerIdIsEngineId,
    });
    gateway.upgrades = (req, socket, head) => hub.handleUpgrade(req, socket, head);
    // Each project's agents on their own internal network; its relay is their only way out.
    const projectNetworks = runtime.projectNetworks({
      log: log.child({ component: "project-network" }),
      uplink: config.agentNetwork,
      subnetPool: config.projectSubnets,
      relayImage: () => agentImage.ensureDefault(),
      relayTarget: () => gateway.relayTarget(),
    });
    // Before a chat turn hands out the gateway URL: the agent's relay is there (and forwards to this
    // gateway's current address). Agents without a container have no use for it yet.
    gateway.useRelays(async (agentId) => {
      const row = await db.prisma.agent.findUnique({ where: { id: agentId }, select: { projectId: true, containerId: true } });
      if (row?.containerId) await projectNetworks.ensure(row.projectId);
    });
    const agents = new AgentManager({
      prisma: db.prisma,
      runtime,
      log,
      images: agentImage,
      networks: projectNetworks,
      secrets,
      extraEnv: (agentId) => gateway.agentEnv(agentId),
      hub,
      // A started agent clones its pending repository (git is made below, before any start).
      onStarted: (agentId) => git.cloneIfPending(agentId),
    });
    // A secret change flags the containers made from the old values (restartRequired).
    secrets.onChange((scope) => agents.secretsChanged(scope.projectId, scope.agentId ?? undefined));
    const rollouts = new Rollouts({ prisma: db.prisma, runtime, hub, log, agents, images: agentImage, healthTimeoutMs: config.updateHealthTimeoutMs });
    const collector = new StatsCollector({ runtime, prisma: db.prisma, bus: agents.bus, log });
    const monitor = new HealthMonitor({
      prisma: db.prisma,
      runtime,
      hub,
      agents,
      log,
      settings: { checkIntervalMs: config.healthCheckIntervalSeconds * 1000, ...opts.selfHeal },
      clock: opts.healthClock,
    });
    const health = new HealthService(db.prisma, collector, monitor);
    const logs = new LogService(db.prisma, runtime, agents.bus, undefined, log.child({ component: "logs" }));
    const m = metrics();
    m.sources.agentStates = async () => {
      const groups = await db.prisma.agent.groupBy({ by: ["observedState"], _count: { _all: true } });
      return Object.fromEntries(groups.map((g) => [g.observedState, g._count._all]));
    };
    m.sources.statsStreams = () => collector.streamCount;
    const files = new AgentFiles({ prisma: db.prisma, hub, maxBytes: config.filesMaxBytes, log: log.child({ component: "files" }) });
    const agentConfig = new AgentConfigWatch({ prisma: db.prisma, hub, log, files });
    const git: GitService = new GitService({
      prisma: db.prisma,
      hub,
      files,
      secrets,
      log: log.child({ component: "git" }),
      publishAgent: (agentId) => agents.publishAgent(agentId),
      complete: (req) => gateway.complete(req, { timeoutMs: 60_000 }),
    });
    const approvals = new ApprovalService({
      prisma: db.prisma,
      log: log.child({ component: "approvals" }),
      events: projectEvents,
      // For Write/Edit diffs: the file as it is now (null when it does not exist or is not text).
      readFile: async (projectId, agentId, filePath) => {
        try {
          const r = await files.read({ projectId, agentId }, filePath, async (p) => normalizeAgentPath(p));
          return r.encoding === "utf-8" ? r.content : null;
        } catch (err) {
          if (err instanceof DomainError && err.code === "NOT_FOUND") return null;
          throw err;
        }
      },
    });
    const chat = new ChatService({
      prisma: db.prisma,
      runtime,
      hub,
      log: log.child({ component: "chat" }),
      config,
      gateway,
      events: projectEvents,
      approvals,
      onMessageSent: (agentId, at) => agents.messageSent(agentId, at),
      beforeSessionDelete: (projectId, agentId, sessionId) => git.removeSessionWorktree({ projectId, agentId, sessionId }),
    });
    // Several instances on one PostgreSQL: events reach every instance, commands the daemon's one.
    const cluster =
      db.kind === "postgres"
        ? await postgresCluster({
            db,
            databaseUrl: db.url,
            hub,
            log: log.child({ component: "cluster" }),
            ...opts.cluster,
            bridge: { chat: { bus: chat.bus, store: chat.store }, status: agents.bus, files: files.events, reloads: agentConfig.reloads },
          })
        : singleCluster(hub);
    chat.useCluster(cluster);
    approvals.useCluster(cluster);
    cluster.onOrphans((agentIds) => chat.recover(agentIds));
    // Turns a previous start left running; with several instances, not those of a live instance.
    await chat.recover(cluster.mode === "postgres" ? await cluster.orphanedAgents() : undefined);
    // Chat turns leave their start and end in the agent's logs (the "armory" stream).
    logs.watchChat(chat.bus);
    // Warm chat processes read the instructions at start: a reload ends them (next turn resumes).
    agentConfig.onReload(({ agentId }) => chat.recycleAgent(agentId));
    const notifications = new NotificationService({
      prisma: db.prisma,
      secrets,
      events: projectEvents,
      log: log.child({ component: "notifications" }),
      config,
      clock: opts.notificationClock,
    });
    notifications.watchChat(chat.bus);
    notifications.watchAgents(agents.bus);
    // Delivers from now on, and resumes retries left pending by the previous run.
    notifications.start();
    const terminal = new TerminalService({ prisma: db.prisma, hub, status: agents.bus, remote: cluster, log: log.child({ component: "terminal" }) });
    const turns = new AutomationTurns(db.prisma, chat);
    const hooks = new HookService({ prisma: db.prisma, secrets, turns, chat, log: log.child({ component: "hooks" }) });
    const teams = new TeamService({ prisma: db.prisma, gateway, turns, log: log.child({ component: "teams" }) });
    // Team files next to the templates (<templates dir>/teams/*.yaml), after the templates.
    await teams.syncFiles(path.join(opts.templatesDir ?? path.join(process.cwd(), "templates"), "teams"));
    const schedules = new ScheduleService({
      prisma: db.prisma,
      turns,
      renameSession: (projectId, agentId, sessionId, title) => chat.renameSession(projectId, agentId, sessionId, title),
      log: log.child({ component: "schedules" }),
      clock: opts.scheduleClock,
    });
    // Ends runs a previous start left running, catches up missed schedules, arms the timer: on
    // the cluster's leader only (at once on PGlite), moving with the leadership.
    cluster.onLeadership((leader) => void (leader ? schedules.start() : schedules.close()));
    const snapshots = new SnapshotService({ prisma: db.prisma, runtime, agents, settings: config.snapshots, log: log.child({ component: "snapshots" }) });
    await snapshots.recover();
    let background = false;
    let auditPrune: NodeJS.Timeout | null = null;
    let offLeadership: (() => void) | null = null;
    // A relay may point at an instance that stopped answering: the leader points them at itself.
    cluster.onInstancesGone(() => {
      if (background) void pointRelaysHere(true);
    });
    const pruneAudit = () =>
      pruneAuditEvents(db.prisma, config.auditRetentionDays)
        .then((n) => n && log.info({ deleted: n, retentionDays: config.auditRetentionDays }, "old audit entries deleted"))
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, "could not prune the audit log"));
    return {
      config,
      log,
      db,
      auth,
      runtime,
      agentImage,
      agents,
      secrets,
      rollouts,
      health,
      logs,
      files,
      agentConfig,
      gateway,
      usage: new UsageService({ prisma: db.prisma, budgets: gateway.budgets }),
      hub,
      projectNetworks,
      chat,
      git,
      approvals,
      projectEvents,
      notifications,
      terminal,
      turns,
      hooks,
      teams,
      schedules,
      snapshots,
      cluster,
      startedAt: new Date(),
      startBackground() {
        if (background) return;
        background = true;
        // Every instance: resource samples of the engine, and its own daemons' config watches.
        collector.start();
        agentConfig.start();
        void gateway.listenUrl().catch(() => {});
        // Once across instances (the leader; at once on PGlite): engine events and reconcile,
        // self-heal, retention, relays and networks, the image build.
        offLeadership = cluster.onLeadership((leader) => {
          if (!leader) {
            void agents.stopBackground();
            void monitor.stop();
            if (auditPrune) clearInterval(auditPrune);
            auditPrune = null;
            return;
          }
          agents.startBackground();
          monitor.start();
          leaderWork();
        });
      },
      async close() {
        offLeadership?.();
        if (auditPrune) clearInterval(auditPrune);
        await Promise.all([collector.stop(), monitor.stop(), agentConfig.stop()]);
        await schedules.close();
        await snapshots.close();
        await chat.close();
        await notifications.close();
        approvals.close();
        terminal.close();
        await cluster.close();
        await hub.close();
        await gateway.close();
        await agents.stopBackground();
        await db.close();
      },
    };
    // Project relays reach the model gateway on the uplink network's gateway address. Agents'
    // daemons dial home through them too: the leader points the relays of projects with running
    // agents at its own gateway when it takes over (its address can differ from the previous
    // start's) and when instances stopped answering (a relay may point at one of them).
    async function pointRelaysHere(forget = false) {
      try {
        await gateway.listenUrl();
        const rows = await db.prisma.agent.findMany({ where: { observedState: "running", containerId: { not: null } }, distinct: ["projectId"], select: { projectId: true } });
        if (forget) for (const r of rows) projectNetworks.invalidate(r.projectId);
        await Promise.all(rows.map((r) => projectNetworks.ensure(r.projectId)));
      } catch (err) {
        log.warn({ err: (err as Error).message }, "model gateway listener or project relays not started");
      }
    }
    function leaderWork() {
        if (config.auditRetentionDays > 0) {
          void pruneAudit();
          auditPrune = setInterval(() => void pruneAudit(), 3_600_000);
          auditPrune.unref();
        }
        void pointRelaysHere();
        // Networks and relays of this instance's projects that have no agents any more. (Unknown
        // projects are left alone: another Armory may share the engine.)
        void projectNetworks
          .sweep(async (ids) => {
            const rows = await db.prisma.project.findMany({ where: { id: { in: ids }, agents: { none: {} } }, select: { id: true } });
            return rows.map((r) => r.id);
          })
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, "could not sweep project networks"));
        if (config.agentImageAutobuild) void agentImage.buildInBackground().catch(() => {});
    }
  } catch (err) {
    if (!opts.db) await db.close();
    throw err;
  }
}

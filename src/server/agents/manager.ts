// Agent lifecycle: the database holds desired and observed state, Docker holds the containers,
// and this manager keeps them in step — through explicit operations, the Docker events stream
// (observed state within a second) and a periodic reconcile (anything the stream missed).
import { createHash } from "node:crypto";
import type { AgentView } from "../api/routers/agent/schemas";
import type { PrismaClient } from "../db";
import { Prisma, type Agent, type AgentRepository } from "../db/generated/client";
import type { RepositoryInput } from "../../contracts/git";
import { APPROVAL_TIMEOUT_DEFAULT_SEC, type ToolPolicy } from "../../contracts/approvals";
import { effectivePolicy, policyFrom } from "../approvals/policy";
import { engineMessage, engineUnavailable, LABELS, type AgentContainerSpec, type AgentRuntime, type ContainerEvent, type EventsFollower, type ObservedContainer } from "../runtime";
import { CLAUDE_CONFIG_DIR, WORKSPACE_DIR } from "../../contracts/armoryd";
import { AgentFileSystem } from "../files/agent-fs";
import type { DaemonHub } from "../agentd/hub";
import { MASKED_VALUE } from "../domain/env";
import { DomainError, notFound } from "../domain/errors";
import type { Logger } from "../logger";
import { KeyedLock } from "./keyed-lock";
import { AgentStatusBus } from "./status-bus";

export interface AgentImageProvider {
  /** The tag the template image "default" stands for. */
  defaultTag(): string;
  /** Makes sure the default image exists (building it if needed); throws a DomainError when it cannot be ready now. */
  ensureDefault(): Promise<string>;
}

export interface AgentManagerOptions {
  prisma: PrismaClient;
  runtime: AgentRuntime;
  log: Logger;
  images: AgentImageProvider;
  /** Each project's own network (and its egress relay): AgentRuntime.projectNetworks. */
  networks: AgentNetworks;
  reconcileIntervalMs?: number;
  stopTimeoutSeconds?: number;
  /** Secrets injected into containers at create time and masked in every agent view (secrets/store.ts). */
  secrets?: AgentSecretSource;
  /** Env added to every container Armory creates (e.g. the model gateway's URL and the agent's token). */
  extraEnv?: (agentId: string) => Promise<Record<string, string>>;
  /** The agent daemons (the first start writes the template's instructions through the agent's armoryd). */
  hub?: DaemonHub;
  /** Called (not awaited) after each start of the agent's container: the git service clones a pending repository. */
  onStarted?: (agentId: string, containerId: string) => void;
}

/** The per-project networks agents join (ProjectNetworks). */
export interface AgentNetworks {
  /** Makes sure the project's network and relay exist; returns the network's name. */
  ensure(projectId: string): Promise<string>;
  /** Forgets what was ensured (the network vanished behind our back). */
  invalidate(projectId: string): void;
  /** Removes the project's network and relay (the project has no agents left). */
  release(projectId: string): Promise<void>;
}

/** What the manager needs of the secret store: decrypted env at create time, names for masking. */
export interface AgentSecretSource {
  envFor(projectId: string, agentId: string): Promise<Record<string, string>>;
  namesFor(projectId: string, agentId: string): Promise<Set<string>>;
  namesByAgent(projectId: string): Promise<{ project: Set<string>; agents: Map<string, Set<string>> }>;
}

export interface CreateAgentInput {
  projectId: string;
  userId: string | null;
  name: string;
  template: {
    id: string;
    name: string;
    image: string;
    model: string;
    memoryMb: number;
    cpus: number;
    pidsLimit: number;
    env: Record<string, string>;
    permissionMode: string;
    volumes: { name: string; mountPath: string }[];
    /** Written to the new agent's /workspace/CLAUDE.md on its first start. */
    instructions?: string;
  };
  overrides?: {
    memoryMb?: number;
    cpus?: number;
    pidsLimit?: number;
    env?: Record<string, string>;
    model?: string;
    permissionMode?: string;
    toolPolicy?: ToolPolicy | null;
    approvalTimeoutSec?: number | null;
  };
  start?: boolean;
  /** A git repository cloned into /workspace after the first start (src/server/git). */
  repository?: RepositoryInput;
}

export type AgentRow = Agent & { template: { name: string; volumes: Prisma.JsonValue; toolPolicy: Prisma.JsonValue; placementConstraints: string[] }; repository?: AgentRepository | null };

export const agentInclude = { template: { select: { name: true, volumes: true, toolPolicy: true, placementConstraints: true } }, repository: true } as const;

function envOf(json: Prisma.JsonValue): Record<string, string> {
  if (!json || typeof json !== "object" || Array.isArray(json)) return {};
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
}

/** The repository's credential is served to git only (src/server/git), never put in the container's env. */
function withoutGitCredential(env: Record<string, string> | undefined, row: AgentRow): Record<string, string> | undefined {
  const name = row.repository?.credentialSecret;
  if (!env || !name || !(name in env)) return env;
  const { [name]: _credential, ...rest } = env;
  return rest;
}

function volumesOf(json: Prisma.JsonValue): { name: string; mountPath: string }[] {
  if (!Array.isArray(json)) return [];
  return json.flatMap((v) =>
    v && typeof v === "object" && !Array.isArray(v) && typeof v.name === "string" && typeof v.mountPath === "string"
      ? [{ name: v.name, mountPath: v.mountPath }]
      : [],
  );
}

/** What a re-created container would differ in (limits are applied live, so they are not part of it). */
/**
 * The shape of the containers Armory creates; bump it when existing containers must be re-created
 * to get a change. 2: the project's own network and a read-only root filesystem (containers on the
 * old shared network show restartRequired and move on their next start, restart or update).
 */
export const CONTAINER_LAYOUT = 2;

/** One field's share of the config hash. */
function hashPart(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 8);
}

function sortedEnv(env: Record<string, string>): [string, string][] {
  return Object.entries(env).sort(([x], [y]) => x.localeCompare(y));
}

/**
 * What a container was made from, field by field (`L<layout>:<image>.<env>.<model>.<permission>`,
 * each a short hash), so a difference says which change needs a re-create.
 */
export function agentConfigHash(a: { image: string; env: Record<string, string>; model: string; permissionMode: string }): string {
  return `L${CONTAINER_LAYOUT}:${[a.image, sortedEnv(a.env), a.model, a.permissionMode].map(hashPart).join(".")}`;
}

/** The single hash Armory stored before the field-wise one (containers made then are not re-created for it). */
function legacyConfigHash(a: { image: string; env: Record<string, string>; model: string; permissionMode: string }): string {
  return createHash("sha256")
    .update(JSON.stringify({ image: a.image, env: sortedEnv(a.env), model: a.model, permissionMode: a.permissionMode, layout: 2 }))
    .digest("hex")
    .slice(0, 16);
}

export const RESTART_REASONS = ["image", "env", "model", "permissionMode", "secrets", "layout", "config"] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

/** Why the agent's container must be re-created to run its current config (empty: it need not). */
export function restartReasons(row: Pick<AgentRow, "containerId" | "containerConfigHash" | "secretsStale" | "image" | "model" | "permissionMode">, env: Record<string, string>): RestartReason[] {
  if (!row.containerId) return [];
  const reasons: RestartReason[] = [];
  const stored = row.containerConfigHash;
  const now = { image: row.image, env, model: row.model, permissionMode: row.permissionMode };
  const m = stored ? /^L(\d+):([0-9a-f]{8})\.([0-9a-f]{8})\.([0-9a-f]{8})\.([0-9a-f]{8})$/.exec(stored) : null;
  if (m) {
    const [image, envPart, model, permissionMode] = [now.image, sortedEnv(now.env), now.model, now.permissionMode].map(hashPart);
    if (m[2] !== image) reasons.push("image");
    if (m[3] !== envPart) reasons.push("env");
    if (m[4] !== model) reasons.push("model");
    if (m[5] !== permissionMode) reasons.push("permissionMode");
    if (Number(m[1]) !== CONTAINER_LAYOUT) reasons.push("layout");
  } else if (stored && stored !== legacyConfigHash(now)) {
    reasons.push("config");
  }
  if (row.secretsStale) reasons.push("secrets");
  return reasons;
}

function versionOf(image: string): string {
  const at = image.lastIndexOf(":");
  return at > image.lastIndexOf("/") ? image.slice(at + 1) : "latest";
}

/** `secretNames`: env keys backed by a secret; their values are masked (secrets override them in the container). */
export type DaemonView = AgentView["daemon"];
const NO_DAEMON: DaemonView = { state: "disconnected", since: null, agentVersion: null };

export function toAgentView(row: AgentRow, secretNames?: Set<string>, daemon: DaemonView = NO_DAEMON): AgentView {
  const env = envOf(row.env);
  const reasons = restartReasons(row, env);
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    templateId: row.templateId,
    templateName: row.template.name,
    image: row.image,
    version: versionOf(row.image),
    model: row.model,
    memoryMb: row.memoryMb,
    cpus: row.cpus,
    pidsLimit: row.pidsLimit,
    env: secretNames?.size ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, secretNames.has(k) ? MASKED_VALUE : v])) : env,
    permissionMode: row.permissionMode,
    toolPolicy: row.toolPolicy === null ? null : policyFrom(row.toolPolicy),
    effectiveToolPolicy: effectivePolicy(row, row.template),
    approvalTimeoutSec: row.approvalTimeoutSec ?? APPROVAL_TIMEOUT_DEFAULT_SEC,
    approvalTimeoutCustom: row.approvalTimeoutSec !== null,
    desiredState: row.desiredState,
    observedState: row.observedState,
    statusDetail: row.statusDetail,
    exitCode: row.exitCode,
    oomKilled: row.oomKilled,
    containerId: row.containerId ? row.containerId.slice(0, 12) : null,
    restartRequired: reasons.length > 0,
    restartReasons: reasons,
    // A daemon of a container the agent no longer has (or of a stopped agent) does not count.
    daemon: row.containerId && row.observedState === "running" ? daemon : { ...daemon, state: "disconnected" },
    lastMessageAt: row.lastMessageAt,
    repository: row.repository
      ? {
          url: row.repository.url,
          branch: row.repository.branch,
          credentialSecret: row.repository.credentialSecret,
          knownHosts: row.repository.knownHosts,
          cloneState: row.repository.cloneState,
          clonePercent: row.repository.clonePercent,
          clonePhase: row.repository.clonePhase,
          cloneError: row.repository.cloneError,
          clonedAt: row.repository.clonedAt,
        }
      : null,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    observedAt: row.observedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export class AgentManager {
  readonly bus = new AgentStatusBus();
  private readonly lock = new KeyedLock();
  private readonly observing = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private follower: EventsFollower | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AgentManagerOptions) {
    // The status stream shows each daemon connecting and disconnecting.
    opts.hub?.onState((info) => void this.publish(info.agentId).catch(() => {}));
  }

  private get prisma() {
    return this.opts.prisma;
  }
  private get runtime() {
    return this.opts.runtime;
  }

  // ---------------------------------------------------------------- background work

  /** Follows Docker events and reconciles periodically; call once per process. */
  startBackground(): void {
    if (this.follower) return;
    this.follower = this.runtime.followEvents({
      log: this.opts.log,
      onEvent: (e) => this.onDockerEvent(e),
      onEngineState: (state, reason) => {
        const was = this.bus.engineState.state;
        // The same wording the API uses when an operation meets a down engine.
        const message = state === "down" ? engineUnavailable({ message: reason ?? "unknown reason" }).message : null;
        this.bus.publishEngine(state, message);
        if (state !== was) {
          this.opts.log[state === "up" ? "info" : "warn"]({ message }, `Docker engine is ${state}`);
        }
        // Whatever happened while we were not listening: catch up now.
        if (state === "up") void this.reconcileAll().catch((err: unknown) => this.opts.log.warn({ err }, "reconcile failed"));
      },
    });
    this.follower.start();
    const every = this.opts.reconcileIntervalMs ?? 30_000;
    this.reconcileTimer = setInterval(() => {
      void this.reconcileAll().catch((err: unknown) => this.opts.log.warn({ err: engineMessage(err) }, "reconcile failed"));
    }, every);
    this.reconcileTimer.unref();
  }

  async stopBackground(): Promise<void> {
    this.follower?.stop();
    this.follower = null;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
    await Promise.allSettled([...this.observing.values()].map((o) => o.done));
  }

  private onDockerEvent(e: ContainerEvent): void {
    // exec_* events are chat turns and health probes: they don't change the container's state.
    if (e.action.startsWith("exec_")) return;
    const observe = e.agentId ? this.observe(e.agentId) : this.observeByContainer(e.containerId);
    void observe.catch((err: unknown) => this.opts.log.warn({ err: engineMessage(err), event: e.action }, "could not observe agent"));
  }

  private async observeByContainer(containerId: string): Promise<void> {
    const agent = await this.prisma.agent.findFirst({ where: { containerId }, select: { id: true } });
    if (agent) await this.observe(agent.id);
  }

  /**
   * Re-reads one agent's container and records what Docker says. Single-flight per agent, so
   * overlapping events never write an older state over a newer one.
   */
  observe(agentId: string): Promise<void> {
    const current = this.observing.get(agentId);
    if (current) {
      current.dirty = true;
      return current.done;
    }
    const entry = { dirty: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.dirty = false;
          await this.observeOnce(agentId);
        } while (entry.dirty);
      } finally {
        this.observing.delete(agentId);
      }
    })();
    this.observing.set(agentId, entry);
    return entry.done;
  }

  private async observeOnce(agentId: string, known?: ObservedContainer | null): Promise<void> {
    const row = await this.prisma.agent.findUnique({ where: { id: agentId }, select: { containerId: true } });
    if (!row?.containerId) return;
    const observed = known !== undefined ? known : await this.runtime.inspectContainer(row.containerId);
    await this.record(agentId, row.containerId, observed);
  }

  private async record(agentId: string, containerId: string, observed: ObservedContainer | null): Promise<void> {
    const data: Prisma.AgentUpdateManyMutationInput = observed
      ? {
          observedState: observed.state,
          statusDetail: observed.detail,
          exitCode: observed.exitCode,
          oomKilled: observed.oomKilled,
          startedAt: observed.startedAt,
          finishedAt: observed.finishedAt,
          observedAt: new Date(),
        }
      : {
          observedState: "missing",
          statusDetail: "The container was removed outside Armory. Start the agent to re-create it.",
          observedAt: new Date(),
        };
    // Only if the agent still points at this container (a re-create may have replaced it).
    const res = await this.prisma.agent.updateMany({ where: { id: agentId, containerId }, data });
    if (res.count) await this.publish(agentId);
  }

  /** Brings every agent's observed state in line with Docker (start-up, reconnect, every 30 s). */
  async reconcileAll(): Promise<{ checked: number; missing: number }> {
    const containers = await this.runtime.listContainers();
    const agents = await this.prisma.agent.findMany({
      where: { containerId: { not: null } },
      select: { id: true, containerId: true, observedState: true },
    });
    let missing = 0;
    for (const a of agents) {
      if (!containers.has(a.containerId!)) {
        missing++;
        if (a.observedState !== "missing") await this.record(a.id, a.containerId!, null);
      } else {
        await this.observe(a.id);
      }
    }
    const known = new Set(agents.map((a) => a.containerId));
    for (const c of containers.values()) {
      if (!known.has(c.id)) this.opts.log.warn({ containerId: c.id.slice(0, 12), agentId: c.agentId }, "container labelled as Armory's belongs to no agent; leaving it alone");
    }
    return { checked: agents.length, missing };
  }

  /**
   * A secret of the project (or of one agent) was set or deleted: containers made from the old
   * values need a restart to get the new ones. Flags them and tells subscribers.
   */
  async secretsChanged(projectId: string, agentId?: string): Promise<void> {
    const where = { projectId, containerId: { not: null }, ...(agentId ? { id: agentId } : {}) };
    const affected = await this.prisma.agent.findMany({ where, select: { id: true } });
    if (!affected.length) return;
    const ids = affected.map((a) => a.id);
    await this.prisma.agent.updateMany({ where: { id: { in: ids } }, data: { secretsStale: true } });
    // One read for all of them (a project secret can concern every agent of the project).
    for (const view of await this.views(projectId, { id: { in: ids } })) this.bus.publishAgent(view);
  }

  /** A chat message was sent to the agent: its card shows when (live, through the status stream). */
  async messageSent(agentId: string, at = new Date()): Promise<void> {
    const res = await this.prisma.agent.updateMany({ where: { id: agentId }, data: { lastMessageAt: at } });
    if (res.count) await this.publish(agentId);
  }

  private async publish(agentId: string): Promise<AgentView | null> {
    const row = await this.prisma.agent.findUnique({ where: { id: agentId }, include: agentInclude });
    if (!row) return null;
    const view = toAgentView(row, await this.opts.secrets?.namesFor(row.projectId, row.id), this.daemonOf(row.id));
    this.bus.publishAgent(view);
    return view;
  }

  // ---------------------------------------------------------------- queries

  /** The project's agents by name; `limit` agents after the one named `cursor` when paged. */
  async list(projectId: string, page: { limit?: number; cursor?: string } = {}): Promise<AgentView[]> {
    return this.views(projectId, page.cursor === undefined ? {} : { name: { gt: page.cursor } }, page.limit);
  }

  /** The project's agents (or those matching `where`, at most `take`) as views, secret values masked. */
  private async views(projectId: string, where: Prisma.AgentWhereInput = {}, take?: number): Promise<AgentView[]> {
    const [rows, names] = await Promise.all([
      this.prisma.agent.findMany({ where: { ...where, projectId }, include: agentInclude, orderBy: { name: "asc" }, take }),
      this.opts.secrets?.namesByAgent(projectId),
    ]);
    return rows.map((r) => toAgentView(r, names ? new Set([...names.project, ...(names.agents.get(r.id) ?? [])]) : undefined, this.daemonOf(r.id)));
  }

  async get(projectId: string, agentId: string): Promise<AgentView> {
    return toAgentView(await this.row(projectId, agentId), await this.opts.secrets?.namesFor(projectId, agentId), this.daemonOf(agentId));
  }

  /** The agent's daemon connection as the hub knows it. */
  private daemonOf(agentId: string): DaemonView {
    const info = this.opts.hub?.info(agentId);
    if (!info) return NO_DAEMON;
    return {
      state: info.state,
      since: info.state === "connected" ? info.connectedAt : info.disconnectedAt,
      agentVersion: info.hello.capabilities.agentVersion,
    };
  }

  /** Runs `fn` holding the agent's lock: nothing else (start, stop, another re-create) interleaves. */
  withAgentLock<T>(agentId: string, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(agentId, fn);
  }

  /** Publishes the agent's current view to status subscribers (after a change made outside the manager). */
  publishAgent(agentId: string): Promise<AgentView | null> {
    return this.publish(agentId);
  }

  async row(projectId: string, agentId: string): Promise<AgentRow> {
    const row = await this.prisma.agent.findFirst({ where: { id: agentId, projectId }, include: agentInclude });
    if (!row) throw notFound("Agent");
    return row;
  }

  // ---------------------------------------------------------------- operations

  private async requireEngine(): Promise<void> {
    await this.runtime.ping();
    this.follower?.nudge();
  }

  private async resolveImage(templateImage: string): Promise<string> {
    if (templateImage === "default") return this.opts.images.ensureDefault();
    if (!(await this.runtime.imageExists(templateImage))) {
      throw new DomainError(
        "PRECONDITION_FAILED",
        `The image ${templateImage} is not on the Docker engine. Build or load it there first (docker build / docker load).`,
      );
    }
    return templateImage;
  }

  async create(input: CreateAgentInput): Promise<AgentView> {
    const { template, overrides = {} } = input;
    const clash = await this.prisma.agent.findFirst({ where: { projectId: input.projectId, name: input.name }, select: { id: true } });
    if (clash) throw new DomainError("CONFLICT", `An agent named ${input.name} already exists in this project.`);

    const [, image] = await Promise.all([this.requireEngine(), this.resolveImage(template.image)]);
    const env = { ...template.env, ...(overrides.env ?? {}) };
    const id = crypto.randomUUID();
    let row: AgentRow;
    try {
      row = await this.prisma.agent.create({
        data: {
          id,
          projectId: input.projectId,
          name: input.name,
          templateId: template.id,
          image,
          model: overrides.model ?? template.model,
          memoryMb: overrides.memoryMb ?? template.memoryMb,
          cpus: overrides.cpus ?? template.cpus,
          pidsLimit: overrides.pidsLimit ?? template.pidsLimit,
          env,
          permissionMode: overrides.permissionMode ?? template.permissionMode,
          toolPolicy: overrides.toolPolicy ?? Prisma.DbNull,
          approvalTimeoutSec: overrides.approvalTimeoutSec ?? null,
          desiredState: "stopped",
          observedState: "creating",
          workspaceVolume: `armory-workspace-${id}`,
          sessionVolume: `armory-claude-${id}`,
          pendingInstructions: template.instructions?.trim() ? template.instructions : null,
          createdById: input.userId,
          ...(input.repository
            ? {
                repository: {
                  create: {
                    url: input.repository.url,
                    branch: input.repository.branch ?? null,
                    credentialSecret: input.repository.credentialSecret ?? null,
                    credentialUser: input.repository.credentialUser ?? "x-access-token",
                    knownHosts: input.repository.knownHosts ?? null,
                  },
                },
              }
            : {}),
        },
        include: agentInclude,
      });
    } catch (err) {
      if ((err as { code?: string }).code === "P2002") {
        throw new DomainError("CONFLICT", `An agent named ${input.name} already exists in this project.`);
      }
      throw err;
    }
    try {
      await this.lock.run(id, () => this.createContainer(row));
    } catch (err) {
      // No half-created agents: undo the row and whatever Docker objects exist.
      await this.prisma.agent.delete({ where: { id } }).catch(() => {});
      await this.removeDockerObjects(row, false).catch(() => {});
      throw err;
    }
    if (input.start) return this.start(input.projectId, id, { engineChecked: true, justCreated: true });
    return (await this.publish(id))!;
  }

  private containerEnv(row: AgentRow): Record<string, string> {
    return {
      ...envOf(row.env),
      ANTHROPIC_MODEL: row.model,
      ARMORY_AGENT_ID: row.id,
      ARMORY_AGENT_NAME: row.name,
      ARMORY_PROJECT_ID: row.projectId,
      ARMORY_PERMISSION_MODE: row.permissionMode,
    };
  }

  private extraVolumes(row: AgentRow) {
    return volumesOf(row.template.volumes).map((v) => ({ name: `armory-${v.name}-${row.id}`, mountPath: v.mountPath }));
  }

  /** Creates (or re-creates) the agent's container with its current config; returns the container id. */
  private async createContainer(row: AgentRow): Promise<string> {
    const { spec, configHash } = await this.prepareContainer(row);
    const containerId = await this.createFromSpec(spec);
    await this.prisma.agent.update({
      where: { id: row.id },
      data: {
        containerId,
        containerConfigHash: configHash,
        secretsStale: false,
        observedState: "created",
        statusDetail: "created, not started",
        exitCode: null,
        oomKilled: false,
        startedAt: null,
        finishedAt: null,
        observedAt: new Date(),
      },
    });
    return containerId;
  }

  /** Creates a container from a prepared spec (re-making the agent network once if it vanished). */
  async createFromSpec(spec: AgentContainerSpec): Promise<string> {
    try {
      return await this.runtime.createContainer(spec);
    } catch (err) {
      // The network was removed behind our back: make it again, once.
      if (!(err instanceof DomainError && err.code === "NOT_FOUND" && /network/i.test(err.message))) throw err;
      this.opts.networks.invalidate(spec.projectId);
      await this.opts.networks.ensure(spec.projectId);
      return this.runtime.createContainer(spec);
    }
  }

  /**
   * Network and volumes ensured, and the spec of the container `row` describes (secrets decrypted
   * into it). Removes the old container first unless `keepOld` (safe re-creates, rollout.ts).
   */
  /** The extra env (the model gateway's), or none when it cannot be made (logged, not fatal). */
  private async gatewayEnv(agentId: string): Promise<Record<string, string> | undefined> {
    if (!this.opts.extraEnv) return undefined;
    return this.opts.extraEnv(agentId).catch((err: unknown) => {
      this.opts.log.warn({ agentId, err: (err as Error).message }, "no extra env for the container");
      return undefined;
    });
  }

  async prepareContainer(row: AgentRow, keepOld = false): Promise<{ spec: AgentContainerSpec; configHash: string }> {
    const volumeLabels = { [LABELS.managed]: "true", [LABELS.agentId]: row.id, [LABELS.projectId]: row.projectId };
    const extra = this.extraVolumes(row);
    const volumes: [string, string][] = [
      [row.workspaceVolume, "workspace"],
      [row.sessionVolume, "claude-sessions"],
      ...extra.map((v): [string, string] => [v.name, "extra"]),
    ];
    // Independent engine calls, done together: network, volumes, and the old container's removal.
    const [network] = await Promise.all([
      this.opts.networks.ensure(row.projectId),
      // Template volumes may sit where the image has no directory: created for the agent user.
      ...volumes.map(([name, role]) =>
        this.runtime.ensureVolume(name, { ...volumeLabels, [LABELS.volumeRole]: role }, role === "extra" ? { image: row.image } : undefined),
      ),
      row.containerId && !keepOld ? this.runtime.removeContainer(row.containerId) : null,
    ]);
    const env = envOf(row.env);
    const configHash = agentConfigHash({ image: row.image, env, model: row.model, permissionMode: row.permissionMode });
    const spec: AgentContainerSpec = {
      agentId: row.id,
      projectId: row.projectId,
      agentName: row.name,
      templateName: row.template.name,
      image: row.image,
      version: versionOf(row.image),
      configHash,
      env: this.containerEnv(row),
      memoryMb: row.memoryMb,
      cpus: row.cpus,
      pidsLimit: row.pidsLimit,
      workspaceVolume: row.workspaceVolume,
      sessionVolume: row.sessionVolume,
      extraVolumes: extra,
      placementConstraints: row.template.placementConstraints,
      // The project's own network: an agent created on the old shared one moves here on re-create.
      network,
      secretEnv: withoutGitCredential(await this.opts.secrets?.envFor(row.projectId, row.id), row),
      extraEnv: await this.gatewayEnv(row.id),
    };
    return { spec, configHash };
  }

  /** Starts the container; when it no longer exists (or there is none), re-creates it once and starts that. */
  private async startOrRecreate(row: AgentRow, containerId: string | null): Promise<void> {
    let started = containerId;
    if (!started || !(await this.runtime.startContainer(started))) {
      started = await this.createContainer(row);
      await this.runtime.startContainer(started);
    }
    this.opts.onStarted?.(row.id, started);
    await this.writePendingInstructions(row, started);
  }

  /**
   * The template's instructions reach a new agent once: on its first start (its workspace volume
   * is new) they become /workspace/CLAUDE.md, created as the agent user only if no such name
   * exists (atomic, by the agent's daemon once it has dialled home), and the pending copy is
   * cleared. So a re-created container or a restart never writes it again, and a CLAUDE.md the
   * user deleted stays deleted. A failed write (e.g. the daemon did not connect) is logged and
   * tried again on the next start.
   * An agent with a repository keeps /workspace for the repository's checkout: there the
   * instructions would be committed with the agent's work or collide with the repository's own
   * CLAUDE.md, so they become the agent user's memory, ~/.claude/CLAUDE.md, which Claude Code
   * reads as well.
   */
  private async writePendingInstructions(row: AgentRow, containerId: string): Promise<void> {
    const hub = this.opts.hub;
    if (row.pendingInstructions === null || !hub) return;
    const hasRepository = (await this.prisma.agentRepository.count({ where: { agentId: row.id } })) > 0;
    const root = hasRepository ? CLAUDE_CONFIG_DIR : WORKSPACE_DIR;
    const path = `${root}/CLAUDE.md`;
    const files = new AgentFileSystem(hub, row.id, row.name);
    let outcome: "written" | "exists" = "written";
    try {
      await hub.waitFor(row.id, { timeoutMs: 30_000, containerId });
      const content = Buffer.from(row.pendingInstructions, "utf8");
      const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
      await files.write({ root, path, content, mode: 0o644, mtime, createDirs: false, exclusive: true });
    } catch (err) {
      if (!(err instanceof DomainError && err.code === "CONFLICT" && /already exists/.test(err.message))) {
        this.opts.log.warn({ agentId: row.id, err: (err as Error).message }, "could not write the template's instructions to CLAUDE.md; trying again on the next start");
        return;
      }
      outcome = "exists";
    }
    await this.prisma.agent.update({ where: { id: row.id }, data: { pendingInstructions: null } });
    this.opts.log.info({ agentId: row.id, path, outcome }, outcome === "written" ? "template instructions written to CLAUDE.md" : "CLAUDE.md already existed: template instructions not written");
  }

  private needsRecreate(row: AgentRow): boolean {
    return toAgentView(row).restartRequired;
  }

  async start(
    projectId: string,
    agentId: string,
    hints: { engineChecked?: boolean; justCreated?: boolean } = {},
  ): Promise<AgentView> {
    if (!hints.engineChecked) {
      await this.row(projectId, agentId);
      await this.requireEngine();
    }
    await this.lock.run(agentId, async () => {
      const row = await this.row(projectId, agentId);
      await this.prisma.agent.update({ where: { id: agentId }, data: { desiredState: "running" } });
      // A container created a moment ago is known to be "created": no need to ask the engine.
      const observed = hints.justCreated
        ? ({ state: "created" } as Pick<ObservedContainer, "state">)
        : row.containerId
          ? await this.runtime.inspectContainer(row.containerId)
          : null;
      if (observed?.state === "running" && !this.needsRecreate(row)) return; // already running: nothing to do
      const containerId =
        !observed || this.needsRecreate(row) || observed.state === "dead" ? await this.createContainer(row) : row.containerId!;
      await this.startOrRecreate(row, containerId);
      await this.observeOnce(agentId);
    });
    return this.get(projectId, agentId);
  }

  async stop(projectId: string, agentId: string): Promise<AgentView> {
    await this.row(projectId, agentId);
    await this.requireEngine();
    await this.lock.run(agentId, async () => {
      const row = await this.row(projectId, agentId);
      await this.prisma.agent.update({ where: { id: agentId }, data: { desiredState: "stopped" } });
      if (row.containerId) {
        await this.runtime.stopContainer(row.containerId, this.opts.stopTimeoutSeconds ?? 10);
        await this.observeOnce(agentId);
      }
    });
    return this.get(projectId, agentId);
  }

  async restart(projectId: string, agentId: string): Promise<AgentView> {
    const row = await this.row(projectId, agentId);
    const observed = row.containerId ? await this.runtime.inspectContainer(row.containerId) : null;
    // A container that isn't running (or needs re-creating) is simply started.
    if (!observed || observed.state !== "running" || this.needsRecreate(row)) {
      if (observed?.state === "running") await this.stop(projectId, agentId);
      return this.start(projectId, agentId);
    }
    await this.lock.run(agentId, async () => {
      await this.prisma.agent.update({ where: { id: agentId }, data: { desiredState: "running" } });
      if (!(await this.runtime.restartContainer(row.containerId!, this.opts.stopTimeoutSeconds ?? 10))) {
        await this.startOrRecreate(await this.row(projectId, agentId), null); // removed behind our back: re-create it
      }
      await this.observeOnce(agentId);
    });
    return this.get(projectId, agentId);
  }

  async update(
    projectId: string,
    agentId: string,
    patch: {
      memoryMb?: number;
      cpus?: number;
      pidsLimit?: number;
      env?: Record<string, string>;
      model?: string;
      permissionMode?: string;
      image?: string;
      /** null: back to the template's policy. Applies from the next chat turn (no re-create). */
      toolPolicy?: ToolPolicy | null;
      approvalTimeoutSec?: number | null;
    },
  ): Promise<AgentView> {
    const current = await this.row(projectId, agentId);
    if (patch.env && Object.values(patch.env).includes(MASKED_VALUE)) {
      // A masked value sent back (the form shows secret-backed values masked) keeps the stored one.
      const stored = envOf(current.env);
      patch = { ...patch, env: Object.fromEntries(Object.entries(patch.env).map(([k, v]) => [k, v === MASKED_VALUE && k in stored ? stored[k]! : v])) };
    }
    await this.lock.run(agentId, async () => {
      const row = await this.prisma.agent.update({
        where: { id: agentId },
        data: {
          memoryMb: patch.memoryMb,
          cpus: patch.cpus,
          pidsLimit: patch.pidsLimit,
          env: patch.env,
          model: patch.model,
          permissionMode: patch.permissionMode,
          image: patch.image,
          toolPolicy: patch.toolPolicy === null ? Prisma.DbNull : (patch.toolPolicy as Prisma.InputJsonObject | undefined),
          approvalTimeoutSec: patch.approvalTimeoutSec,
        },
      });
      const limitsChanged = patch.memoryMb !== undefined || patch.cpus !== undefined || patch.pidsLimit !== undefined;
      if (limitsChanged && row.containerId) {
        // Limits apply to the live container at once; the rest waits for the next (re)start.
        try {
          await this.runtime.updateContainerLimits(row.containerId, row);
        } catch (err) {
          // Engine down: the new limits are stored and apply when the container is next created.
          if (err instanceof DomainError && err.code === "PRECONDITION_FAILED") return;
          throw err;
        }
      }
    });
    return (await this.publish(agentId))!;
  }

  async remove(projectId: string, agentId: string, keepVolumes: boolean): Promise<{ volumesKept: boolean }> {
    await this.row(projectId, agentId);
    await this.requireEngine();
    await this.lock.run(agentId, async () => {
      const row = await this.row(projectId, agentId);
      await this.removeDockerObjects(row, keepVolumes);
      await this.prisma.agent.delete({ where: { id: agentId } });
    });
    this.bus.publishRemoved(projectId, agentId);
    // The project's last agent: its network and egress relay go too.
    if (!(await this.prisma.agent.count({ where: { projectId } }))) await this.opts.networks.release(projectId);
    return { volumesKept: keepVolumes };
  }

  private async removeDockerObjects(row: AgentRow, keepVolumes: boolean): Promise<void> {
    if (row.containerId) await this.runtime.removeContainer(row.containerId);
    else {
      // A create that failed half-way may have left a container without recording it.
      for (const id of (await this.runtime.listContainers({ agentId: row.id })).keys()) await this.runtime.removeContainer(id);
    }
    if (!keepVolumes) {
      for (const name of [row.workspaceVolume, row.sessionVolume, ...this.extraVolumes(row).map((v) => v.name)]) {
        await this.runtime.removeVolume(name);
      }
    }
  }
}

// Safe re-creates of an agent's container — image updates (version.update) and env changes
// (env.patch): the new container is created beside the old one (same config, labels, volumes and
// network, under a temporary name), started and health-gated; only then is the old one stopped
// and removed and the new one renamed into its place. Any failure before that removes the new
// container and leaves the old one exactly as it was (same id, still running). Every attempt is
// kept as an AgentUpdate row and streamed step by step to version.onUpdate subscribers.
import { EventEmitter, on } from "node:events";
import { randomBytes } from "node:crypto";
import type { AgentImageProvider, AgentManager, AgentRow } from "../agents/manager";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db/generated/client";
import { containerName, engineMessage, imageRepository, type AgentRuntime } from "../runtime";
import { daemonHealth } from "../agentd/health";
import type { DaemonHub } from "../agentd/hub";
import { envNameProblem, MASKED_VALUE } from "../domain/env";
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import { checkImageAllowed, defaultAllowedImages, imageMatches } from "./allowed-images";

/** "checking-image": Armory does not pull (no registry); the step checks the image is on the engine. */
export const UPDATE_STEPS = ["checking-image", "creating", "starting", "health-check", "switching", "done", "rolled-back"] as const;
export type UpdateStep = (typeof UPDATE_STEPS)[number];
export type UpdateStatus = "running" | "succeeded" | "rolled_back";

export interface UpdateStepEvent {
  updateId: string;
  agentId: string;
  projectId: string;
  kind: "image" | "env";
  step: UpdateStep;
  message: string;
  at: Date;
}

export interface UpdateRecord {
  id: string;
  agentId: string;
  kind: "image" | "env";
  fromImage: string;
  toImage: string;
  envKeys: string[];
  status: UpdateStatus;
  error: string | null;
  steps: { step: UpdateStep; message: string; at: Date }[];
  /** The container the agent ran before the update (null: it had none). */
  oldContainerId: string | null;
  /** The container the update created (kept when it succeeded, removed when it rolled back; null: none was created). */
  newContainerId: string | null;
  byName: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
}

export interface RolloutsOptions {
  prisma: PrismaClient;
  runtime: AgentRuntime;
  /** The agent daemons: a new container is healthy once its armoryd dialled home and reports. */
  hub: DaemonHub;
  log: Logger;
  agents: AgentManager;
  images: AgentImageProvider;
  /** How long the new container may take to answer its health probe. */
  healthTimeoutMs: number;
  stopTimeoutSeconds?: number;
}

export interface Actor {
  userId: string | null;
  name: string | null;
}

/** Env changes: keys to set (name -> value) and keys to remove. */
export interface EnvPatch {
  set: Record<string, string>;
  unset: string[];
}

class RolloutFailed extends Error {
  constructor(
    readonly step: UpdateStep,
    readonly domain: DomainError,
  ) {
    super(domain.message);
  }
}

function envOf(json: Prisma.JsonValue): Record<string, string> {
  if (!json || typeof json !== "object" || Array.isArray(json)) return {};
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
}

/** A stored update as the API shows it; rows written before the step was renamed say "pulling" (read as "checking-image"). */
export function toRecord(row: {
  id: string;
  agentId: string;
  kind: string;
  fromImage: string;
  toImage: string;
  envKeys: string[];
  status: string;
  error: string | null;
  steps: Prisma.JsonValue;
  oldContainerId: string | null;
  newContainerId: string | null;
  byName: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
}): UpdateRecord {
  const steps = Array.isArray(row.steps)
    ? row.steps.flatMap((s) =>
        s && typeof s === "object" && !Array.isArray(s) && typeof s.step === "string"
          ? [{ step: (s.step === "pulling" ? "checking-image" : s.step) as UpdateStep, message: String(s.message ?? ""), at: new Date(String(s.at)) }]
          : [],
      )
    : [];
  return {
    id: row.id,
    agentId: row.agentId,
    kind: row.kind === "env" ? "env" : "image",
    fromImage: row.fromImage,
    toImage: row.toImage,
    envKeys: row.envKeys,
    status: row.status as UpdateStatus,
    error: row.error,
    steps,
    oldContainerId: row.oldContainerId,
    newContainerId: row.newContainerId,
    byName: row.byName,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    durationMs: row.durationMs,
  };
}

export class Rollouts {
  private readonly events = new EventEmitter();
  /** Agents with a re-create in progress, and its steps so far (for late subscribers). */
  private readonly inFlight = new Map<string, { toImage: string; step: UpdateStep; events: UpdateStepEvent[] }>();

  constructor(private readonly opts: RolloutsOptions) {
    this.events.setMaxListeners(0);
  }

  private get runtime() {
    return this.opts.runtime;
  }
  private get prisma() {
    return this.opts.prisma;
  }

  private async templateImage(row: AgentRow): Promise<string> {
    const t = await this.prisma.template.findUnique({ where: { id: row.templateId }, select: { image: true } });
    const image = t?.image ?? row.image;
    return image === "default" ? this.opts.images.defaultTag() : image;
  }

  // ---------------------------------------------------------------- queries

  /** Images the agent can run: local tags of the allowed repositories and the template's own image. */
  async listVersions(projectId: string, agentId: string) {
    const row = await this.opts.agents.row(projectId, agentId);
    const templateImage = await this.templateImage(row);
    const allowed = defaultAllowedImages({ currentImage: row.image, templateImage });
    const repos = [...new Set([imageRepository(templateImage), imageRepository(row.image)])];
    let engineError: string | null = null;
    const local = new Map<string, { createdAt: Date; sizeBytes: number }>();
    try {
      for (const repo of repos) {
        for (const t of await this.runtime.listImageTags(repo)) local.set(t.image, { createdAt: t.createdAt, sizeBytes: t.sizeBytes });
      }
    } catch (err) {
      engineError = err instanceof DomainError ? err.message : engineMessage(err);
    }
    const images = new Set<string>([row.image, templateImage, ...local.keys()]);
    const versions = [...images].map((image) => {
      const info = local.get(image);
      return {
        image,
        tag: image.slice(imageRepository(image).length + 1) || "latest",
        current: image === row.image,
        template: image === templateImage,
        local: engineError ? null : local.has(image),
        allowed: imageMatches(image, allowed),
        createdAt: info?.createdAt ?? null,
        sizeBytes: info?.sizeBytes ?? null,
      };
    });
    versions.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || a.image.localeCompare(b.image));
    const running = this.inFlight.get(agentId);
    return {
      current: row.image,
      templateImage,
      allowed,
      versions,
      engineError,
      inProgress: running ? { toImage: running.toImage, step: running.step } : null,
    };
  }

  async history(projectId: string, agentId: string, limit = 20): Promise<UpdateRecord[]> {
    const rows = await this.prisma.agentUpdate.findMany({
      where: { projectId, agentId },
      orderBy: { startedAt: "desc" },
      take: limit,
    });
    return rows.map(toRecord);
  }

  /** Steps of updates of one agent (or all of a project's): the running update's steps so far first. */
  async *subscribe(filter: { projectId: string; agentId?: string }, signal?: AbortSignal): AsyncGenerator<UpdateStepEvent> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const iterator = on(this.events, "step", { signal: ac.signal });
    try {
      for (const [agentId, f] of this.inFlight) {
        if (filter.agentId && filter.agentId !== agentId) continue;
        for (const e of f.events) if (e.projectId === filter.projectId) yield e;
      }
      for await (const [e] of iterator as AsyncIterable<[UpdateStepEvent]>) {
        if (e.projectId !== filter.projectId || (filter.agentId && e.agentId !== filter.agentId)) continue;
        yield e;
      }
    } catch (err) {
      if ((err as Error).name !== "AbortError") throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      ac.abort();
    }
  }

  // ---------------------------------------------------------------- operations

  /** version.update: re-create the agent's container on another image; rolls back on any failure. */
  async updateImage(input: { projectId: string; agentId: string; image: string; actor: Actor }): Promise<UpdateRecord> {
    const row = await this.opts.agents.row(input.projectId, input.agentId);
    const image = input.image.trim();
    await checkImageAllowed({
      projectId: row.projectId,
      agentId: row.id,
      agentName: row.name,
      currentImage: row.image,
      templateImage: await this.templateImage(row),
      image,
      userId: input.actor.userId,
    });
    return this.run(row, { kind: "image", toImage: image, envKeys: [], actor: input.actor }, (r) => ({ ...r, image }));
  }

  /** env.patch: set/unset variables and apply them by the same safe re-create (a bad env rolls back). */
  async patchEnv(input: { projectId: string; agentId: string; patch: EnvPatch; actor: Actor }): Promise<UpdateRecord> {
    const { set, unset } = input.patch;
    for (const key of [...Object.keys(set), ...unset]) {
      const problem = envNameProblem(key);
      if (problem) throw new DomainError("BAD_REQUEST", problem);
    }
    const both = unset.filter((k) => k in set);
    if (both.length) throw new DomainError("BAD_REQUEST", `${both.join(", ")}: cannot both set and unset a variable`);
    const row = await this.opts.agents.row(input.projectId, input.agentId);
    const envKeys = [...Object.keys(set), ...unset].sort();
    return this.run(row, { kind: "env", toImage: row.image, envKeys, actor: input.actor }, (r) => {
      const env = envOf(r.env);
      for (const k of unset) delete env[k];
      Object.assign(env, set);
      if (Object.keys(env).length > 200) throw new DomainError("BAD_REQUEST", "At most 200 environment variables");
      return { ...r, env };
    });
  }

  private async run(
    initial: AgentRow,
    what: { kind: "image" | "env"; toImage: string; envKeys: string[]; actor: Actor },
    change: (row: AgentRow) => AgentRow,
  ): Promise<UpdateRecord> {
    const agentId = initial.id;
    const running = this.inFlight.get(agentId);
    if (running) {
      throw new DomainError(
        "CONFLICT",
        `Agent ${initial.name} is being updated right now (to ${running.toImage}, step ${running.step}). Wait for it to finish, then try again.`,
      );
    }
    const flight = { toImage: what.toImage, step: "checking-image" as UpdateStep, events: [] as UpdateStepEvent[] };
    this.inFlight.set(agentId, flight);
    try {
      const record = await this.prisma.agentUpdate.create({
        data: {
          agentId,
          projectId: initial.projectId,
          kind: what.kind,
          fromImage: initial.image,
          toImage: what.toImage,
          envKeys: what.envKeys,
          status: "running",
          byUserId: what.actor.userId,
          byName: what.actor.name,
        },
      });
      const started = performance.now();
      const steps: { step: UpdateStep; message: string; at: string }[] = [];
      const emit = (step: UpdateStep, message: string) => {
        const e: UpdateStepEvent = { updateId: record.id, agentId, projectId: initial.projectId, kind: what.kind, step, message, at: new Date() };
        flight.step = step;
        flight.events.push(e);
        steps.push({ step, message, at: e.at.toISOString() });
        this.events.emit("step", e);
      };
      const containers = { oldContainerId: null as string | null, newContainerId: null as string | null };
      const finish = async (status: UpdateStatus, error: string | null): Promise<UpdateRecord> => {
        const data = { status, error, steps, ...containers, finishedAt: new Date(), durationMs: Math.round(performance.now() - started) };
        try {
          return toRecord(await this.prisma.agentUpdate.update({ where: { id: record.id }, data }));
        } catch (err) {
          // The agent (and its history) may have been removed right after the update: report it anyway.
          this.opts.log.warn({ agentId, updateId: record.id, err: (err as Error).message }, "could not record the update's outcome");
          return toRecord({ ...record, ...data });
        }
      };

      try {
        await this.opts.agents.withAgentLock(agentId, () => this.recreate(initial.projectId, agentId, change, emit, containers));
      } catch (err) {
        const failed = err instanceof RolloutFailed ? err.domain : err instanceof DomainError ? err : null;
        const message = failed?.message ?? "An unexpected error stopped the update.";
        if (!failed) this.opts.log.error({ err, agentId }, "update failed unexpectedly");
        emit("rolled-back", `${message} The previous container was kept.`);
        await finish("rolled_back", message);
        this.opts.log.warn({ agentId, updateId: record.id, kind: what.kind, to: what.toImage, error: message }, "update rolled back");
        throw failed ?? new DomainError("ENGINE_ERROR", message);
      }
      const saved = await finish("succeeded", null);
      this.opts.log.info({ agentId, updateId: record.id, kind: what.kind, from: initial.image, to: what.toImage, ms: saved.durationMs }, "update done");
      await this.opts.agents.publishAgent(agentId);
      return saved;
    } finally {
      this.inFlight.delete(agentId);
    }
  }

  /** The steps, under the agent's lock. Throws RolloutFailed after undoing whatever it did. */
  private async recreate(
    projectId: string,
    agentId: string,
    change: (row: AgentRow) => AgentRow,
    report: (step: UpdateStep, message: string) => void,
    containers: { oldContainerId: string | null; newContainerId: string | null },
  ): Promise<void> {
    let phase: UpdateStep = "checking-image";
    const emit = (step: UpdateStep, message: string) => {
      phase = step;
      report(step, message);
    };
    const fail = (step: UpdateStep, err: unknown): never => {
      const domain = err instanceof DomainError ? err : new DomainError("ENGINE_ERROR", `The Docker engine failed during ${step}: ${engineMessage(err)}`);
      throw new RolloutFailed(step, domain);
    };
    const current = await this.opts.agents.row(projectId, agentId);
    containers.oldContainerId = current.containerId;
    const target = change(current);

    emit("checking-image", `checking the image ${target.image}`);
    await this.runtime.ping().catch((err: unknown) => fail("checking-image", err));
    if (!(await this.runtime.imageExists(target.image).catch((err: unknown) => fail("checking-image", err)))) {
      fail(
        "checking-image",
        new DomainError(
          "PRECONDITION_FAILED",
          `The image ${target.image} is not on the Docker engine (Armory does not pull from registries). Build or load it there first (docker build / docker load).`,
        ),
      );
    }

    const old = current.containerId ? await this.runtime.inspectContainer(current.containerId).catch((err: unknown) => fail("checking-image", err)) : null;
    const oldRunning = old?.state === "running";
    if (old && this.runtime.updateInPlace) return this.updateInPlace(agentId, old.id, oldRunning, target, emit, fail);

    emit("creating", `creating the new container beside the ${oldRunning ? "running" : old ? old.state : "missing"} one`);
    let newId: string | null = null;
    const finalName = containerName(current.name, current.id);
    const tempName = `${finalName}-next-${randomBytes(3).toString("hex")}`;
    let oldStopped = false;
    let switched = false;
    try {
      const { spec, configHash } = await this.opts.agents.prepareContainer(target, true);
      // Whatever the new container prints (its last output goes into the error) never carries a secret.
      const secretValues = Object.values(spec.secretEnv ?? {}).filter((v) => v.length >= 4);
      const redact = (text: string) => secretValues.reduce((t, v) => t.split(v).join(MASKED_VALUE), text);
      newId = await this.opts.agents.createFromSpec({ ...spec, name: tempName });
      containers.newContainerId = newId;

      if (oldRunning) {
        emit("starting", "starting the new container");
        if (!(await this.runtime.startContainer(newId))) throw new DomainError("ENGINE_ERROR", "The new container vanished before it started.");
        emit("health-check", `waiting up to ${Math.round(this.opts.healthTimeoutMs / 1000)} s for the new container's daemon (armoryd) to dial home`);
        await this.waitHealthy(agentId, newId!, redact);
      }

      emit("switching", oldRunning ? "stopping the old container and switching to the new one" : "switching to the new container");
      if (old && oldRunning) {
        await this.runtime.stopContainer(old.id, this.opts.stopTimeoutSeconds ?? 10);
        oldStopped = true;
      }
      await this.recordSwitch(agentId, newId, target, configHash);
      switched = true;
    } catch (err) {
      // Undo: the new container goes, the old one stays (started again if we had stopped it).
      if (newId && !switched) await this.runtime.removeContainer(newId).catch((e: unknown) => this.opts.log.warn({ err: engineMessage(e) }, "could not remove the new container"));
      if (oldStopped && old && !switched) await this.runtime.startContainer(old.id).catch(() => false);
      if (err instanceof RolloutFailed) throw err;
      fail(phase, err);
    }

    // Past the switch: the new container is the agent's. Clearing up the old one can only warn.
    if (old) {
      await this.runtime.removeContainer(old.id).catch((err: unknown) =>
        this.opts.log.warn({ agentId, err: engineMessage(err) }, "could not remove the previous container"),
      );
    }
    await this.runtime.renameContainer(newId!, finalName).catch((err: unknown) =>
      this.opts.log.warn({ agentId, err: engineMessage(err) }, "could not rename the new container"),
    );
    emit("done", oldRunning ? `running ${target.image}` : `switched to ${target.image}; it starts with the agent`);
  }

  /**
   * The engine's own rolling update (Swarm): the agent keeps its container id; the engine starts
   * the new one, gates it on health, and rolls back by itself when it does not become healthy.
   */
  private async updateInPlace(
    agentId: string,
    id: string,
    running: boolean,
    target: AgentRow,
    emit: (step: UpdateStep, message: string) => void,
    fail: (step: UpdateStep, err: unknown) => never,
  ): Promise<void> {
    emit("creating", running ? "the engine's rolling update: replacing the running container, health-gated" : "changing the stopped container's spec");
    const { spec, configHash } = await this.opts.agents.prepareContainer(target, true).catch((err: unknown) => fail("creating", err));
    if (running) emit("health-check", `waiting for the engine: the new container must become healthy (armoryd connected) or the engine rolls it back`);
    const outcome = await this.runtime.updateInPlace!(id, spec, this.opts.healthTimeoutMs).catch((err: unknown) => fail("health-check", err));
    if (!outcome.ok) fail("health-check", new DomainError("PRECONDITION_FAILED", `The new container did not take over: ${outcome.reason}.`));
    emit("switching", "recording the new image");
    await this.recordSwitch(agentId, id, target, configHash);
    emit("done", running ? `running ${target.image}` : `switched to ${target.image}; it starts with the agent`);
  }

  /** Records that the agent now runs `target` in container `containerId`, with what the engine observes of it. */
  private async recordSwitch(agentId: string, containerId: string, target: AgentRow, configHash: string): Promise<void> {
    const observed = await this.runtime.inspectContainer(containerId);
    await this.prisma.agent.update({
      where: { id: agentId },
      data: {
        image: target.image,
        env: envOf(target.env as Prisma.JsonValue),
        containerId,
        containerConfigHash: configHash,
        secretsStale: false,
        observedState: observed?.state ?? "created",
        statusDetail: observed?.detail ?? null,
        exitCode: observed?.exitCode ?? null,
        oomKilled: observed?.oomKilled ?? false,
        startedAt: observed?.startedAt ?? null,
        finishedAt: observed?.finishedAt ?? null,
        observedAt: new Date(),
      },
    });
  }

  /** The last lines a container wrote (stdout and stderr), for saying why it stopped; "" when they cannot be read. */
  private async lastOutput(id: string, lines = 5): Promise<string> {
    const tail = await this.runtime.tailLogs(id, lines).catch(() => []);
    return tail
      .map((l) => l.message)
      .join("\n")
      .trim()
      .slice(-800);
  }

  /**
   * Waits until the new container's daemon has dialled home and reports healthy (woken by its
   * connection, checked at bounded back-off), the container stops, or time is up.
   */
  private async waitHealthy(agentId: string, id: string, redact: (text: string) => string): Promise<void> {
    const deadline = performance.now() + this.opts.healthTimeoutMs;
    let delay = 50;
    let last = "";
    for (;;) {
      const health = daemonHealth(this.opts.hub, agentId, id);
      if (health.ok) return;
      last = redact(health.message);
      const state = await this.runtime.inspectContainer(id);
      if (!state || (state.state !== "running" && state.state !== "created" && state.state !== "restarting")) {
        const tail = redact(await this.lastOutput(id));
        throw new DomainError(
          "PRECONDITION_FAILED",
          `The new container stopped before it became healthy (${state?.detail ?? "removed"})${tail ? `; its last output: ${tail}` : ""}.`,
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new DomainError(
          "PRECONDITION_FAILED",
          `The new container did not become healthy within ${Math.round(this.opts.healthTimeoutMs / 1000)} s (${last || "its daemon did not answer"}).`,
        );
      }
      // The daemon's connection wakes this at once; the delay only bounds how often the container is inspected.
      const wait = Math.min(delay, left);
      if (this.opts.hub.info(agentId)?.containerId === id) await new Promise((r) => setTimeout(r, wait));
      else await this.opts.hub.waitFor(agentId, { timeoutMs: wait, containerId: id }).catch(() => {});
      delay = Math.min(delay * 2, 1000);
    }
  }
}

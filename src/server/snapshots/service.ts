// Snapshots of agents (issue 17, item 5): the agent's workspace and Claude session volumes as one
// tar.gz in <snapshot dir>/<projectId>/<id>.tar.gz (0600 files in 0700 directories), read through
// a container that mounts the volumes read-only while the agent may keep running; restored into
// the same agent only while it is stopped (the volumes emptied, then the checked archive written),
// or into a new agent made with the snapshot's config ("clone"). Per-project limits on count and
// bytes keep a project from filling the disk. Progress and changes go to onChange subscribers.
import fs from "node:fs";
import path from "node:path";
import type { AgentSnapshot } from "../db/generated/client";
import { toolPolicySchema } from "../../contracts/approvals";
import { SNAPSHOT_ROOTS, snapshotConfig, type SnapshotChange, type SnapshotConfig, type SnapshotView } from "../../contracts/snapshots";
import { KeyedLock } from "../agents/keyed-lock";
import type { AgentManager, AgentRow } from "../agents/manager";
import type { AgentView } from "../api/routers/agent/schemas";
import type { PrismaClient } from "../db";
import { DomainError, notFound } from "../domain/errors";
import { getTemplate } from "../domain/templates";
import type { Logger } from "../logger";
import { ensurePrivateDir } from "../private-dir";
import type { AgentRuntime, ArchiveVolume } from "../runtime/port";
import { listenerStream } from "../streams/listener-stream";
import { readArchive, verifyArchive, writeArchive } from "./archive";

export interface SnapshotSettings {
  dir: string;
  maxPerProject: number;
  maxProjectBytes: number;
}

export interface SnapshotServiceOptions {
  prisma: PrismaClient;
  runtime: AgentRuntime;
  agents: AgentManager;
  settings: SnapshotSettings;
  log: Logger;
}

type Row = AgentSnapshot & { createdBy: { id: string; name: string } | null };
const include = { createdBy: { select: { id: true, name: true } } } as const;

const MIB = 1024 * 1024;
function mb(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MB`;
}

/** States in which an agent's volumes are in use: no restore then. */
const BUSY_STATES = new Set(["running", "restarting", "paused", "creating", "removing"]);

export class SnapshotService {
  private readonly listeners = new Set<(projectId: string, change: SnapshotChange) => void>();
  /** One snapshot operation (create, restore) per agent at a time. */
  private readonly agentLock = new KeyedLock();
  /** Quota check and insert per project, one at a time. */
  private readonly projectLock = new KeyedLock();
  /** Snapshots being written (tests and close() wait for them). */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly opts: SnapshotServiceOptions) {}

  private emit(projectId: string, change: SnapshotChange): void {
    for (const l of this.listeners) l(projectId, change);
  }

  onChange(projectId: string, signal?: AbortSignal): AsyncGenerator<SnapshotChange> {
    return listenerStream<SnapshotChange>((sink) => {
      const l = (p: string, c: SnapshotChange) => {
        if (p === projectId) sink.push(c);
      };
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    }, signal);
  }

  /** Where snapshot `id` of the project lives. */
  fileOf(projectId: string, id: string): string {
    return path.join(this.opts.settings.dir, projectId, `${id}.tar.gz`);
  }

  private view(r: Row): SnapshotView {
    // A row whose config cannot be read still lists (a clone of it is refused by configOf).
    const parsed = snapshotConfig.safeParse(r.config);
    const config = parsed.success ? parsed.data : { model: "", templateName: "" };
    return {
      id: r.id,
      projectId: r.projectId,
      agentId: r.agentId,
      agentName: r.agentName,
      status: r.status as SnapshotView["status"],
      error: r.error,
      note: r.note,
      sizeBytes: Number(r.sizeBytes),
      contentBytes: Number(r.contentBytes),
      fileCount: r.fileCount,
      durationMs: r.durationMs,
      image: r.image,
      model: config.model,
      templateName: config.templateName,
      createdBy: r.createdBy,
      createdAt: r.createdAt,
      completedAt: r.completedAt,
      restoredAt: r.restoredAt,
    };
  }

  async list(projectId: string, agentId?: string): Promise<SnapshotView[]> {
    const rows = await this.opts.prisma.agentSnapshot.findMany({
      where: { projectId, ...(agentId ? { agentId } : {}) },
      include,
      orderBy: { createdAt: "desc" },
    });
    return rows.map((r) => this.view(r));
  }

  async get(projectId: string, snapshotId: string): Promise<SnapshotView> {
    return this.view(await this.row(projectId, snapshotId));
  }

  private async row(projectId: string, snapshotId: string): Promise<Row> {
    const row = await this.opts.prisma.agentSnapshot.findFirst({ where: { id: snapshotId, projectId }, include });
    if (!row) throw notFound("Snapshot");
    return row;
  }

  private volumesOf(agent: Pick<AgentRow, "workspaceVolume" | "sessionVolume">): ArchiveVolume[] {
    return [
      { name: agent.workspaceVolume, root: SNAPSHOT_ROOTS.workspace },
      { name: agent.sessionVolume, root: SNAPSHOT_ROOTS.claude },
    ];
  }

  /** Resolves when every snapshot being written has finished (or failed). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Starts a snapshot of the agent and answers with its row (status "creating"); the archive is
   * written in the background (progress, then "ready" or "failed", through onChange). Refused
   * (409 / 413) when the project has as many snapshots, or as many bytes of them, as allowed.
   */
  async create(projectId: string, agentId: string, userId: string | null, note?: string | null): Promise<SnapshotView> {
    const agent = await this.opts.agents.row(projectId, agentId);
    const { maxPerProject, maxProjectBytes } = this.opts.settings;
    const row = await this.projectLock.run(projectId, async () => {
      const [count, used] = await Promise.all([
        this.opts.prisma.agentSnapshot.count({ where: { projectId, status: { not: "failed" } } }),
        this.opts.prisma.agentSnapshot.aggregate({ where: { projectId }, _sum: { sizeBytes: true } }),
      ]);
      if (count >= maxPerProject) {
        throw new DomainError(
          "CONFLICT",
          `This project already has ${count} snapshots, the most allowed (ARMORY_SNAPSHOT_MAX_PER_PROJECT=${maxPerProject}). Delete one first.`,
        );
      }
      const usedBytes = Number(used._sum.sizeBytes ?? 0);
      if (usedBytes >= maxProjectBytes) {
        throw new DomainError(
          "PAYLOAD_TOO_LARGE",
          `This project's snapshots already use ${mb(usedBytes)} of the ${mb(maxProjectBytes)} allowed (ARMORY_SNAPSHOT_MAX_PROJECT_MB). Delete one first.`,
        );
      }
      const config: SnapshotConfig = {
        templateId: agent.templateId,
        templateName: agent.template.name,
        model: agent.model,
        memoryMb: agent.memoryMb,
        cpus: agent.cpus,
        pidsLimit: agent.pidsLimit,
        permissionMode: agent.permissionMode,
        env: Object.fromEntries(Object.entries((agent.env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
        toolPolicy: agent.toolPolicy ? toolPolicySchema.parse(agent.toolPolicy) : null,
        approvalTimeoutSec: agent.approvalTimeoutSec,
      };
      const created = await this.opts.prisma.agentSnapshot.create({
        data: { projectId, agentId, agentName: agent.name, note: note?.trim() || null, image: agent.image, config, createdById: userId },
        include,
      });
      return { created, room: maxProjectBytes - usedBytes };
    });
    const { created, room } = row;
    this.emit(projectId, { type: "created", snapshotId: created.id, agentId });
    const work = this.write(created, agent, room).finally(() => this.running.delete(created.id));
    this.running.set(created.id, work);
    return this.view(created);
  }

  private async write(snap: Row, agent: AgentRow, room: number): Promise<void> {
    const { projectId } = snap;
    const file = this.fileOf(projectId, snap.id);
    const started = Date.now();
    try {
      await this.agentLock.run(agent.id, async () => {
        ensurePrivateDir(this.opts.settings.dir);
        ensurePrivateDir(path.dirname(file));
        const reader = await this.opts.runtime.readVolumes(this.volumesOf(agent), agent.image);
        try {
          const totals = await writeArchive(reader.stream, reader.prefix, file, {
            maxBytes: room,
            tooLarge: () =>
              `The snapshot would take this project's snapshots over the ${mb(this.opts.settings.maxProjectBytes)} allowed (ARMORY_SNAPSHOT_MAX_PROJECT_MB).`,
            onProgress: (bytes, files) => this.emit(projectId, { type: "progress", snapshotId: snap.id, agentId: agent.id, bytes, files }),
          });
          await this.opts.prisma.agentSnapshot.update({
            where: { id: snap.id },
            data: {
              status: "ready",
              sizeBytes: BigInt(totals.sizeBytes),
              contentBytes: BigInt(totals.contentBytes),
              fileCount: totals.fileCount,
              durationMs: Date.now() - started,
              completedAt: new Date(),
            },
          });
          this.emit(projectId, { type: "ready", snapshotId: snap.id, agentId: agent.id, bytes: totals.sizeBytes, files: totals.fileCount });
        } finally {
          await reader.close();
        }
      });
    } catch (err) {
      await fs.promises.rm(file, { force: true }).catch(() => {});
      const message = err instanceof DomainError ? err.message : `The snapshot failed: ${(err as Error).message}`;
      this.opts.log.warn({ snapshotId: snap.id, agentId: agent.id, err: (err as Error).message }, "snapshot failed");
      await this.opts.prisma.agentSnapshot
        .update({ where: { id: snap.id }, data: { status: "failed", error: message.slice(0, 2_000), durationMs: Date.now() - started, completedAt: new Date() } })
        .catch(() => {});
      this.emit(projectId, { type: "failed", snapshotId: snap.id, agentId: agent.id, message: message.slice(0, 2_000) });
    }
  }

  /** Deletes the snapshot and its file (not while it is being written). */
  async remove(projectId: string, snapshotId: string, agentId?: string): Promise<void> {
    const row = await this.row(projectId, snapshotId);
    if (agentId && row.agentId !== agentId) throw notFound("Snapshot");
    if (row.status === "creating" || this.running.has(row.id)) {
      throw new DomainError("CONFLICT", "This snapshot is still being written: delete it when it has finished.");
    }
    await this.opts.prisma.agentSnapshot.delete({ where: { id: row.id } });
    await fs.promises.rm(this.fileOf(projectId, row.id), { force: true });
    this.emit(projectId, { type: "deleted", snapshotId: row.id, agentId: row.agentId });
  }

  private async readyFile(row: Row): Promise<string> {
    if (row.status !== "ready") throw new DomainError("CONFLICT", `This snapshot is ${row.status === "creating" ? "still being written" : "a failed one"}: it cannot be restored.`);
    const file = this.fileOf(row.projectId, row.id);
    if (!fs.existsSync(file)) throw new DomainError("PRECONDITION_FAILED", `The snapshot's archive is missing from ${path.dirname(file)}.`);
    return file;
  }

  /** Checks the whole archive, then empties the agent's volumes and writes the archive into them. */
  private async restoreInto(row: Row, agent: AgentRow): Promise<void> {
    const file = await this.readyFile(row);
    await verifyArchive(file);
    this.emit(row.projectId, { type: "restoring", snapshotId: row.id, agentId: agent.id, bytes: 0 });
    const { tar, done } = readArchive(file, (bytes) => this.emit(row.projectId, { type: "restoring", snapshotId: row.id, agentId: agent.id, bytes }));
    try {
      await Promise.all([this.opts.runtime.writeVolumes(this.volumesOf(agent), agent.image, tar), done]);
    } catch (err) {
      this.emit(row.projectId, { type: "restore-failed", snapshotId: row.id, agentId: agent.id, message: (err as Error).message.slice(0, 2_000) });
      throw err;
    }
    await this.opts.prisma.agentSnapshot.update({ where: { id: row.id }, data: { restoredAt: new Date() } });
    this.emit(row.projectId, { type: "restored", snapshotId: row.id, agentId: agent.id });
  }

  /**
   * Replaces the agent's workspace and Claude session volumes with the snapshot's contents
   * (files made since are gone). Only while the agent is stopped: 409 otherwise.
   */
  async restore(projectId: string, agentId: string, snapshotId: string): Promise<SnapshotView> {
    const row = await this.row(projectId, snapshotId);
    if (row.agentId !== agentId) {
      throw new DomainError("BAD_REQUEST", "This snapshot was taken of another agent: clone it into a new agent instead.");
    }
    await this.readyFile(row);
    await this.agentLock.run(agentId, () =>
      this.opts.agents.withAgentLock(agentId, async () => {
        const agent = await this.opts.agents.row(projectId, agentId);
        const observed = agent.containerId ? await this.opts.runtime.inspectContainer(agent.containerId) : null;
        if (agent.desiredState === "running" || BUSY_STATES.has(agent.observedState) || (observed && BUSY_STATES.has(observed.state))) {
          throw new DomainError("CONFLICT", `Stop ${agent.name} first: a snapshot is restored only into a stopped agent (its files and sessions are replaced).`);
        }
        await this.restoreInto(row, agent);
      }),
    );
    return this.get(projectId, snapshotId);
  }

  /**
   * A new agent named `name`, made with the snapshot's template, image and config, its volumes
   * filled from the snapshot before its first start.
   */
  async clone(projectId: string, snapshotId: string, name: string, userId: string | null, start = false): Promise<AgentView> {
    const row = await this.row(projectId, snapshotId);
    await this.readyFile(row);
    const parsed = snapshotConfig.safeParse(row.config);
    if (!parsed.success) throw new DomainError("PRECONDITION_FAILED", "This snapshot does not say which config its agent had: it cannot be cloned.");
    const config = parsed.data;
    let template;
    try {
      template = await getTemplate(this.opts.prisma, projectId, config.templateId);
    } catch (err) {
      if (err instanceof DomainError && err.code === "NOT_FOUND") {
        throw new DomainError("PRECONDITION_FAILED", `The template ${config.templateName} this snapshot's agent was made from no longer exists.`);
      }
      throw err;
    }
    const image = (await this.opts.runtime.imageExists(row.image)) ? row.image : template.image;
    const created = await this.opts.agents.create({
      projectId,
      userId,
      name,
      // No instructions: the workspace (and its CLAUDE.md) comes from the snapshot.
      template: { ...template, image, instructions: undefined },
      overrides: {
        memoryMb: config.memoryMb,
        cpus: config.cpus,
        pidsLimit: config.pidsLimit,
        env: config.env,
        model: config.model,
        permissionMode: config.permissionMode,
        toolPolicy: config.toolPolicy,
        approvalTimeoutSec: config.approvalTimeoutSec,
      },
      start: false,
    });
    try {
      await this.agentLock.run(created.id, () =>
        this.opts.agents.withAgentLock(created.id, async () => this.restoreInto(row, await this.opts.agents.row(projectId, created.id))),
      );
    } catch (err) {
      await this.opts.agents.remove(projectId, created.id, false).catch(() => {});
      throw err;
    }
    if (start) return this.opts.agents.start(projectId, created.id);
    return this.opts.agents.get(projectId, created.id);
  }

  /**
   * At start: snapshots a previous run left half-written are marked failed (their partial files
   * removed), and archive files no snapshot row names any more (their project was deleted) are
   * removed. The snapshot directory belongs to this Armory alone.
   */
  async recover(): Promise<void> {
    const rows = await this.opts.prisma.agentSnapshot.findMany({ where: { status: "creating" }, select: { id: true, projectId: true } });
    for (const r of rows) {
      if (this.running.has(r.id)) continue;
      await fs.promises.rm(this.fileOf(r.projectId, r.id), { force: true }).catch(() => {});
      await this.opts.prisma.agentSnapshot.update({ where: { id: r.id }, data: { status: "failed", error: "Armory stopped while this snapshot was being written.", completedAt: new Date() } });
    }
    await this.sweepOrphans().catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, "could not sweep the snapshot directory"));
  }

  private async sweepOrphans(): Promise<void> {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const projects = await fs.promises.readdir(this.opts.settings.dir).catch(() => [] as string[]);
    for (const projectId of projects.filter((p) => UUID.test(p))) {
      const dir = path.join(this.opts.settings.dir, projectId);
      const files = (await fs.promises.readdir(dir).catch(() => [] as string[])).filter((f) => UUID.test(f.replace(/\.tar\.gz$/, "")) && f.endsWith(".tar.gz"));
      if (!files.length) continue;
      const ids = files.map((f) => f.replace(/\.tar\.gz$/, ""));
      const known = new Set((await this.opts.prisma.agentSnapshot.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((r) => r.id));
      for (const id of ids.filter((i) => !known.has(i))) {
        await fs.promises.rm(path.join(dir, `${id}.tar.gz`), { force: true });
        this.opts.log.info({ projectId, snapshotId: id }, "removed a snapshot archive whose snapshot no longer exists");
      }
    }
  }

  async close(): Promise<void> {
    await this.idle();
  }
}

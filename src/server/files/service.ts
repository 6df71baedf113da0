// Files of a running agent: list, read, write, delete — the path rules (paths.ts), symlink
// resolution in the container (by the agent's daemon), size limits, optimistic concurrency (expectedSha256), and an
// `agent-file-changed` event for every change made through Armory. `changes` streams those events
// to a subscriber, plus (when it names directories) what the agent's daemon sees change in them
// (watches.ts: one reference-counted daemon watch per agent and directory).
import { createHash } from "node:crypto";
import { MAX_WATCHES } from "../../contracts/armoryd";
import type { PrismaClient } from "../db";
import type { DaemonHub } from "../agentd/hub";
import { agentNotRunning, AgentFileSystem, daemonUnavailable, type FileEntry, type FileType, type ResolvedPath } from "./agent-fs";
import { DaemonRequestError, DaemonUnavailableError } from "../agentd/hub";
import { DomainError, notFound } from "../domain/errors";
import { AgentEventBus } from "../events/agent-event-bus";
import type { Logger } from "../logger";
import { listenerStream } from "../streams/listener-stream";
import { fileError } from "./agent-fs";
import { baseName, confineResolved, DEFAULT_FILE_ROOTS, isWithinRoots, parentOf } from "./paths";
import { DirectoryWatches, type WatchTarget } from "./watches";

export interface AgentRef {
  projectId: string;
  agentId: string;
}

/**
 * Checks a path for the caller (the requested one, then the one symlinks resolve to) and
 * resolves to it normalized; throws a 4xx DomainError. Made by filePathGuard (./access).
 */
export type PathGuard = (path: string) => Promise<string>;

export interface AgentFileChangedEvent {
  type: "agent-file-changed";
  projectId: string;
  agentId: string;
  path: string;
  change: "written" | "deleted" | "changed";
  /**
   * armory: through files.*; container: seen in the container — by the config watcher (change
   * "changed", instruction files) or by a directory watch (written / deleted).
   */
  source: "armory" | "container";
  /** sha256 of the new content (null for deletions). */
  sha256: string | null;
  size: number | null;
  at: Date;
}

export type FileEncoding = "utf-8" | "base64";

export interface ReadResult {
  path: string;
  resolvedPath: string;
  encoding: FileEncoding;
  content: string;
  size: number;
  mode: number;
  modifiedAt: Date;
  sha256: string;
}

export interface WriteInput {
  path: string;
  content: string;
  encoding: FileEncoding;
  createDirs: boolean;
  mode: number;
  /** When set, the write only happens if the file's current content has this hash (else CONFLICT). */
  expectedSha256?: string;
  /** Create only: CONFLICT when anything exists at the path (atomic in the container). */
  ifAbsent?: boolean;
}

export interface AppendInput {
  path: string;
  /** base64 bytes to add at the end. */
  content: string;
  /** The file's size the chunk continues from (CONFLICT otherwise). */
  offset: number;
}

export interface WriteResult {
  path: string;
  resolvedPath: string;
  size: number;
  mode: number;
  modifiedAt: Date;
  sha256: string;
  created: boolean;
}

export interface AgentFilesOptions {
  prisma: PrismaClient;
  /** The agent daemons: every file operation is done by the agent's armoryd, as the agent user. */
  hub: DaemonHub;
  maxBytes: number;
  roots?: readonly string[];
  /** Most entries one list returns (default 50,000). */
  listLimit?: number;
  log?: Logger;
}

/** Most directories one subscriber watches. */
export const MAX_WATCHED_PATHS = 32;
/**
 * How long after a change made through Armory the same change seen by a directory watch is not
 * reported again to a subscriber that got the first (the daemon reports within WATCH_MAX_MS).
 */
const ECHO_MS = 2_000;

/** A change seen by a directory watch (the config watcher's are "changed"). */
export const isWatchedChange = (e: AgentFileChangedEvent) => e.source === "container" && e.change !== "changed";

/** How long a file operation waits for a just-started agent's daemon to connect. */
const DAEMON_WAIT_MS = 10_000;

export const sha256 = (buf: Buffer) => createHash("sha256").update(buf).digest("hex");

/** utf-8 when the bytes are valid UTF-8 without NUL bytes, else base64. */
export function encodeContent(buf: Buffer): { encoding: FileEncoding; content: string } {
  if (!buf.subarray(0, 8192).includes(0)) {
    try {
      return { encoding: "utf-8", content: new TextDecoder("utf-8", { fatal: true }).decode(buf) };
    } catch {
      // not UTF-8: binary
    }
  }
  return { encoding: "base64", content: buf.toString("base64") };
}

const describeType = (t: FileType | null) => (t === "other" ? "a special file" : t === "directory" ? "a directory" : t === "symlink" ? "a symbolic link" : t === "file" ? "a file" : "nothing");

export class AgentFiles {
  readonly events = new AgentEventBus<AgentFileChangedEvent>();
  /** Directory watches in the agents' containers (reference-counted per agent and directory). */
  readonly watches: DirectoryWatches;
  readonly roots: readonly string[];
  readonly maxBytes: number;
  private readonly listLimit: number;

  constructor(private readonly opts: AgentFilesOptions) {
    this.roots = opts.roots ?? DEFAULT_FILE_ROOTS;
    this.maxBytes = opts.maxBytes;
    this.listLimit = opts.listLimit ?? 50_000;
    this.watches = new DirectoryWatches(
      opts.hub,
      (c) => this.events.publish({ type: "agent-file-changed", ...c, source: "container", sha256: null, size: null, at: new Date() }),
      opts.log,
    );
  }

  /**
   * The agent's file changes until `signal` aborts or the stream is returned: every change made
   * through Armory and every instruction-file change the config watcher sees (as before), and,
   * when `paths` names directories (each checked by the guard as files.list checks its path; the
   * agent must be running), what changes in them in the container, written by anyone. A change
   * this subscriber got as made through Armory is not repeated when the directory watch sees it
   * too (the same path and kind within ECHO_MS). Without `paths`, no directory is watched.
   */
  async changes(ref: AgentRef, paths: string[] | null, guard: PathGuard, signal?: AbortSignal): Promise<AsyncIterable<AgentFileChangedEvent>> {
    let dirs: Set<string> | null = null;
    let release = () => {};
    if (paths?.length) {
      const targets = await this.watchTargets(ref, paths, guard);
      try {
        release = await this.watches.acquire(ref, targets);
      } catch (err) {
        if (err instanceof DaemonUnavailableError) throw new DomainError("PRECONDITION_FAILED", "The agent's daemon (armoryd) is not connected: its files cannot be watched now.");
        if (err instanceof DaemonRequestError && err.error.code === "limit") {
          throw new DomainError("PRECONDITION_FAILED", `The agent's daemon already watches ${MAX_WATCHES} directories, its limit: close some file views or folders and try again.`);
        }
        if (err instanceof DaemonRequestError) throw fileError("watch", err.error.path ?? paths[0]!, err.error);
        throw err;
      }
      dirs = new Set(targets.map((t) => t.shown));
    }
    /** Changes made through Armory this subscriber got: path -> change kind -> until when an echo is dropped. */
    const echoes = new Map<string, Map<string, number>>();
    const inner = listenerStream<AgentFileChangedEvent>(
      (sink) =>
        this.events.on((e) => {
          if (e.projectId !== ref.projectId || e.agentId !== ref.agentId) return;
          const now = Date.now();
          if (isWatchedChange(e)) {
            if (!dirs || !(dirs.has(parentOf(e.path)) || dirs.has(e.path))) return;
            if ((echoes.get(e.path)?.get(e.change) ?? 0) > now) return;
          } else if (e.source === "armory" && dirs) {
            if (echoes.size > 1000) for (const [p, kinds] of echoes) if (Math.max(...kinds.values()) <= now) echoes.delete(p);
            let kinds = echoes.get(e.path);
            if (!kinds) echoes.set(e.path, (kinds = new Map()));
            kinds.set(e.change, now + ECHO_MS);
          }
          sink.push(e);
        }),
      signal,
    );
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      signal?.removeEventListener("abort", done);
      release();
    };
    signal?.addEventListener("abort", done, { once: true });
    if (signal?.aborted) done();
    return {
      [Symbol.asyncIterator]: () => ({
        async next() {
          const r = await inner.next();
          if (r.done) done();
          return r;
        },
        async return() {
          done();
          await inner.return(undefined);
          return { done: true as const, value: undefined };
        },
      }),
    };
  }

  /** The directories to watch, checked like files.list checks its path (the resolved one too). */
  private async watchTargets(ref: AgentRef, requested: string[], guard: PathGuard): Promise<WatchTarget[]> {
    const shown: string[] = [];
    for (const p of requested) {
      const path = await guard(p);
      if (!shown.includes(path)) shown.push(path);
    }
    const files = await this.container(ref);
    const out: WatchTarget[] = [];
    for (let i = 0; i < shown.length; i += 16) {
      const resolved = await files.resolve(shown.slice(i, i + 16));
      for (const r of resolved) {
        const path = r.requested;
        confineResolved(path, r.resolved, this.roots);
        if (r.resolved !== path) await guard(r.resolved);
        if (r.type === null) throw new DomainError("NOT_FOUND", `${path} does not exist.`);
        if (r.type !== "directory") throw new DomainError("BAD_REQUEST", `${path} is ${describeType(r.type)}, not a directory: only directories are watched.`);
        out.push({ shown: path, resolved: r.resolved, root: this.rootOf(r.resolved) });
      }
    }
    return out;
  }

  private async container(ref: AgentRef): Promise<AgentFileSystem> {
    const row = await this.opts.prisma.agent.findFirst({
      where: { id: ref.agentId, projectId: ref.projectId },
      select: { name: true, containerId: true, observedState: true },
    });
    if (!row) throw notFound("Agent");
    if (!row.containerId || row.observedState !== "running") throw agentNotRunning(row.name);
    // A container that just started: its daemon dials home within about a second.
    if (this.opts.hub.state(ref.agentId) !== "connected") {
      await this.opts.hub.waitFor(ref.agentId, { timeoutMs: DAEMON_WAIT_MS, containerId: row.containerId }).catch(() => {
        throw daemonUnavailable(row.name);
      });
    }
    return new AgentFileSystem(this.opts.hub, ref.agentId, row.name);
  }

  /** Resolves `path` in the container and checks the result against the roots and the guard. */
  private async resolve(files: AgentFileSystem, path: string, guard: PathGuard): Promise<ResolvedPath> {
    const [r] = await files.resolve([path]);
    confineResolved(path, r!.resolved, this.roots);
    if (r!.resolved !== path) await guard(r!.resolved);
    return r!;
  }

  /** The root a confined (resolved) path lies in: file operations in the container start there. */
  private rootOf(path: string): string {
    const root = [...this.roots].sort((a, b) => b.length - a.length).find((r) => isWithinRoots(path, [r]));
    if (!root) throw new DomainError("FORBIDDEN", `${path} is outside the agent's files (allowed: ${this.roots.join(", ")}).`);
    return root;
  }

  private tooLarge(path: string, size: number): DomainError {
    return new DomainError(
      "PAYLOAD_TOO_LARGE",
      `${path} is ${size.toLocaleString("en")} bytes; the limit is ${this.maxBytes.toLocaleString("en")} bytes (ARMORY_FILES_MAX_BYTES).`,
    );
  }

  async list(ref: AgentRef, requested: string, guard: PathGuard): Promise<{ path: string; resolvedPath: string; entries: FileEntry[]; truncated: boolean }> {
    const path = await guard(requested);
    const files = await this.container(ref);
    const r = await this.resolve(files, path, guard);
    if (r.type === null) throw new DomainError("NOT_FOUND", `${path} does not exist.`);
    if (r.type !== "directory") throw new DomainError("BAD_REQUEST", `${path} is ${describeType(r.type)}, not a directory.`);
    const { entries, truncated } = await files.list(r.resolved, this.listLimit, path);
    entries.sort((a, b) => {
      const ad = a.type === "directory" || a.targetType === "directory" ? 0 : 1;
      const bd = b.type === "directory" || b.targetType === "directory" ? 0 : 1;
      return ad - bd || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    return { path, resolvedPath: r.resolved, entries, truncated };
  }

  async read(ref: AgentRef, requested: string, guard: PathGuard): Promise<ReadResult> {
    const path = await guard(requested);
    const files = await this.container(ref);
    const r = await this.resolve(files, path, guard);
    if (r.type === null) throw new DomainError("NOT_FOUND", `${path} does not exist.`);
    if (r.type !== "file") throw new DomainError("BAD_REQUEST", `${path} is ${describeType(r.type)}, not a file.`);
    if (r.size > this.maxBytes) throw this.tooLarge(path, r.size);
    const buf = await files.read(this.rootOf(r.resolved), r.resolved, this.maxBytes, (size) => this.tooLarge(path, size));
    return { path, resolvedPath: r.resolved, ...encodeContent(buf), size: buf.length, mode: r.mode, modifiedAt: r.modifiedAt!, sha256: sha256(buf) };
  }

  async write(ref: AgentRef, input: WriteInput, guard: PathGuard): Promise<WriteResult> {
    const path = await guard(input.path);
    if (this.roots.includes(path)) throw new DomainError("BAD_REQUEST", `${path} is a directory, not a file.`);
    const content = input.encoding === "base64" ? Buffer.from(input.content, "base64") : Buffer.from(input.content, "utf8");
    if (content.length > this.maxBytes) throw this.tooLarge(path, content.length);
    const files = await this.container(ref);
    const r = await this.resolve(files, path, guard);
    if (r.type !== null && r.type !== "file") throw new DomainError("BAD_REQUEST", `${path} is ${describeType(r.type)}; only files can be written.`);
    if (input.expectedSha256 !== undefined) {
      const current = r.type === "file" ? sha256(await files.read(this.rootOf(r.resolved), r.resolved, this.maxBytes, (size) => this.tooLarge(path, size))) : null;
      if (current !== input.expectedSha256) {
        throw new DomainError(
          "CONFLICT",
          current === null ? `${path} was deleted since you opened it.` : `${path} changed since you opened it: reload it, or save again to overwrite.`,
        );
      }
    }
    if (input.ifAbsent && r.ownType !== null) throw new DomainError("CONFLICT", `${path} already exists.`);
    const target = r.resolved;
    const createDirs = r.type !== "file" && this.missingParents(path, r, input.createDirs, "write");
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
    await files.write({ root: this.rootOf(target), path: target, content, mode: input.mode, mtime, createDirs, exclusive: !!input.ifAbsent });
    const hash = sha256(content);
    this.events.publish({ type: "agent-file-changed", ...ref, path, change: "written", source: "armory", sha256: hash, size: content.length, at: new Date() });
    if (target !== path) {
      this.events.publish({ type: "agent-file-changed", ...ref, path: target, change: "written", source: "armory", sha256: hash, size: content.length, at: new Date() });
    }
    return { path, resolvedPath: target, size: content.length, mode: input.mode, modifiedAt: mtime, sha256: hash, created: r.type === null };
  }

  /**
   * For a path where nothing exists yet: whether directories above it must be made (throws when
   * they are missing and `createDirs` is false, or when an ancestor is not a directory).
   */
  private missingParents(path: string, r: ResolvedPath, createDirs: boolean, verb: string): boolean {
    const ancestor = r.existingAncestor;
    if (r.ancestorType !== "directory") {
      throw new DomainError("BAD_REQUEST", `Cannot ${verb} ${path}: ${ancestor} is ${describeType(r.ancestorType)}, not a directory.`);
    }
    const target = r.resolved;
    const missing = parentOf(target) === ancestor ? [] : parentOf(target).slice(ancestor === "/" ? 1 : ancestor.length + 1).split("/");
    if (missing.length && !createDirs) {
      throw new DomainError("NOT_FOUND", `The directory ${parentOf(path)} does not exist (pass createDirs to create it).`);
    }
    if (!isWithinRoots(ancestor, this.roots)) {
      throw new DomainError("BAD_REQUEST", `Cannot ${verb} ${path}: its root directory does not exist in the container.`);
    }
    return missing.length > 0;
  }

  /** Adds a chunk at the end of an existing file (chunked uploads); the size limit applies to the whole file. */
  async append(ref: AgentRef, input: AppendInput, guard: PathGuard): Promise<{ path: string; size: number }> {
    const path = await guard(input.path);
    const content = Buffer.from(input.content, "base64");
    const size = input.offset + content.length;
    if (size > this.maxBytes) throw this.tooLarge(path, size);
    const files = await this.container(ref);
    const r = await this.resolve(files, path, guard);
    if (r.type === null) throw new DomainError("NOT_FOUND", `${path} does not exist.`);
    if (r.type !== "file") throw new DomainError("BAD_REQUEST", `${path} is ${describeType(r.type)}, not a file.`);
    await files.append({ root: this.rootOf(r.resolved), path: r.resolved, content, offset: input.offset, maxBytes: this.maxBytes, onTooLarge: (n) => this.tooLarge(path, n) });
    this.events.publish({ type: "agent-file-changed", ...ref, path, change: "written", source: "armory", sha256: null, size, at: new Date() });
    return { path, size };
  }

  /** Makes a directory (409 when something exists there; missing parents only with createDirs). */
  async mkdir(ref: AgentRef, requested: string, createDirs: boolean, guard: PathGuard): Promise<{ path: string; created: true }> {
    const path = await guard(requested);
    const files = await this.container(ref);
    const r = await this.resolve(files, path, guard);
    if (r.ownType !== null || r.type !== null) throw new DomainError("CONFLICT", `${path} already exists.`);
    const parents = this.missingParents(path, r, createDirs, "create");
    await files.mkdir({ root: this.rootOf(r.resolved), path: r.resolved, mode: 0o755, createDirs: parents });
    this.events.publish({ type: "agent-file-changed", ...ref, path, change: "written", source: "armory", sha256: null, size: null, at: new Date() });
    return { path, created: true };
  }

  /**
   * Renames or moves a file, directory or link (a link is moved, not followed). The destination's
   * directory must exist; an existing destination is a CONFLICT unless `overwrite`.
   */
  async rename(ref: AgentRef, input: { from: string; to: string; overwrite: boolean }, guard: PathGuard): Promise<{ from: string; to: string; type: FileType }> {
    const from = await guard(input.from);
    const to = await guard(input.to);
    for (const p of [from, to]) {
      if (this.roots.includes(p)) throw new DomainError("BAD_REQUEST", `${p} is one of the agent's root directories and cannot be renamed or replaced.`);
    }
    if (from === to) throw new DomainError("BAD_REQUEST", `${from} already has that name.`);
    if (isWithinRoots(to, [from])) throw new DomainError("BAD_REQUEST", `Cannot move ${from} into itself (${to}).`);
    const files = await this.container(ref);
    const [srcParent, src, dstParent, dst] = await files.resolve([parentOf(from), from, parentOf(to), to]);
    confineResolved(parentOf(from), srcParent!.resolved, this.roots);
    confineResolved(parentOf(to), dstParent!.resolved, this.roots);
    const type = src!.ownType;
    if (type === null) throw new DomainError("NOT_FOUND", `${from} does not exist.`);
    if (dstParent!.type === null) throw new DomainError("NOT_FOUND", `The directory ${parentOf(to)} does not exist.`);
    if (dstParent!.type !== "directory") throw new DomainError("BAD_REQUEST", `${parentOf(to)} is ${describeType(dstParent!.type)}, not a directory.`);
    if (dst!.ownType !== null && !input.overwrite) throw new DomainError("CONFLICT", `${to} already exists.`);
    const join = (dir: string, p: string) => `${dir === "/" ? "" : dir}/${baseName(p)}`;
    const source = join(srcParent!.resolved, from);
    const target = join(dstParent!.resolved, to);
    confineResolved(from, source, this.roots);
    confineResolved(to, target, this.roots);
    if (source !== from) await guard(source);
    if (target !== to) await guard(target);
    if (this.roots.includes(source) || this.roots.includes(target)) throw new DomainError("BAD_REQUEST", `The agent's root directories cannot be renamed or replaced.`);
    if (isWithinRoots(target, [source])) throw new DomainError("BAD_REQUEST", `Cannot move ${from} into itself (${to}).`);
    await files.rename({ root: this.rootOf(source), path: source, toRoot: this.rootOf(target), to: target, overwrite: input.overwrite });
    const at = new Date();
    this.events.publish({ type: "agent-file-changed", ...ref, path: from, change: "deleted", source: "armory", sha256: null, size: null, at });
    this.events.publish({ type: "agent-file-changed", ...ref, path: to, change: "written", source: "armory", sha256: null, size: null, at });
    return { from, to, type };
  }

  async delete(ref: AgentRef, requested: string, recursive: boolean, guard: PathGuard): Promise<{ path: string; deleted: true; type: FileType }> {
    const path = await guard(requested);
    if (this.roots.includes(path)) throw new DomainError("BAD_REQUEST", `${path} is one of the agent's root directories and cannot be deleted.`);
    const files = await this.container(ref);
    // The parent is resolved; the last name is not followed, so deleting a link removes the link.
    const [parent, own] = await files.resolve([parentOf(path), path]);
    confineResolved(parentOf(path), parent!.resolved, this.roots);
    const type = own!.ownType;
    if (type === null) throw new DomainError("NOT_FOUND", `${path} does not exist.`);
    if (type === "directory" && !recursive) {
      throw new DomainError("BAD_REQUEST", `${path} is a directory: pass recursive to delete it with everything in it.`);
    }
    const target = `${parent!.resolved === "/" ? "" : parent!.resolved}/${baseName(path)}`;
    confineResolved(path, target, this.roots);
    if (target !== path) await guard(target);
    if (this.roots.includes(target)) throw new DomainError("BAD_REQUEST", `${path} is one of the agent's root directories and cannot be deleted.`);
    await files.remove(this.rootOf(target), target, recursive);
    this.events.publish({ type: "agent-file-changed", ...ref, path, change: "deleted", source: "armory", sha256: null, size: null, at: new Date() });
    return { path, deleted: true, type };
  }
}

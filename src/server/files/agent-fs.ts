// The file operations of one agent, done by its daemon (armoryd) natively as the agent user: a
// path is resolved once and every file is opened without following links (src/armoryd/files.ts),
// so a symlink the agent swaps in after Armory's checks is refused, never followed. This module
// only asks and turns the daemon's answers into Armory's types and 4xx errors; callers pass paths
// already checked by ./paths.ts and ./access.ts.
import type { FileType, WireFileEntry, WireResolvedPath, DaemonError } from "../../contracts/armoryd";
import { AGENT_UID } from "../../contracts/armoryd";
import { DaemonRequestError, DaemonUnavailableError, type DaemonHub } from "../agentd/hub";
import { DomainError } from "../domain/errors";

export type { FileType };

export interface FileEntry {
  name: string;
  path: string;
  type: FileType;
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  modifiedAt: Date;
  /** For symlinks: where the link points (as written), and what is there. */
  symlinkTarget: string | null;
  targetType: FileType | "missing" | null;
}

export interface ResolvedPath {
  requested: string;
  /** The path with every symlink resolved by the container (may not exist). */
  resolved: string;
  /** The deepest existing ancestor of `resolved` (itself when it exists). */
  existingAncestor: string;
  /** Type of what is at `resolved`, null when nothing is. */
  type: FileType | null;
  ancestorType: FileType;
  /** Type of the requested path itself, not following a final symlink (null when nothing is there). */
  ownType: FileType | null;
  size: number;
  mode: number;
  modifiedAt: Date | null;
}

export type FileOp = "write" | "read" | "delete" | "append" | "mkdir" | "rename" | "list" | "resolve" | "watch";

const VERB: Record<FileOp, string> = {
  write: "write",
  read: "read",
  delete: "delete",
  append: "append to",
  mkdir: "create",
  rename: "rename",
  list: "list",
  resolve: "resolve",
  watch: "watch",
};

/** The error for an agent whose files cannot be reached now. */
export function agentNotRunning(agentName: string): DomainError {
  return new DomainError("PRECONDITION_FAILED", `Agent ${agentName} is not running: start it to work with its files.`);
}

/** The error for a running agent whose daemon cannot be asked (not connected yet, or an image without one). */
export function daemonUnavailable(agentName: string): DomainError {
  return new DomainError(
    "PRECONDITION_FAILED",
    `Agent ${agentName}'s daemon (armoryd) is not connected: it is starting, restarting, or the agent runs an image without one (update it on its Versions tab).`,
  );
}

/** The 4xx (or 502) for a file operation the daemon refused. `requested` is the caller's path. */
export function fileError(op: FileOp, requested: string, e: DaemonError, onTooLarge?: (size: number) => DomainError): DomainError {
  const verb = VERB[op];
  const what = e.path || requested;
  switch (e.code) {
    case "symlink":
      return new DomainError("CONFLICT", `Cannot ${verb} ${requested}: ${what} is a symbolic link now (it changed after Armory checked the path); Armory does not follow it. Nothing was changed.`);
    case "escaped":
    case "outside":
      return new DomainError("CONFLICT", `Cannot ${verb} ${requested}: ${what} lies outside the agent's files now (it was moved while Armory worked on it). Nothing was changed.`);
    case "loop":
      return new DomainError("BAD_REQUEST", `${requested} cannot be resolved in the container (a symbolic link loop or a directory the agent cannot enter).`);
    case "missing":
      return new DomainError("NOT_FOUND", `${what} does not exist.`);
    case "notdir":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: ${what} is not a directory.`);
    case "isdir":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: ${what} is a directory.`);
    case "notfile":
      return new DomainError("BAD_REQUEST", `${what} is not a regular file.`);
    case "denied":
      return new DomainError("FORBIDDEN", `The agent user (uid ${AGENT_UID}) may not ${verb} ${what}: permission denied.`);
    case "readonly":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${what}: read-only file system.`);
    case "nospace":
      return new DomainError("PRECONDITION_FAILED", `Cannot ${verb} ${what}: no space left on the agent's volume.`);
    case "exists":
      return new DomainError("CONFLICT", `${what} already exists.`);
    case "offset":
      return new DomainError(
        "CONFLICT",
        `Cannot ${verb} ${requested}: it is ${(e.size ?? 0).toLocaleString("en")} bytes now, not the size this chunk continues from (another upload or the agent changed it).`,
      );
    case "crossdev":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: the destination is on another volume (move it by copying instead).`);
    case "invalid":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: a directory cannot be moved into itself.`);
    case "toolarge":
      return onTooLarge?.(e.size ?? 0) ?? new DomainError("PAYLOAD_TOO_LARGE", `${what} is too large.`);
    default:
      return new DomainError("ENGINE_ERROR", `Could not ${verb} ${what} in the agent's container${e.message ? `: ${e.message}` : ""}.`);
  }
}

const date = (ms: number) => new Date(ms);

function entryOf(w: WireFileEntry): FileEntry {
  return { ...w, modifiedAt: date(w.modifiedAt) };
}

function resolvedOf(w: WireResolvedPath): ResolvedPath {
  return { ...w, modifiedAt: w.modifiedAt === null ? null : date(w.modifiedAt) };
}

/** One agent's files, through its daemon. */
export class AgentFileSystem {
  constructor(
    private readonly hub: DaemonHub,
    private readonly agentId: string,
    private readonly agentName: string,
  ) {}

  private async ask<T>(op: FileOp, requested: string, fn: () => Promise<T>, onTooLarge?: (size: number) => DomainError): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DaemonUnavailableError) throw daemonUnavailable(this.agentName);
      if (err instanceof DaemonRequestError) throw fileError(op, requested, err.error, onTooLarge);
      throw err;
    }
  }

  /** Resolves each path as the container's kernel would (missing tails allowed). */
  async resolve(paths: string[]): Promise<ResolvedPath[]> {
    const r = await this.ask("resolve", paths[0] ?? "", () => this.hub.request(this.agentId, "fs.resolve", { paths }));
    return r.paths.map(resolvedOf);
  }

  /** The entries of a directory (at most `limit`), with `shownAs` as their paths' parent. */
  async list(dir: string, limit: number, shownAs = dir): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const r = await this.ask("list", shownAs, () => this.hub.request(this.agentId, "fs.list", { path: dir, limit, shownPath: shownAs }));
    return { entries: r.entries.map(entryOf), truncated: r.truncated };
  }

  async read(root: string, path: string, maxBytes: number, onTooLarge: (size: number) => DomainError): Promise<Buffer> {
    const r = await this.ask("read", path, () => this.hub.request(this.agentId, "fs.read", { root, path, maxBytes }), onTooLarge);
    return Buffer.from(r.content, "base64");
  }

  async write(o: { root: string; path: string; content: Buffer; mode: number; mtime: Date; createDirs: boolean; exclusive?: boolean }): Promise<void> {
    await this.ask("write", o.path, () =>
      this.hub.request(this.agentId, "fs.write", {
        root: o.root,
        path: o.path,
        content: o.content.toString("base64"),
        mode: o.mode,
        mtime: o.mtime.getTime(),
        createDirs: o.createDirs,
        exclusive: !!o.exclusive,
      }),
    );
  }

  async append(o: { root: string; path: string; content: Buffer; offset: number; maxBytes: number; onTooLarge: (size: number) => DomainError }): Promise<void> {
    await this.ask(
      "append",
      o.path,
      () => this.hub.request(this.agentId, "fs.append", { root: o.root, path: o.path, content: o.content.toString("base64"), offset: o.offset, maxBytes: o.maxBytes }),
      o.onTooLarge,
    );
  }

  async mkdir(o: { root: string; path: string; mode: number; createDirs: boolean }): Promise<void> {
    await this.ask("mkdir", o.path, () => this.hub.request(this.agentId, "fs.mkdir", o));
  }

  async rename(o: { root: string; path: string; toRoot: string; to: string; overwrite: boolean }): Promise<void> {
    await this.ask("rename", o.path, () => this.hub.request(this.agentId, "fs.rename", o));
  }

  async remove(root: string, path: string, recursive: boolean): Promise<void> {
    await this.ask("delete", path, () => this.hub.request(this.agentId, "fs.delete", { root, path, recursive }));
  }
}

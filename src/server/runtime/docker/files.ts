// Files inside a running agent container, always as the agent user (uid 1000), never as root:
// contents move through one small exec'd program (./file-ops: walks the path without following
// symlinks, writes a temp file and renames it, reads with O_NOFOLLOW); listing and resolving
// symlinks the way the container's kernel does run as tiny exec'd coreutils/findutils commands.
// Docker's archive API is not used: it extracts and packs as root and follows a symlink the
// agent swapped in after Armory's checks. Callers pass paths already checked by
// src/server/files/paths.ts.
import type Docker from "dockerode";
import { DomainError } from "../../domain/errors";
import { dockerError, statusOf } from "./client";
import { AGENT_UID } from "./containers";
import { FILE_OP_SCRIPT, fileOpError } from "./file-ops";

/** Every exec of this module runs as the agent user. */
const AGENT_USER = `${AGENT_UID}:${AGENT_UID}`;

export type FileType = "file" | "directory" | "symlink" | "other";

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

const FIND_TYPES: Record<string, FileType> = { f: "file", d: "directory", l: "symlink" };
const typeOfFind = (y: string): FileType => FIND_TYPES[y] ?? "other";

function notRunning(err: unknown): boolean {
  return statusOf(err) === 409 && /not running|is paused|is restarting/i.test(String((err as Error).message));
}

/** The error for a container that cannot run commands now. */
export function agentNotRunning(agentName: string): DomainError {
  return new DomainError("PRECONDITION_FAILED", `Agent ${agentName} is not running: start it to work with its files.`);
}

interface ExecResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/**
 * Runs a command in the container as the agent user (non-TTY, demultiplexed), feeding it `stdin`
 * when given, and collects its output and exit code.
 */
async function execCollect(container: Docker.Container, cmd: string[], action: string, stdin?: Buffer): Promise<ExecResult> {
  let exec: Docker.Exec;
  let stream: NodeJS.ReadWriteStream;
  try {
    exec = await container.exec({ Cmd: cmd, User: AGENT_USER, AttachStdin: !!stdin, AttachStdout: true, AttachStderr: true, WorkingDir: "/" });
    stream = (await exec.start({ hijack: true, stdin: !!stdin })) as NodeJS.ReadWriteStream;
  } catch (err) {
    if (notRunning(err)) throw new DomainError("PRECONDITION_FAILED", "not running");
    throw dockerError(err, action);
  }
  const out: Buffer[] = [];
  const errOut: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    // Frames: 8-byte header (stream id, 3 zero bytes, big-endian length), then the payload.
    let buf: Buffer = Buffer.alloc(0);
    stream.on("data", (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const len = buf.readUInt32BE(4);
        if (buf.length < 8 + len) break;
        (buf[0] === 2 ? errOut : out).push(buf.subarray(8, 8 + len));
        buf = buf.subarray(8 + len);
      }
    });
    stream.once("end", () => resolve());
    stream.once("close", () => resolve());
    stream.once("error", reject);
    if (stdin) {
      stream.write(stdin);
      stream.end();
    }
  });
  let exitCode = -1;
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running) {
      exitCode = info.ExitCode ?? -1;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(errOut).toString("utf8").trim(), exitCode };
}

function splitNul(buf: Buffer): string[] {
  const parts = buf.toString("utf8").split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

const dateOfEpoch = (s: string): Date => new Date(Math.round(Number(s) * 1000));

// Resolves each argument like the kernel would (realpath -m: missing tails allowed), then the
// deepest existing ancestor, then stats the result. NUL-separated records.
const RESOLVE_SCRIPT = `
for p; do
  r=$(realpath -m -- "$p" 2>/dev/null) || { printf 'ERR\\0%s\\0' "$p"; continue; }
  a=$r
  while [ ! -e "$a" ] && [ "$a" != / ]; do a=\${a%/*}; a=\${a:-/}; done
  printf 'OK\\0%s\\0%s\\0' "$r" "$a"
  if [ -e "$r" ]; then find "$r" -maxdepth 0 -printf '%y\\0%s\\0%m\\0%T@\\0'; else printf 'none\\0\\0\\0\\0'; fi
  find "$a" -maxdepth 0 -printf '%y\\0'
  if [ -e "$p" ] || [ -L "$p" ]; then find "$p" -maxdepth 0 -printf '%y\\0'; else printf 'none\\0'; fi
done`;

export class ContainerFiles {
  private readonly container: Docker.Container;

  constructor(
    docker: Docker,
    containerId: string,
    private readonly agentName: string,
  ) {
    this.container = docker.getContainer(containerId);
  }

  private async exec(cmd: string[], action: string, stdin?: Buffer): Promise<ExecResult> {
    try {
      return await execCollect(this.container, cmd, action, stdin);
    } catch (err) {
      if (err instanceof DomainError && err.message === "not running") throw agentNotRunning(this.agentName);
      throw err;
    }
  }

  /** Resolves symlinks inside the container (one exec for all paths). */
  async resolve(paths: string[]): Promise<ResolvedPath[]> {
    const res = await this.exec(["bash", "-c", RESOLVE_SCRIPT, "resolve", ...paths], "resolve paths in the container");
    const f = splitNul(res.stdout);
    const out: ResolvedPath[] = [];
    let i = 0;
    for (const requested of paths) {
      if (f[i] === "ERR") {
        throw new DomainError("BAD_REQUEST", `${requested} cannot be resolved in the container (a symbolic link loop or a directory the agent cannot enter).`);
      }
      if (f[i] !== "OK") throw new DomainError("ENGINE_ERROR", `Could not resolve ${requested} in the container: ${res.stderr || "unexpected output"}`);
      const [resolved, existingAncestor, y, size, mode, mtime, ay, ly] = f.slice(i + 1, i + 9);
      i += 9;
      out.push({
        requested,
        resolved: resolved!,
        existingAncestor: existingAncestor!,
        type: y === "none" ? null : typeOfFind(y!),
        ancestorType: typeOfFind(ay!),
        ownType: ly === "none" ? null : typeOfFind(ly!),
        size: y === "none" ? 0 : Number(size),
        mode: y === "none" ? 0 : parseInt(mode!, 8),
        modifiedAt: y === "none" ? null : dateOfEpoch(mtime!),
      });
    }
    return out;
  }

  /**
   * The entries of a directory (not recursive), at most `limit` of them. One exec of find with a
   * NUL-separated printf: fast for 10,000 entries, where an archive would pack every file.
   */
  async list(dir: string, limit: number, shownAs = dir): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const fields = 7;
    const script = `find "$1" -mindepth 1 -maxdepth 1 -printf '%y\\0%Y\\0%s\\0%m\\0%T@\\0%l\\0%f\\0' | head -z -n ${(limit + 1) * fields}`;
    const res = await this.exec(["bash", "-o", "pipefail", "-c", script, "list", dir], `list ${dir}`);
    if (res.exitCode !== 0 && res.exitCode !== 141 && !res.stdout.length) {
      throw new DomainError(/Permission denied/i.test(res.stderr) ? "FORBIDDEN" : "BAD_REQUEST", `Cannot list ${dir}: ${res.stderr || `exit code ${res.exitCode}`}`);
    }
    const f = splitNul(res.stdout);
    const entries: FileEntry[] = [];
    for (let i = 0; i + fields <= f.length; i += fields) {
      const [y, yTarget, size, mode, mtime, link, name] = f.slice(i, i + fields) as string[];
      const type = typeOfFind(y!);
      entries.push({
        name: name!,
        path: shownAs === "/" ? `/${name}` : `${shownAs}/${name}`,
        type,
        size: Number(size),
        mode: parseInt(mode!, 8),
        modifiedAt: dateOfEpoch(mtime!),
        symlinkTarget: type === "symlink" ? link! : null,
        targetType: type === "symlink" ? (yTarget === "N" || yTarget === "L" ? "missing" : typeOfFind(yTarget!)) : null,
      });
    }
    const truncated = entries.length > limit;
    if (truncated) entries.length = limit;
    return { entries, truncated };
  }

  /**
   * The bytes of the regular file at `path` (resolved, inside `root`), read as the agent user
   * without following a symlink anywhere in the path. Over `maxBytes`: `onTooLarge(size)`.
   */
  async read(root: string, path: string, maxBytes: number, onTooLarge: (size: number) => DomainError): Promise<Buffer> {
    const res = await this.exec(["perl", "-e", FILE_OP_SCRIPT, "--", "read", root, path, String(maxBytes)], `read ${path}`);
    if (res.exitCode !== 0) throw fileOpError("read", path, res.stderr, res.exitCode, onTooLarge);
    return res.stdout;
  }

  /**
   * Writes `content` to `path` (resolved, inside `root`) as the agent user: a temp file in the
   * same directory, mode and mtime set, renamed over the name. With `createDirs`, missing
   * directories below `root` are made (owner agent, 0755). A symlink in the path is refused.
   */
  async write(opts: { root: string; path: string; content: Buffer; mode: number; mtime: Date; createDirs: boolean; exclusive?: boolean }): Promise<void> {
    const args = ["write", opts.root, opts.path, String(opts.mode), String(Math.floor(opts.mtime.getTime() / 1000)), String(opts.content.length), opts.createDirs ? "1" : "0", opts.exclusive ? "1" : "0"];
    const res = await this.exec(["perl", "-e", FILE_OP_SCRIPT, "--", ...args], `write ${opts.path}`, opts.content);
    if (res.exitCode !== 0) throw fileOpError("write", opts.path, res.stderr, res.exitCode);
  }

  /**
   * Appends `content` to the regular file `path` (resolved, inside `root`) as the agent user,
   * only when its size is `offset` now and stays within `maxBytes` (chunked uploads).
   */
  async append(opts: { root: string; path: string; content: Buffer; offset: number; maxBytes: number; onTooLarge: (size: number) => DomainError }): Promise<void> {
    const args = ["append", opts.root, opts.path, String(opts.offset), String(opts.content.length), String(opts.maxBytes)];
    const res = await this.exec(["perl", "-e", FILE_OP_SCRIPT, "--", ...args], `append to ${opts.path}`, opts.content);
    if (res.exitCode !== 0) throw fileOpError("append", opts.path, res.stderr, res.exitCode, opts.onTooLarge);
  }

  /** Makes the directory `path` (inside `root`) as the agent user; with `createDirs`, its missing parents too. */
  async mkdir(opts: { root: string; path: string; mode: number; createDirs: boolean }): Promise<void> {
    const args = ["mkdir", opts.root, opts.path, String(opts.mode), opts.createDirs ? "1" : "0"];
    const res = await this.exec(["perl", "-e", FILE_OP_SCRIPT, "--", ...args], `create ${opts.path}`);
    if (res.exitCode !== 0) throw fileOpError("mkdir", opts.path, res.stderr, res.exitCode);
  }

  /**
   * Renames (moves) the name `path` (inside `root`) to `to` (inside `toRoot`), both parents
   * walked without following links; an existing destination is refused unless `overwrite`.
   */
  async rename(opts: { root: string; path: string; toRoot: string; to: string; overwrite: boolean }): Promise<void> {
    const args = ["rename", opts.root, opts.path, opts.toRoot, opts.to, opts.overwrite ? "1" : "0"];
    const res = await this.exec(["perl", "-e", FILE_OP_SCRIPT, "--", ...args], `rename ${opts.path}`);
    if (res.exitCode !== 0) throw fileOpError("rename", opts.path, res.stderr, res.exitCode);
  }

  /**
   * Removes the file, symlink or (recursive) directory named `path` (its parent resolved, inside
   * `root`), as the agent user; a link is removed, never followed.
   */
  async remove(root: string, path: string, recursive: boolean): Promise<void> {
    const res = await this.exec(["perl", "-e", FILE_OP_SCRIPT, "--", "delete", root, path, recursive ? "1" : "0"], `delete ${path}`);
    if (res.exitCode !== 0) throw fileOpError("delete", path, res.stderr, res.exitCode);
  }
}

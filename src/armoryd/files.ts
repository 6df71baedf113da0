// fs.*: the agent's files, touched natively by armoryd (which runs as the agent user), with no
// symlink race. Every operation on a name walks from `/` to the directory holding it one
// component at a time, each opened with O_DIRECTORY|O_NOFOLLOW through the previous one
// (`/proc/self/fd/<dirfd>/<name>`), so a symbolic link swapped in anywhere in the path is
// refused ("symlink"), never followed; the final directory stays pinned by its descriptor
// whatever is renamed meanwhile, and must lie on the same device as the root (the agent's
// volume). Names in it are then opened with O_NOFOLLOW (temp files O_CREAT|O_EXCL) and renamed,
// linked or removed through the pinned descriptor.
//
// Semantics as the former in-container script (src/server/runtime/docker/file-ops.ts):
//   write    temp file in the same directory, mode and mtime set on it, renamed over the name
//            (rename replaces a symlink at the destination, it does not follow it); `exclusive`
//            links it instead, so an existing name is never replaced (atomic create-if-absent).
//   append   to an existing regular file whose size must be `offset`, staying <= maxBytes.
//   mkdir    an existing name is "exists".
//   rename   both directories pinned; no-replace unless `overwrite`: renameat2(RENAME_NOREPLACE)
//            on the two directory descriptors, called in libc through bun:ffi. Where that is not
//            reachable (not under Bun, no glibc, a file system without the flag), an existence
//            check under the pinned destination directory followed by rename(2): a name the agent
//            creates in between could then be replaced.
//   delete   a link is removed, not followed; a directory (recursive) is emptied through
//            descriptors opened with O_NOFOLLOW at every level.
// fs.resolve and fs.list answer what `realpath -m` / `find -printf` answered before.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  FILE_ROOTS,
  type DaemonError,
  type FileErrorKind,
  type FileType,
  type RequestParams,
  type RequestResult,
  type WireFileEntry,
  type WireResolvedPath,
} from "../contracts/armoryd";
import { errorText, log } from "./log";

const C = fs.constants;
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;

/** A failed file operation: becomes the response's error. */
export class FileOpError extends Error {
  constructor(
    readonly kind: FileErrorKind,
    readonly path: string,
    message: string,
    readonly size?: number,
  ) {
    super(message);
  }

  toWire(): DaemonError {
    return { code: this.kind, message: this.message, path: this.path, ...(this.size === undefined ? {} : { size: this.size }) };
  }
}

const ERRNO_KIND: Record<string, FileErrorKind> = {
  ENOENT: "missing",
  ELOOP: "symlink",
  ENOTDIR: "notdir",
  EACCES: "denied",
  EPERM: "denied",
  EROFS: "readonly",
  EISDIR: "isdir",
  ENOSPC: "nospace",
  EDQUOT: "nospace",
  EEXIST: "exists",
  ENOTEMPTY: "exists",
  EXDEV: "crossdev",
  EINVAL: "invalid",
  EFBIG: "toolarge",
  ENAMETOOLONG: "invalid",
};

const fdPath = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

function isSymlinkAt(dirFd: number, name: string): boolean {
  try {
    return fs.lstatSync(fdPath(dirFd, name)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The FileOpError for a failed system call on `name` (in dirFd, when known), shown as `shown`. */
function failed(err: unknown, shown: string, dirFd?: number, name?: string): FileOpError {
  if (err instanceof FileOpError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? "";
  let kind: FileErrorKind = ERRNO_KIND[code] ?? "io";
  // O_DIRECTORY|O_NOFOLLOW on a link says ENOTDIR (or ELOOP): a link it is.
  if ((code === "ENOTDIR" || code === "ELOOP") && dirFd !== undefined && name !== undefined && isSymlinkAt(dirFd, name)) kind = "symlink";
  const why = (e?.message ?? String(err)).replace(/^[A-Z]+: /, "").replace(/, \w+ '\/proc\/self\/fd\/.*$/, "");
  return new FileOpError(kind, shown, `${shown}: ${why}`);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

function typeOf(st: fs.Stats): FileType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  return "other";
}

/** The directory holding the last name of a path, pinned open, and that name. */
interface Pinned {
  dirFd: number;
  name: string;
  /** The directory as a path (for messages). */
  shownDir: string;
  /** The full path (for messages). */
  shown: string;
}

function checkRoot(root: string, p: string): { rootParts: string[]; rest: string[]; name: string } {
  if (!(FILE_ROOTS as readonly string[]).includes(root)) throw new FileOpError("outside", p, `${root} is not one of the agent's file roots (${FILE_ROOTS.join(", ")})`);
  const prefix = `${root}/`;
  if (!p.startsWith(prefix)) throw new FileOpError("outside", p, `${p} is not inside ${root}`);
  const rootParts = root.split("/").filter(Boolean);
  const rest = p.slice(prefix.length).split("/").filter(Boolean);
  const name = rest.pop();
  if (name === undefined) throw new FileOpError("invalid", p, `${p} names no file`);
  for (const c of [...rest, name]) {
    if (c === "." || c === "..") throw new FileOpError("invalid", p, `${p} has a "${c}" segment`);
    if (c.includes("\0")) throw new FileOpError("invalid", p, `${p} has a NUL byte`);
  }
  return { rootParts, rest, name };
}

/**
 * Walks from `/` to the directory holding the last name of `p` (inside `root`), opening each
 * directory with O_DIRECTORY|O_NOFOLLOW through its parent's descriptor; missing directories
 * below the root are made (0755) when `create`. The caller closes `dirFd`.
 */
function walk(root: string, p: string, create: boolean): Pinned {
  const { rootParts, rest, name } = checkRoot(root, p);
  let fd = fs.openSync("/", DIR_FLAGS);
  let shown = "";
  try {
    const enter = (c: string, mayCreate: boolean) => {
      const at = `${shown}/${c}`;
      let next: number;
      try {
        next = fs.openSync(fdPath(fd, c), DIR_FLAGS);
      } catch (err) {
        if (!(mayCreate && (err as NodeJS.ErrnoException).code === "ENOENT")) throw failed(err, at, fd, c);
        try {
          fs.mkdirSync(fdPath(fd, c), 0o755);
        } catch (mkErr) {
          if ((mkErr as NodeJS.ErrnoException).code !== "EEXIST") throw failed(mkErr, at, fd, c);
        }
        try {
          next = fs.openSync(fdPath(fd, c), DIR_FLAGS);
        } catch (err2) {
          throw failed(err2, at, fd, c);
        }
      }
      closeQuietly(fd);
      fd = next;
      shown = at;
    };
    for (const c of rootParts) enter(c, false);
    const rootDev = fs.fstatSync(fd).dev;
    for (const c of rest) enter(c, create);
    if (fs.fstatSync(fd).dev !== rootDev) throw new FileOpError("outside", p, `${shown || "/"} is not on ${root}'s volume`);
    return { dirFd: fd, name, shownDir: shown || "/", shown: `${shown}/${name}` };
  } catch (err) {
    closeQuietly(fd);
    throw err instanceof FileOpError ? err : failed(err, shown || "/");
  }
}

function withPinned<T>(root: string, p: string, create: boolean, fn: (pin: Pinned) => T): T {
  const pin = walk(root, p, create);
  try {
    return fn(pin);
  } finally {
    closeQuietly(pin.dirFd);
  }
}

/**
 * Opens the directory `p` (inside `root`, or the root itself) the no-follow way: every component
 * from `/` opened with O_DIRECTORY|O_NOFOLLOW through its parent, on the root's device. The
 * caller closes the descriptor.
 */
export function openDirectory(root: string, p: string): number {
  if (p !== root) {
    return withPinned(root, p, false, (pin) => {
      let fd: number;
      try {
        fd = fs.openSync(fdPath(pin.dirFd, pin.name), DIR_FLAGS);
      } catch (err) {
        throw failed(err, pin.shown, pin.dirFd, pin.name);
      }
      if (fs.fstatSync(fd).dev !== fs.fstatSync(pin.dirFd).dev) {
        closeQuietly(fd);
        throw new FileOpError("outside", p, `${p} is not on ${root}'s volume`);
      }
      return fd;
    });
  }
  if (!(FILE_ROOTS as readonly string[]).includes(root)) throw new FileOpError("outside", p, `${root} is not one of the agent's file roots (${FILE_ROOTS.join(", ")})`);
  let fd = fs.openSync("/", DIR_FLAGS);
  let shown = "";
  try {
    for (const c of root.split("/").filter(Boolean)) {
      shown = `${shown}/${c}`;
      const next = fs.openSync(fdPath(fd, c), DIR_FLAGS);
      closeQuietly(fd);
      fd = next;
    }
    return fd;
  } catch (err) {
    closeQuietly(fd);
    throw failed(err, shown || "/");
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

// ---------------------------------------------------------------- operations

export function read(p: RequestParams<"fs.read">): RequestResult<"fs.read"> {
  return withPinned(p.root, p.path, false, (pin) => {
    let fd: number;
    try {
      fd = fs.openSync(fdPath(pin.dirFd, pin.name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (err) {
      throw failed(err, pin.shown, pin.dirFd, pin.name);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new FileOpError("isdir", pin.shown, `${pin.shown} is a directory`);
      if (!st.isFile()) throw new FileOpError("invalid", pin.shown, `${pin.shown} is not a regular file`);
      if (st.size > p.maxBytes) throw new FileOpError("toolarge", pin.shown, `${pin.shown} is ${st.size} bytes (at most ${p.maxBytes})`, st.size);
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(Math.max(64 * 1024, Math.min(st.size - total + 1, 4 * 1024 * 1024)));
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        total += n;
        if (total > p.maxBytes) throw new FileOpError("toolarge", pin.shown, `${pin.shown} grew past ${p.maxBytes} bytes`, total);
        chunks.push(buf.subarray(0, n));
      }
      const content = Buffer.concat(chunks, total);
      return { content: content.toString("base64"), size: total, mode: st.mode & 0o7777, modifiedAt: Math.round(st.mtimeMs) };
    } catch (err) {
      throw failed(err, pin.shown);
    } finally {
      closeQuietly(fd);
    }
  });
}

export function write(p: RequestParams<"fs.write">): RequestResult<"fs.write"> {
  const content = Buffer.from(p.content, "base64");
  return withPinned(p.root, p.path, p.createDirs, (pin) => {
    const tmp = `.armory-write-${process.pid}-${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, "0")}.tmp`;
    const tmpPath = fdPath(pin.dirFd, tmp);
    let fd: number;
    try {
      fd = fs.openSync(tmpPath, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw failed(err, pin.shown);
    }
    let linked = false;
    try {
      try {
        writeAll(fd, content);
        fs.fchmodSync(fd, p.mode & 0o7777);
        const t = p.mtime / 1000;
        fs.futimesSync(fd, t, t);
      } finally {
        fs.closeSync(fd);
      }
      if (p.exclusive) {
        // link() never replaces an existing name; the temp name goes either way.
        try {
          fs.linkSync(tmpPath, fdPath(pin.dirFd, pin.name));
        } catch (err) {
          throw failed(err, pin.shown, pin.dirFd, pin.name);
        }
        linked = true;
      } else {
        try {
          fs.renameSync(tmpPath, fdPath(pin.dirFd, pin.name));
        } catch (err) {
          throw failed(err, pin.shown, pin.dirFd, pin.name);
        }
        linked = true;
        return { size: content.length };
      }
      return { size: content.length };
    } catch (err) {
      throw failed(err, pin.shown);
    } finally {
      // After a rename the temp name is gone already (unlinking then fails harmlessly).
      if (p.exclusive || !linked) {
        try {
          fs.unlinkSync(tmpPath);
        } catch {
          // gone
        }
      }
    }
  });
}

export function append(p: RequestParams<"fs.append">): RequestResult<"fs.append"> {
  const content = Buffer.from(p.content, "base64");
  return withPinned(p.root, p.path, false, (pin) => {
    let fd: number;
    try {
      fd = fs.openSync(fdPath(pin.dirFd, pin.name), C.O_WRONLY | C.O_APPEND | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (err) {
      throw failed(err, pin.shown, pin.dirFd, pin.name);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new FileOpError("invalid", pin.shown, `${pin.shown} is not a regular file`);
      if (st.size !== p.offset) throw new FileOpError("offset", pin.shown, `${pin.shown} is ${st.size} bytes, not ${p.offset}`, st.size);
      const end = p.offset + content.length;
      if (end > p.maxBytes) throw new FileOpError("toolarge", pin.shown, `${pin.shown} would be ${end} bytes (at most ${p.maxBytes})`, end);
      writeAll(fd, content);
      return { size: end };
    } catch (err) {
      throw failed(err, pin.shown);
    } finally {
      closeQuietly(fd);
    }
  });
}

export function mkdir(p: RequestParams<"fs.mkdir">): RequestResult<"fs.mkdir"> {
  return withPinned(p.root, p.path, p.createDirs, (pin) => {
    const target = fdPath(pin.dirFd, pin.name);
    try {
      fs.mkdirSync(target, 0o700);
    } catch (err) {
      throw failed(err, pin.shown, pin.dirFd, pin.name);
    }
    let fd: number;
    try {
      fd = fs.openSync(target, DIR_FLAGS);
    } catch (err) {
      throw failed(err, pin.shown, pin.dirFd, pin.name);
    }
    try {
      fs.fchmodSync(fd, p.mode & 0o777);
    } catch (err) {
      throw failed(err, pin.shown);
    } finally {
      closeQuietly(fd);
    }
    return {};
  });
}

interface Libc {
  renameat2(olddirfd: number, oldpath: Buffer, newdirfd: number, newpath: Buffer, flags: number): number;
  errno(): number;
}
let libc: Libc | null | undefined;

/** glibc's renameat2 through bun:ffi, loaded on first use; null when not reachable. */
async function loadLibc(): Promise<Libc | null> {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    const ffi = (await import("bun:ffi" as string)) as {
      dlopen(lib: string, symbols: Record<string, { args: string[]; returns: string }>): { symbols: Record<string, (...a: unknown[]) => unknown> };
      read: { i32(ptr: unknown, offset: number): number };
    };
    const { symbols } = ffi.dlopen("libc.so.6", {
      renameat2: { args: ["i32", "ptr", "i32", "ptr", "u32"], returns: "i32" },
      __errno_location: { args: [], returns: "ptr" },
    });
    libc = {
      renameat2: (a, b, c, d, f) => symbols.renameat2!(a, b, c, d, f) as number,
      errno: () => ffi.read.i32(symbols.__errno_location!(), 0),
    };
  } catch (err) {
    log(`renameat2 is not reachable (${errorText(err)}): a no-replace rename checks the destination first`);
  }
  return libc;
}

const ERRNO_NAME = new Map(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));
const RENAME_NOREPLACE = 1;

/**
 * renameat2(from, to, RENAME_NOREPLACE) on the pinned directories: "done", or "unsupported"
 * (no libc access, or the file system lacks the flag); other failures throw.
 */
async function renameNoReplace(from: Pinned, to: Pinned): Promise<"done" | "unsupported"> {
  const c = await loadLibc();
  if (!c) return "unsupported";
  const cstr = (s: string) => Buffer.from(`${s}\0`);
  if (c.renameat2(from.dirFd, cstr(from.name), to.dirFd, cstr(to.name), RENAME_NOREPLACE) === 0) return "done";
  const errno = c.errno();
  const code = ERRNO_NAME.get(errno) ?? `E${errno}`;
  // EINVAL: the file system lacks the flag, or a directory into itself (rename(2) then says so).
  if (code === "ENOSYS" || code === "EINVAL") return "unsupported";
  throw Object.assign(new Error(`${code}: rename ${from.shown} -> ${to.shown}`), { code, errno: -errno });
}

export async function rename(p: RequestParams<"fs.rename">): Promise<RequestResult<"fs.rename">> {
  const to = walk(p.toRoot, p.to, false);
  try {
    const from = walk(p.root, p.path, false);
    try {
      return await renamePinned(p, from, to);
    } finally {
      closeQuietly(from.dirFd);
    }
  } finally {
    closeQuietly(to.dirFd);
  }
}

function renameError(err: unknown, from: Pinned, to: Pinned): FileOpError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EEXIST" || code === "ENOTEMPTY") return new FileOpError("exists", to.shown, `${to.shown} already exists`);
  if (code === "EINVAL") return new FileOpError("invalid", from.shown, `${from.shown} cannot be moved into itself`);
  if (code === "EXDEV") return new FileOpError("crossdev", from.shown, `${from.shown} and ${to.shown} are on different volumes`);
  return failed(err, from.shown);
}

async function renamePinned(p: RequestParams<"fs.rename">, from: Pinned, to: Pinned): Promise<RequestResult<"fs.rename">> {
  try {
    fs.lstatSync(fdPath(from.dirFd, from.name));
  } catch (err) {
    throw failed(err, from.shown);
  }
  const dest = fdPath(to.dirFd, to.name);
  if (!p.overwrite) {
    try {
      if ((await renameNoReplace(from, to)) === "done") return {};
    } catch (err) {
      throw renameError(err, from, to);
    }
    let exists = true;
    try {
      fs.lstatSync(dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw failed(err, to.shown);
      exists = false;
    }
    if (exists) throw new FileOpError("exists", to.shown, `${to.shown} already exists`);
  }
  try {
    fs.renameSync(fdPath(from.dirFd, from.name), dest);
  } catch (err) {
    throw renameError(err, from, to);
  }
  return {};
}

/** Empties the directory open as `fd` (its entries opened with O_NOFOLLOW), then nothing else. */
function emptyDir(fd: number, shown: string): void {
  const names = fs.readdirSync(`/proc/self/fd/${fd}`);
  for (const name of names) {
    const at = `${shown}/${name}`;
    let sub: number | null = null;
    try {
      sub = fs.openSync(fdPath(fd, name), DIR_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      if (code !== "ENOTDIR" && code !== "ELOOP") throw failed(err, at);
    }
    try {
      if (sub === null) {
        fs.unlinkSync(fdPath(fd, name));
      } else {
        emptyDir(sub, at);
        fs.rmdirSync(fdPath(fd, name));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw failed(err, at);
    } finally {
      if (sub !== null) closeQuietly(sub);
    }
  }
}

export function remove(p: RequestParams<"fs.delete">): RequestResult<"fs.delete"> {
  return withPinned(p.root, p.path, false, (pin) => {
    const target = fdPath(pin.dirFd, pin.name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch (err) {
      throw failed(err, pin.shown);
    }
    if (!st.isDirectory()) {
      try {
        fs.unlinkSync(target);
      } catch (err) {
        throw failed(err, pin.shown);
      }
      return {};
    }
    if (!p.recursive) throw new FileOpError("isdir", pin.shown, `${pin.shown} is a directory`);
    let fd: number;
    try {
      fd = fs.openSync(target, DIR_FLAGS);
    } catch (err) {
      throw failed(err, pin.shown, pin.dirFd, pin.name);
    }
    try {
      emptyDir(fd, pin.shown);
    } finally {
      closeQuietly(fd);
    }
    try {
      fs.rmdirSync(target);
    } catch (err) {
      throw failed(err, pin.shown);
    }
    return {};
  });
}

// ---------------------------------------------------------------- resolve and list

/** `realpath -m`: every symlink resolved, missing components allowed; null on a link loop. */
export function realpathMissing(p: string): string | null {
  const queue = p.split("/").filter(Boolean);
  let resolved = "/";
  let links = 0;
  while (queue.length) {
    const c = queue.shift()!;
    if (c === ".") continue;
    if (c === "..") {
      resolved = path.posix.dirname(resolved);
      continue;
    }
    const next = resolved === "/" ? `/${c}` : `${resolved}/${c}`;
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(next);
    } catch {
      st = null; // missing (or unreadable): taken as written
    }
    if (st?.isSymbolicLink()) {
      if (++links > 40) return null;
      let target: string;
      try {
        target = fs.readlinkSync(next);
      } catch {
        resolved = next;
        continue;
      }
      if (target.startsWith("/")) resolved = "/";
      queue.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    resolved = next;
  }
  return resolved;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

export function resolve(p: RequestParams<"fs.resolve">): RequestResult<"fs.resolve"> {
  const out: WireResolvedPath[] = [];
  for (const requested of p.paths) {
    if (!requested.startsWith("/") || requested.includes("\0")) throw new FileOpError("invalid", requested, `${requested} is not an absolute path`);
    const resolved = realpathMissing(requested);
    if (resolved === null) throw new FileOpError("symlink", requested, `${requested} cannot be resolved (a symbolic link loop)`);
    let ancestor = resolved;
    while (ancestor !== "/" && !statOrNull(ancestor)) ancestor = path.posix.dirname(ancestor);
    const here = statOrNull(resolved) ? lstatOrNull(resolved) : null;
    const ancestorSt = lstatOrNull(ancestor);
    const own = lstatOrNull(requested);
    out.push({
      requested,
      resolved,
      existingAncestor: ancestor,
      type: here ? typeOf(here) : null,
      ancestorType: ancestorSt ? typeOf(ancestorSt) : "directory",
      ownType: own ? typeOf(own) : null,
      size: here ? here.size : 0,
      mode: here ? here.mode & 0o7777 : 0,
      modifiedAt: here ? Math.round(here.mtimeMs) : null,
    });
  }
  return { paths: out };
}

export function list(p: RequestParams<"fs.list">): RequestResult<"fs.list"> {
  let dir: fs.Dir;
  try {
    dir = fs.opendirSync(p.path);
  } catch (err) {
    throw failed(err, p.path);
  }
  const entries: WireFileEntry[] = [];
  let truncated = false;
  try {
    for (;;) {
      const d = dir.readSync();
      if (!d) break;
      if (entries.length >= p.limit) {
        truncated = true;
        break;
      }
      const full = p.path === "/" ? `/${d.name}` : `${p.path}/${d.name}`;
      const st = lstatOrNull(full);
      if (!st) continue; // removed meanwhile
      const type = typeOf(st);
      let symlinkTarget: string | null = null;
      let targetType: WireFileEntry["targetType"] = null;
      if (type === "symlink") {
        try {
          symlinkTarget = fs.readlinkSync(full);
        } catch {
          symlinkTarget = "";
        }
        const t = statOrNull(full);
        targetType = t ? typeOf(t) : "missing";
      }
      entries.push({
        name: d.name,
        path: p.shownPath === "/" ? `/${d.name}` : `${p.shownPath}/${d.name}`,
        type,
        size: st.size,
        mode: st.mode & 0o7777,
        modifiedAt: Math.round(st.mtimeMs),
        symlinkTarget,
        targetType,
      });
    }
  } catch (err) {
    throw failed(err, p.path);
  } finally {
    dir.closeSync();
  }
  return { entries, truncated };
}

// Snapshot archives on disk: a tar.gz whose entries are named `workspace/...` and `claude/...`
// (the agent's /workspace and ~/.claude). Writing streams the engine's tar through a re-packer
// (renaming entries, counting files and bytes) and gzip into a 0600 file, never holding it in
// memory. Reading checks every entry before anything reaches a volume: names inside the two
// roots, no devices or fifos, links that stay inside the roots, nothing written through a
// symlink; owners become the agent user and set-id bits are dropped.
import fs from "node:fs";
import path from "node:path";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import * as tarStream from "tar-stream";
import { AGENT_GID, AGENT_UID, CLAUDE_CONFIG_DIR, WORKSPACE_DIR } from "../../contracts/armoryd";
import { SNAPSHOT_ROOTS } from "../../contracts/snapshots";
import { DomainError } from "../domain/errors";

/** A header as the packer takes it (the extractor's headers have every field). */
type EntryHeader = Parameters<tarStream.Pack["entry"]>[0];

/** Where each archive root is in the agent's container (what absolute symlink targets mean). */
const MOUNTED_AT: Record<string, string> = { [SNAPSHOT_ROOTS.workspace]: WORKSPACE_DIR, [SNAPSHOT_ROOTS.claude]: CLAUDE_CONFIG_DIR };

export interface ArchiveTotals {
  /** Bytes of the archive file (compressed). */
  sizeBytes: number;
  /** Bytes of the files in it. */
  contentBytes: number;
  /** Regular files (and hard links) in it. */
  fileCount: number;
}

/** Counts the bytes that pass; aborts with PAYLOAD_TOO_LARGE beyond `max`. */
class ByteCounter extends Transform {
  bytes = 0;
  constructor(
    private readonly max: number,
    private readonly tooLarge: () => string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void) {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return cb(new DomainError("PAYLOAD_TOO_LARGE", this.tooLarge()));
    cb(null, chunk);
  }
}

/**
 * Writes the engine's tar (entries under `prefix`, e.g. "snapshot/workspace/a.txt") to `file` as
 * tar.gz with entries renamed to "workspace/a.txt". The file is created 0600 and must not exist.
 * `onProgress(contentBytes, files)` is called as files pass (at most every 64 KiB of content).
 */
export async function writeArchive(
  source: Readable,
  prefix: string,
  file: string,
  opts: { maxBytes: number; tooLarge: () => string; onProgress?: (contentBytes: number, files: number) => void },
): Promise<ArchiveTotals> {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  const counter = new ByteCounter(opts.maxBytes, opts.tooLarge);
  let contentBytes = 0;
  let fileCount = 0;
  let reported = 0;
  const out = fs.createWriteStream(file, { flags: "wx", mode: 0o600 });
  const writing = pipeline(pack, zlib.createGzip({ level: 6 }), counter, out);
  extract.on("entry", (header, stream, next) => {
    stream.on("error", () => {}); // a failed read is reported by the pipeline
    const name = header.name.startsWith(prefix) ? header.name.slice(prefix.length) : "";
    if (!name) {
      // The directory above the roots ("snapshot/"): not part of the snapshot.
      stream.on("end", next);
      stream.resume();
      return;
    }
    const renamed: EntryHeader = { ...header, name };
    if (header.type === "link" && header.linkname?.startsWith(prefix)) renamed.linkname = header.linkname.slice(prefix.length);
    if (header.type === "file" || header.type === "link") fileCount++;
    stream.on("data", (chunk) => {
      contentBytes += (chunk as Uint8Array).length;
      if (opts.onProgress && contentBytes - reported >= 65_536) {
        reported = contentBytes;
        opts.onProgress(contentBytes, fileCount);
      }
    });
    stream.pipe(pack.entry(renamed, (err) => next(err ?? undefined)));
  });
  const reading = pipeline(source, extract).then(() => pack.finalize());
  try {
    await Promise.all([reading, writing]);
  } catch (err) {
    source.destroy();
    pack.destroy();
    out.destroy();
    throw err;
  }
  opts.onProgress?.(contentBytes, fileCount);
  return { sizeBytes: counter.bytes, contentBytes, fileCount };
}

/** Why an archive entry is refused (400: the archive is not one Armory can restore). */
function refuse(entry: string, why: string): never {
  throw new DomainError("BAD_REQUEST", `The snapshot archive cannot be restored: entry ${JSON.stringify(entry.slice(0, 200))} ${why}.`);
}

/** An entry name made canonical ("./workspace/a/" -> "workspace/a"), or a refusal. */
function canonicalName(raw: string): string {
  let name = raw.replace(/^\.\//, "").replace(/\/+$/, "");
  if (name.startsWith("/")) refuse(raw, "is an absolute path");
  name = name.replace(/\/{2,}/g, "/");
  const parts = name.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) refuse(raw, "has an empty, . or .. path segment");
  if (!(parts[0]! in MOUNTED_AT)) refuse(raw, `is outside the archive's roots (${Object.keys(MOUNTED_AT).join(", ")})`);
  return name;
}

/** The entry's path as the agent sees it (workspace/a -> /workspace/a). */
function agentPath(name: string): string {
  const [root, ...rest] = name.split("/");
  return path.posix.join(MOUNTED_AT[root!]!, ...rest);
}

function insideRoots(p: string): boolean {
  return Object.values(MOUNTED_AT).some((root) => p === root || p.startsWith(root + "/"));
}

/** Checks entries one by one; remembers symlinks and files (for hard links and writes through links). */
class EntryChecker {
  private readonly symlinks = new Set<string>();
  private readonly files = new Set<string>();
  fileCount = 0;

  check(header: tarStream.Header): EntryHeader {
    const name = canonicalName(header.name);
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (this.symlinks.has(parts.slice(0, i).join("/"))) refuse(header.name, "would be written through a symbolic link");
    }
    const mode = (header.mode ?? 0o644) & 0o1777; // no set-uid or set-gid bits
    const base = { name: header.type === "directory" ? `${name}/` : name, mode, uid: AGENT_UID, gid: AGENT_GID, mtime: header.mtime };
    switch (header.type) {
      case "directory":
        return { ...base, type: "directory" };
      case "file":
        this.files.add(name);
        this.fileCount++;
        return { ...base, type: "file", size: header.size };
      case "symlink": {
        const target = header.linkname ?? "";
        if (!target || target.length > 4096) refuse(header.name, "is a symbolic link without a usable target");
        const resolved = path.posix.resolve(path.posix.dirname(agentPath(name)), target);
        if (!insideRoots(resolved)) refuse(header.name, `is a symbolic link pointing outside ${WORKSPACE_DIR} and ${CLAUDE_CONFIG_DIR}`);
        this.symlinks.add(name);
        return { ...base, type: "symlink", linkname: target, mode: 0o777 };
      }
      case "link": {
        const target = canonicalName(header.linkname ?? "");
        if (!this.files.has(target)) refuse(header.name, "is a hard link to something that is not an earlier file of the archive");
        this.fileCount++;
        return { ...base, type: "link", linkname: target };
      }
      default:
        return refuse(header.name, `is a ${header.type ?? "special file"} (only files, directories and links are restored)`);
    }
  }
}

/**
 * The archive's entries, checked, as a plain tar stream ready for the volumes (`root/...` names,
 * owned by the agent user). The stream errors with a 400 DomainError on the first refused entry;
 * `done` settles with the totals when it has all been read. `onProgress` gets the archive bytes read.
 */
export function readArchive(file: string, onProgress?: (archiveBytes: number) => void): { tar: Readable; done: Promise<{ fileCount: number }> } {
  const input = fs.createReadStream(file);
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  const checker = new EntryChecker();
  let read = 0;
  let reported = 0;
  input.on("data", (chunk) => {
    read += chunk.length;
    if (onProgress && read - reported >= 65_536) {
      reported = read;
      onProgress(read);
    }
  });
  extract.on("entry", (header, stream, next) => {
    stream.on("error", () => {}); // a failed read is reported by `done`
    let checked: EntryHeader;
    try {
      checked = checker.check(header);
    } catch (err) {
      // Ends the read (the pipeline rejects with this error); next(err) would throw from the extractor's write callback.
      stream.resume();
      extract.destroy(err as Error);
      return;
    }
    stream.pipe(pack.entry(checked, (err) => next(err ?? undefined)));
  });
  const done = pipeline(input, zlib.createGunzip(), extract).then(
    () => {
      onProgress?.(read);
      pack.finalize();
      return { fileCount: checker.fileCount };
    },
    (err: unknown) => {
      const reason = err instanceof DomainError ? err : new DomainError("BAD_REQUEST", `The snapshot archive cannot be read: ${(err as Error).message}`);
      pack.destroy(reason);
      throw reason;
    },
  );
  // The consumer sees the same failure as `done` (through the stream's error).
  const tar = new PassThrough();
  // `done` rejects with the same error: the stream's own error event needs no other listener.
  tar.on("error", () => {});
  pipeline(pack, tar).catch(() => {});
  return { tar, done };
}

/** Reads the whole archive through the checks without writing anything (before a restore empties a volume). */
export async function verifyArchive(file: string): Promise<{ fileCount: number }> {
  const { tar, done } = readArchive(file);
  tar.resume();
  return done;
}

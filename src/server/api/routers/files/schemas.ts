// files.* input and output schemas: the public contract of the agent files API. Paths are
// checked further (normalized, confined, symlinks resolved) by src/server/files/.
import { z } from "zod";

/** Syntax only; the path rules (src/server/files/paths.ts) do the rest with clear messages. */
export const filePath = z.string({ error: "path must be a string" }).min(1, "path is empty").max(4096, "path is longer than 4096 characters");

export const FILE_TYPES = ["file", "directory", "symlink", "other"] as const;
export const FILE_ENCODINGS = ["utf-8", "base64"] as const;
/** Hard cap on the content string; the configured byte limit (ARMORY_FILES_MAX_BYTES) applies after decoding. */
export const MAX_CONTENT_CHARS = 360 * 1024 * 1024;

export const fileEntry = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(FILE_TYPES),
  size: z.number().int().nonnegative(),
  mode: z.number().int().nonnegative(),
  modifiedAt: z.date(),
  symlinkTarget: z.string().nullable(),
  targetType: z.enum([...FILE_TYPES, "missing"]).nullable(),
});
export type FileEntryView = z.infer<typeof fileEntry>;

export const filesListInput = z.object({ path: filePath.default("/workspace") });
export const filesListOutput = z.object({
  path: z.string(),
  resolvedPath: z.string(),
  entries: z.array(fileEntry),
  truncated: z.boolean(),
  /** The roots this agent's files live under (for the file tree). */
  roots: z.array(z.string()),
  /** The largest file read, written or uploaded (ARMORY_FILES_MAX_BYTES). */
  maxBytes: z.number().int().positive(),
});

export const filesReadInput = z.object({ path: filePath });
export const filesReadOutput = z.object({
  path: z.string(),
  resolvedPath: z.string(),
  encoding: z.enum(FILE_ENCODINGS),
  content: z.string(),
  size: z.number().int().nonnegative(),
  mode: z.number().int().nonnegative(),
  modifiedAt: z.date(),
  sha256: z.string(),
});

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const filesWriteInput = z
  .object({
    path: filePath,
    content: z.string().max(MAX_CONTENT_CHARS, "content is too large"),
    encoding: z.enum(FILE_ENCODINGS).default("utf-8"),
    createDirs: z.boolean().default(false),
    /** Permission bits (default 0644); no setuid/setgid/sticky bits. */
    mode: z.number().int().min(0, "mode must be between 0 and 0o777").max(0o777, "mode must be between 0 and 0o777").default(0o644),
    /** Write only if the file still has this content hash (from files.read); else 409. */
    expectedSha256: z.string().max(64).regex(/^[0-9a-f]{64}$/, "expectedSha256 must be a sha256 hex digest").optional(),
    /** Create only: 409 when anything exists at the path (new files, uploads that must not replace). */
    ifAbsent: z.boolean().default(false),
  })
  .refine((v) => v.encoding !== "base64" || base64.test(v.content), { message: "content is not valid base64", path: ["content"] });
export const filesWriteOutput = z.object({
  path: z.string(),
  resolvedPath: z.string(),
  size: z.number().int().nonnegative(),
  mode: z.number().int().nonnegative(),
  modifiedAt: z.date(),
  sha256: z.string(),
  created: z.boolean(),
});

export const filesDeleteInput = z.object({ path: filePath, recursive: z.boolean().default(false) });
export const filesDeleteOutput = z.object({ path: z.string(), deleted: z.literal(true), type: z.enum(FILE_TYPES) });

export const filesAppendInput = z
  .object({
    path: filePath,
    /** base64 bytes added at the end of the file. */
    content: z.string().min(1, "content is empty").max(MAX_CONTENT_CHARS, "content is too large"),
    /** The file's current size: the chunk continues from there (409 when it is not). */
    offset: z.number().int("offset must be a whole number").nonnegative("offset must not be negative"),
  })
  .refine((v) => base64.test(v.content), { message: "content is not valid base64", path: ["content"] });
export const filesAppendOutput = z.object({ path: z.string(), size: z.number().int().nonnegative() });

export const filesMkdirInput = z.object({ path: filePath, createDirs: z.boolean().default(false) });
export const filesMkdirOutput = z.object({ path: z.string(), created: z.literal(true) });

/** `path` (the source, so the audit log names it like every files call) moves to `to`. */
export const filesRenameInput = z.object({ path: filePath, to: filePath, overwrite: z.boolean().default(false) });
export const filesRenameOutput = z.object({ from: z.string(), to: z.string(), type: z.enum(FILE_TYPES) });

/**
 * files.onChange: without `paths`, changes made through Armory and instruction-file reloads; with
 * `paths` (directories, each checked like files.list's path), also what changes in them in the
 * container, whoever writes it.
 */
export const filesOnChangeInput = z.object({
  paths: z
    .array(filePath)
    .max(32, "at most 32 directories can be watched by one subscription")
    .optional(),
});

export const fileChangedEvent = z.object({
  type: z.literal("agent-file-changed"),
  projectId: z.string(),
  agentId: z.string(),
  path: z.string(),
  change: z.enum(["written", "deleted", "changed"]),
  /**
   * armory: through files.*; container: seen in the container, by the config watcher (change
   * "changed": instruction files) or by a watch of a directory in `paths` (written / deleted).
   */
  source: z.enum(["armory", "container"]),
  sha256: z.string().nullable(),
  size: z.number().nullable(),
  at: z.date(),
});

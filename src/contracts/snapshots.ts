// Snapshots of an agent (issue 17, item 5): its workspace and Claude session volumes saved as one
// tar.gz archive in Armory's data directory, restored into the same (stopped) agent or into a new
// agent ("clone"). The views, change events and limits that the API, service and UI share.
import { z } from "zod";

export const SNAPSHOT_STATUSES = ["creating", "ready", "failed"] as const;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];

export const SNAPSHOT_LIMITS = {
  note: 500,
} as const;

/** The two roots inside an archive: entry names start with one of them, then "/". */
export const SNAPSHOT_ROOTS = { workspace: "workspace", claude: "claude" } as const;

/** What a snapshot remembers of the agent it was taken from (what a clone is created with). */
export const snapshotConfig = z.object({
  templateId: z.string().max(64),
  templateName: z.string().max(200),
  model: z.string().max(200),
  memoryMb: z.number(),
  cpus: z.number(),
  pidsLimit: z.number(),
  permissionMode: z.string().max(64),
  env: z.record(z.string().max(256), z.string().max(65_536)),
  toolPolicy: z.object({ allow: z.array(z.string()), ask: z.array(z.string()), deny: z.array(z.string()) }).nullable(),
  approvalTimeoutSec: z.number().int().nullable(),
});
export type SnapshotConfig = z.infer<typeof snapshotConfig>;

export const snapshotView = z.object({
  id: z.string().max(64),
  projectId: z.string().max(64),
  /** Null once the agent it was taken from is removed (a clone can still be made). */
  agentId: z.string().max(64).nullable(),
  agentName: z.string().max(200),
  status: z.enum(SNAPSHOT_STATUSES),
  error: z.string().max(2_000).nullable(),
  note: z.string().max(SNAPSHOT_LIMITS.note).nullable(),
  /** The archive's size on disk (compressed), bytes. */
  sizeBytes: z.number().int().min(0),
  /** The files' size (uncompressed), bytes. */
  contentBytes: z.number().int().min(0),
  fileCount: z.number().int().min(0),
  durationMs: z.number().int().min(0).nullable(),
  image: z.string().max(500),
  model: z.string().max(200),
  templateName: z.string().max(200),
  createdBy: z.object({ id: z.string().max(64), name: z.string().max(200) }).nullable(),
  createdAt: z.date(),
  completedAt: z.date().nullable(),
  restoredAt: z.date().nullable(),
});
export type SnapshotView = z.infer<typeof snapshotView>;

/**
 * A change to a project's snapshots: a snapshot started, progressed, finished, failed or was
 * deleted, or a restore (into the agent `agentId`) started, progressed or finished. `bytes`: the
 * archive bytes read (restore) or the files' bytes read so far (create).
 */
export const snapshotChange = z.object({
  type: z.enum(["created", "progress", "ready", "failed", "deleted", "restoring", "restored", "restore-failed"]),
  snapshotId: z.string().max(64),
  agentId: z.string().max(64).nullable(),
  bytes: z.number().int().min(0).optional(),
  files: z.number().int().min(0).optional(),
  message: z.string().max(2_000).optional(),
});
export type SnapshotChange = z.infer<typeof snapshotChange>;

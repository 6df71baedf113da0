// version.* schemas: images an agent can run, updates (with their steps), and the step stream.
import { z } from "zod";
import { UPDATE_STEPS } from "../../../versions/rollout";

export const imageRef = z
  .string({ error: "image is required" })
  .trim()
  .min(1, "image is required")
  .max(255, "image must be at most 255 characters")
  .regex(
    /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/,
    "image must be a Docker image reference such as armory-agent:2.1.330-r1",
  );

export const versionUpdateInput = z.object({ image: imageRef });
export const historyInput = z.object({ limit: z.number().int().min(1).max(100).optional() });

export const updateStep = z.enum(UPDATE_STEPS);

export const updateRecord = z.object({
  id: z.string(),
  agentId: z.string(),
  kind: z.enum(["image", "env"]),
  fromImage: z.string(),
  toImage: z.string(),
  /** Env keys changed (names only). */
  envKeys: z.array(z.string()),
  status: z.enum(["running", "succeeded", "rolled_back"]),
  error: z.string().nullable(),
  steps: z.array(z.object({ step: updateStep, message: z.string(), at: z.date() })),
  /** The agent's container before the update (null: it had none). */
  oldContainerId: z.string().nullable(),
  /** The container the update created: the agent's now if it succeeded, removed if it rolled back. */
  newContainerId: z.string().nullable(),
  byName: z.string().nullable(),
  startedAt: z.date(),
  finishedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
});
export type UpdateRecordView = z.infer<typeof updateRecord>;

export const versionListOutput = z.object({
  current: z.string(),
  templateImage: z.string(),
  /** Image globs this agent may be updated to. */
  allowed: z.array(z.string()),
  versions: z.array(
    z.object({
      image: z.string(),
      tag: z.string(),
      current: z.boolean(),
      template: z.boolean(),
      /** On the engine (null: the engine could not be asked). */
      local: z.boolean().nullable(),
      allowed: z.boolean(),
      createdAt: z.date().nullable(),
      sizeBytes: z.number().nullable(),
    }),
  ),
  engineError: z.string().nullable(),
  inProgress: z.object({ toImage: z.string(), step: updateStep }).nullable(),
});

export const updateStepEvent = z.object({
  updateId: z.string(),
  agentId: z.string(),
  projectId: z.string(),
  kind: z.enum(["image", "env"]),
  step: updateStep,
  message: z.string(),
  at: z.date(),
});
export type UpdateStepEventView = z.infer<typeof updateStepEvent>;

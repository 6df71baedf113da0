// env.* schemas. Secret-backed values are always masked in outputs.
import { z } from "zod";
import { updateRecord } from "../version/schemas";

export const envPatchInput = z.object({
  /** Variables to set (name -> value). Names are checked by the domain (format, reserved names). */
  set: z.record(z.string().max(256), z.string().max(32_768, "Environment values must be at most 32 KiB")).default({}),
  unset: z.array(z.string().max(256)).max(200).default([]),
});

export const envEntry = z.object({
  key: z.string(),
  /** The value, or the mask when a secret provides it. */
  value: z.string(),
  secret: z.boolean(),
  /** Where the container's value comes from. */
  source: z.enum(["env", "project-secret", "agent-secret"]),
});

export const envGetOutput = z.object({ entries: z.array(envEntry) });
export const envPatchOutput = z.object({ entries: z.array(envEntry), update: updateRecord });

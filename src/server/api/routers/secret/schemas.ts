// secret.* schemas. Values go in, never out: outputs carry names, sizes and times only.
import { z } from "zod";
import { SECRET_MAX_BYTES } from "../../../secrets/store";

export const secretName = z
  .string({ error: "Secret name is required" })
  .trim()
  .min(1, "Secret name is required")
  .max(128, "Secret names must be at most 128 characters");

/** Hard cap on the wire; the exact byte limit is checked by the store with a clearer message. */
export const secretValue = z
  .string({ error: "Secret value is required" })
  .max(SECRET_MAX_BYTES * 4, `Secret values must be at most ${SECRET_MAX_BYTES / 1024} KiB`);

export const secretSetInput = z.object({ name: secretName, value: secretValue });
export const secretDeleteInput = z.object({ name: secretName });

export const secretInfo = z.object({
  name: z.string(),
  scope: z.enum(["project", "agent"]),
  agentId: z.string().nullable(),
  sizeBytes: z.number(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type SecretInfoView = z.infer<typeof secretInfo>;

export const secretListOutput = z.array(secretInfo);
export const secretDeleteOutput = z.object({ name: z.string(), deleted: z.literal(true) });

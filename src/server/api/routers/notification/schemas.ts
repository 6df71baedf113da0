// notification.* schemas: project webhooks and their delivery log. Secrets never appear here:
// a webhook names the project secrets it uses (signing key, URL), never their values.
import { z } from "zod";
import { PROJECT_EVENT_TYPES, projectEventType } from "../../../../contracts/project-events";

export const NOTIFICATION_FORMATS = ["slack", "discord", "armory"] as const;
const webhookId = z.uuid({ error: "webhookId must be a webhook id (a UUID)" });
const deliveryId = z.uuid({ error: "deliveryId must be a delivery id (a UUID)" });
const secretRef = z.string().trim().max(128, "Secret names are at most 128 characters");

const webhookFields = {
  name: z.string({ error: "A webhook needs a name" }).trim().min(1, "A webhook needs a name").max(100, "Webhook names are at most 100 characters"),
  url: z.string().trim().max(2048, "Webhook URLs are at most 2048 characters").nullable().optional(),
  urlSecret: secretRef.nullable().optional(),
  format: z.enum(NOTIFICATION_FORMATS, { error: `format must be one of ${NOTIFICATION_FORMATS.join(", ")}` }),
  events: z
    .array(projectEventType, { error: `events must be a list of ${PROJECT_EVENT_TYPES.join(", ")}` })
    .min(1, "Choose at least one event to send")
    .max(PROJECT_EVENT_TYPES.length * 2),
  secretName: secretRef.nullable().optional(),
  enabled: z.boolean().optional(),
};

export const webhookCreateInput = z.object(webhookFields);
export const webhookUpdateInput = z.object({
  webhookId,
  name: webhookFields.name.optional(),
  url: webhookFields.url,
  urlSecret: webhookFields.urlSecret,
  format: webhookFields.format.optional(),
  events: webhookFields.events.optional(),
  secretName: webhookFields.secretName,
  enabled: z.boolean().optional(),
});
export const webhookRefInput = z.object({ webhookId });
export const deliveriesInput = z.object({ webhookId, cursor: deliveryId.nullable().optional(), limit: z.number().int().min(1).max(100).default(25) });
export const redeliverInput = z.object({ deliveryId });

export const deliveryStatus = z.enum(["pending", "delivered", "failed"]);

export const webhookOutput = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  url: z.string().nullable(),
  urlSecret: z.string().nullable(),
  format: z.enum(NOTIFICATION_FORMATS),
  events: z.array(projectEventType),
  secretName: z.string().nullable(),
  enabled: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
  lastDelivery: z.object({ status: deliveryStatus, responseStatus: z.number().nullable(), at: z.date() }).nullable(),
});
export type WebhookOutput = z.infer<typeof webhookOutput>;

export const deliveryOutput = z.object({
  id: z.string(),
  webhookId: z.string(),
  eventType: z.string(),
  title: z.string(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number(),
  status: deliveryStatus,
  responseStatus: z.number().nullable(),
  responseBody: z.string().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().nullable(),
  nextAttemptAt: z.date().nullable(),
  createdAt: z.date(),
  lastAttemptAt: z.date().nullable(),
  deliveredAt: z.date().nullable(),
});
export type DeliveryOutput = z.infer<typeof deliveryOutput>;

export const webhookListOutput = z.array(webhookOutput);
export const deliveriesOutput = z.object({ items: z.array(deliveryOutput), nextCursor: z.string().nullable() });
export const webhookDeleteOutput = z.object({ id: z.string(), deleted: z.literal(true) });

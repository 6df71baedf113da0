// hook.* schemas: inbound webhooks of one agent and their delivery log. The secret appears only in
// the answers of create and rotateSecret (hookWithSecret), never in a listing.
import { z } from "zod";
import { hookCreateFields, hookDeliveryView, hookUpdateFields, hookView, hookWithSecret } from "../../../../contracts/hooks";

const hookId = z.uuid({ error: "hookId must be a webhook id (a UUID)" });
const deliveryId = z.uuid({ error: "deliveryId must be a delivery id (a UUID)" });

export const hookCreateInput = hookCreateFields;
export const hookUpdateInput = hookUpdateFields.extend({ hookId });
export const hookRefInput = z.object({ hookId });
export const hookDeliveriesInput = z.object({ hookId, limit: z.number().int().min(1).max(200).default(50) });
export const hookReplayInput = z.object({ deliveryId });

export const hookListOutput = z.array(hookView);
export const hookOutput = hookView;
export const hookSecretOutput = hookWithSecret;
export const hookDeleteOutput = z.object({ id: z.string(), deleted: z.literal(true) });
export const hookDeliveriesOutput = z.array(hookDeliveryView);
export const hookDeliveryOutput = hookDeliveryView;

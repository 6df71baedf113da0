// POST /api/hooks/<hookId>: the inbound webhook endpoint, for machines (no cookies, no CSRF).
// Served by the Next route (src/app/api/hooks/[hookId]/route.ts) and by the tests' HTTP server.
//
//   404 unknown or disabled hook (the same answer: no enumeration)
//   413 body over 256 KiB (refused from Content-Length, or while reading: never buffered whole)
//   415 not application/json, nor application/x-www-form-urlencoded with a `payload` field
//   401 missing or wrong signature / token (recorded as rejected; nothing is sent)
//   400 not JSON, or the template renders an empty message
//   200 GitHub's ping (verified; no turn)
//   429 over the hook's rate (Retry-After)
//   202 { sessionId, runId, deliveryId }: the message was sent; the turn runs on
import { HOOK_BODY_MAX_BYTES, HOOK_HEADERS } from "../../contracts/hooks";
import { CLIENT_IP_HEADER } from "../auth";
import type { Logger } from "../logger";
import type { HookAnswer, HookService, IncomingDelivery } from "./service";
import { verifyHookRequest } from "./verify";

const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Headers never kept (proofs, credentials, Armory's own). */
const SECRET_HEADER_RE = /signature|token|secret|auth|cookie|key|password|credential/i;
const KEPT_HEADERS_MAX = 30;
const HEADER_VALUE_MAX = 500;

export interface HookEndpointServices {
  hooks: HookService;
  log: Logger;
}

function json(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

function answer(a: HookAnswer): Response {
  return json(a.status, a.body, a.headers);
}

/** The headers a delivery keeps and templates see: Content-Type, User-Agent and X-* headers that carry no secret. */
export function keptHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  headers.forEach((value, key) => {
    const k = key.toLowerCase();
    if (n >= KEPT_HEADERS_MAX || k === CLIENT_IP_HEADER || SECRET_HEADER_RE.test(k)) return;
    if (k !== "content-type" && k !== "user-agent" && !k.startsWith("x-")) return;
    out[k] = value.slice(0, HEADER_VALUE_MAX);
    n++;
  });
  return out;
}

/** The body, or null once it passes `max` bytes (reading stops there). */
async function readBounded(request: Request, max: number): Promise<Buffer | null> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

type Parsed = { ok: true; payload: unknown } | { ok: false; error: string };

function parseBody(kind: "json" | "form", body: Buffer): Parsed {
  let text = body.toString("utf8");
  if (kind === "form") {
    const field = new URLSearchParams(text).get("payload");
    if (field === null) return { ok: false, error: "A form-encoded delivery needs a `payload` field holding the JSON." };
    text = field;
  }
  try {
    return { ok: true, payload: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: "The payload is not valid JSON." };
  }
}

/** Answers one request to /api/hooks/<hookId>. */
export async function hookResponse(request: Request, services: HookEndpointServices): Promise<Response> {
  const { hooks } = services;
  if (request.method !== "POST") return json(405, { error: "Webhooks accept POST only." }, { allow: "POST" });
  const hookId = new URL(request.url).pathname.replace(/\/+$/, "").split("/").pop() ?? "";
  const hook = ID_RE.test(hookId) ? await hooks.active(hookId.toLowerCase()) : null;
  if (!hook) return json(404, { error: "No such webhook." });

  const headers = keptHeaders(request.headers);
  const event = request.headers.get(HOOK_HEADERS.githubEvent) ?? request.headers.get(HOOK_HEADERS.event);
  const seen: Partial<IncomingDelivery> = { event: event?.slice(0, 100) ?? null, headers };
  const refuse = async (status: number, error: string) => {
    const d = await hooks.refuse(hook, "rejected", status, error, seen);
    return json(status, { error, deliveryId: d.id });
  };

  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > HOOK_BODY_MAX_BYTES) return refuse(413, `The body is over ${HOOK_BODY_MAX_BYTES / 1024} KiB.`);
  const media = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const kind = media === "application/json" ? "json" : media === "application/x-www-form-urlencoded" ? "form" : null;
  if (!kind) return refuse(415, "Send application/json (or application/x-www-form-urlencoded with a `payload` field, as GitHub can).");
  const body = await readBounded(request, HOOK_BODY_MAX_BYTES);
  if (!body) return refuse(413, `The body is over ${HOOK_BODY_MAX_BYTES / 1024} KiB.`);

  let secret: string;
  try {
    secret = hook.secret();
  } catch (err) {
    services.log.error({ hookId: hook.id, err: (err as Error).message }, "inbound webhook: the secret cannot be read");
    return json(503, { error: "This webhook's secret cannot be read by Armory right now." });
  }
  const problem = verifyHookRequest(hook.verify, secret, body, request.headers);
  if (problem) return refuse(401, problem);

  const parsed = parseBody(kind, body);
  if (!parsed.ok) return refuse(400, parsed.error);
  const delivery: IncomingDelivery = {
    event: seen.event ?? null,
    payload: parsed.payload,
    headers,
    ip: request.headers.get(CLIENT_IP_HEADER),
    userAgent: request.headers.get("user-agent")?.slice(0, 500) ?? null,
  };
  if (delivery.event === "ping") {
    const d = await hooks.ping(hook, delivery);
    return json(200, { ok: true, event: "ping", deliveryId: d.id });
  }
  const result = await hooks.deliver(hook, delivery);
  return answer(result.answer);
}

// Errors of the OpenAI-compatible endpoint in OpenAI's shape, `{ error: { message, type, param,
// code } }`, so OpenAI clients raise their typed errors (AuthenticationError, NotFoundError ...).
import type { OpenaiErrorBody } from "@/contracts/openai";

export class OpenaiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers (e.g. `x-should-retry: false` where resending would run the turn again). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "OpenaiError";
  }

  body(): OpenaiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = "invalid_request") =>
  new OpenaiError(400, message, "invalid_request_error", code, param);
export const unauthorized = (message: string) => new OpenaiError(401, message, "invalid_request_error", "invalid_api_key");
export const permissionDenied = (message: string) => new OpenaiError(403, message, "permission_error", "permission_denied");
export const notFoundError = (message: string, code: string, param: string | null = null) =>
  new OpenaiError(404, message, "invalid_request_error", code, param);

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

export function errorResponse(err: OpenaiError, headers: Record<string, string> = {}): Response {
  return jsonResponse(err.status, err.body(), { ...headers, ...err.headers });
}

/**
 * How a failed or interrupted turn is answered: the chat's own message, with a status by the
 * chat's reason. Resending would send the message again, so clients are told not to retry by
 * themselves (`x-should-retry: false`, which the official clients honour).
 */
export function turnError(status: "failed" | "interrupted", reason: string | null, message: string | null): OpenaiError {
  const noRetry = { "x-should-retry": "false" };
  const text = message ?? (status === "interrupted" ? "The turn was stopped before it finished." : "The turn failed.");
  if (status === "interrupted") return new OpenaiError(503, text, "api_error", "turn_interrupted", null, noRetry);
  switch (reason) {
    case "budget_reached":
      return new OpenaiError(429, text, "insufficient_quota", "insufficient_quota", null, noRetry);
    case "timeout":
      return new OpenaiError(504, text, "api_error", "timeout", null, noRetry);
    case "agent_not_running":
    case "daemon_unavailable":
    case "gateway_unavailable":
    case "armory_restarted":
      return new OpenaiError(503, text, "api_error", reason, null, noRetry);
    default:
      return new OpenaiError(502, text, "api_error", reason ?? "turn_failed", null, noRetry);
  }
}

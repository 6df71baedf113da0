// The OpenAI-compatible endpoint (per project, `/api/openai/<projectId>/v1`): the request body of
// POST /chat/completions as Armory accepts it, the shapes it answers with, and the paths the UI
// shows. Browser-safe (zod only).
import { z } from "zod";

/** Path prefix of every project's endpoint; the base URL is `<origin>/api/openai/<projectId>/v1`. */
export const OPENAI_PATH_PREFIX = "/api/openai/";

export function openaiBasePath(projectId: string): string {
  return `${OPENAI_PATH_PREFIX}${encodeURIComponent(projectId)}/v1`;
}

/** Request header (and response header) naming the chat session a completion continues. */
export const OPENAI_SESSION_HEADER = "x-armory-session";

/** Largest request body accepted (the whole JSON, earlier turns included). */
export const OPENAI_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** At most this many messages in one request. */
export const OPENAI_MAX_MESSAGES = 500;
/** The message Armory sends to the agent (transcript, instructions and the last user message) is cut to this. */
export const OPENAI_MAX_PROMPT_CHARS = 1024 * 1024;
/** Longest `user` value (the continuity key). */
export const OPENAI_MAX_USER_CHARS = 256;

/** Message content: a string, or OpenAI's array of parts (only text parts are accepted). */
const textPart = z.object({ type: z.literal("text"), text: z.string() }).loose();
const content = z.union([z.string(), z.array(z.union([textPart, z.object({ type: z.string() }).loose()]))]);

export const openaiMessageSchema = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
    content: content.nullable().optional(),
    name: z.string().max(256).optional(),
  })
  .loose();
export type OpenaiMessage = z.infer<typeof openaiMessageSchema>;

/**
 * POST /chat/completions. Armory uses `model` (an agent name), `messages`, `stream`,
 * `stream_options.include_usage` and `user`. Sampling and length parameters (temperature, top_p,
 * max_tokens, max_completion_tokens, stop, seed, presence/frequency penalties, logit_bias,
 * response_format, reasoning_effort, metadata, store, parallel_tool_calls) are accepted and
 * ignored: the agent's own model settings decide. Parameters that promise something Armory cannot
 * give are refused with 400: `n` other than 1, `tools`/`functions` (the agent uses its own tools),
 * `tool_choice`/`function_call` other than "none"/"auto", `logprobs: true`, audio output.
 */
export const chatCompletionRequestSchema = z
  .object({
    model: z.string().min(1, "model is required: the name of one of the project's agents").max(200),
    messages: z.array(openaiMessageSchema).min(1, "messages must hold at least one message").max(OPENAI_MAX_MESSAGES),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
    user: z.string().min(1).max(OPENAI_MAX_USER_CHARS).nullable().optional(),
    n: z.number().int().nullable().optional(),
    tools: z.array(z.unknown()).nullable().optional(),
    functions: z.array(z.unknown()).nullable().optional(),
    tool_choice: z.unknown().optional(),
    function_call: z.unknown().optional(),
    logprobs: z.boolean().nullable().optional(),
    modalities: z.array(z.string()).nullable().optional(),
    audio: z.unknown().optional(),
  })
  .loose();
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export interface OpenaiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenaiModel {
  id: string;
  object: "model";
  created: number;
  owned_by: "armory";
}

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

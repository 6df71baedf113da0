// POST /chat/completions: the message goes to the agent through the chat service (as the chat
// page sends it, via services.turns), and the answer comes back in OpenAI's shape: at once when
// the turn has ended, or as `chat.completion.chunk` server-sent events while it runs.
import { chatCompletionRequestSchema, OPENAI_MAX_BODY_BYTES, OPENAI_SESSION_HEADER, type ChatCompletionRequest, type ChatCompletionUsage } from "@/contracts/openai";
import { z } from "zod";
import { fairShare } from "../api/fair-share";
import type { ChatEventRecord } from "../chat/store";
import { DomainError } from "../domain/errors";
import { BodyTooLarge, findUnstorableString, readBodyLimited } from "../http-boundary";
import type { Services } from "../services";
import { textDelta, type CliStreamEvent } from "../streams/stream-json";
import { beginAuditEvent, finishAuditEvent } from "../trust/audit";
import { auditBase, authenticate, chatDecision, projectAccess, refuseAudited, requestInfo, type OpenaiCaller } from "./auth";
import { badRequest, errorResponse, jsonResponse, notFoundError, OpenaiError, permissionDenied, turnError } from "./errors";
import { buildPrompt } from "./prompt";
import { rememberUserSession, sessionForUser } from "./sessions";

export const COMPLETIONS_ACTION = "openai.chat.completions";

/** While a streamed turn is quiet (a long tool call), a comment line this often keeps proxies from closing the connection. */
const KEEPALIVE_MS = 15_000;

const TERMINAL = new Set(["run_completed", "run_failed", "run_interrupted"]);

async function readJson(req: Request): Promise<unknown> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readBodyLimited(req, OPENAI_MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new OpenaiError(413, `The request body is larger than the ${OPENAI_MAX_BODY_BYTES} bytes allowed.`, "invalid_request_error", "request_too_large");
    throw err;
  }
  if (!bytes?.byteLength) throw badRequest("The request has no body: send a JSON chat completion request.", null, "missing_body");
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw badRequest("The request body is not valid JSON.", null, "invalid_json");
  }
}

/** The body, validated: 400 in OpenAI's shape naming the first bad field. */
export function parseRequest(raw: unknown): ChatCompletionRequest {
  const parsed = chatCompletionRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.length ? issue.path.join(".") : null;
    const message = issue.code === "invalid_type" && issue.input === undefined && param ? `${param} is required.` : issue.message;
    throw badRequest(param ? `${param}: ${message}` : message, param, "invalid_value");
  }
  const body = parsed.data;
  const unstorable = findUnstorableString(body);
  if (unstorable) throw badRequest(`${unstorable.path}: the value contains ${unstorable.what}, which is not allowed.`, unstorable.path, "invalid_value");
  // What Armory cannot honour is refused, not silently dropped.
  if (body.n != null && body.n !== 1) throw badRequest("n: an agent gives one answer per message; only n = 1 is supported.", "n", "unsupported_parameter");
  if (body.tools?.length || body.functions?.length) {
    throw badRequest("tools: the agent uses its own tools (Claude Code's); client-side tools are not supported.", body.tools?.length ? "tools" : "functions", "unsupported_parameter");
  }
  for (const key of ["tool_choice", "function_call"] as const) {
    const v = body[key];
    if (v != null && v !== "none" && v !== "auto") throw badRequest(`${key}: client-side tools are not supported.`, key, "unsupported_parameter");
  }
  if (body.logprobs) throw badRequest("logprobs: not available from an agent.", "logprobs", "unsupported_parameter");
  if (body.audio != null || body.modalities?.some((m) => m !== "text")) throw badRequest("modalities: an agent answers in text only.", "modalities", "unsupported_parameter");
  return body;
}

const sessionIdSchema = z.uuid();

function completionId(runId: string): string {
  return `chatcmpl-${runId}`;
}

function usageOf(input: number, output: number): ChatCompletionUsage {
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
}

interface Prepared {
  caller: OpenaiCaller;
  body: ChatCompletionRequest;
  agent: { id: string; name: string; projectId: string };
  sessionId: string | undefined;
  /** Highest event seq of the session before this turn (0 for a new session). */
  afterSeq: number;
  message: string;
  auditId: string;
}

/**
 * Everything before the turn: body, token, project, agent (by name), the chat permission, the
 * session, the message; then the audit entry is written (pending) before the message is sent,
 * as for chat.send.
 */
async function prepare(req: Request, services: Services, projectId: string): Promise<Prepared> {
  const info = requestInfo(req, COMPLETIONS_ACTION);
  const caller = await authenticate(services, req, info);
  const body = parseRequest(await readJson(req));
  const role = await projectAccess(services, caller, projectId, "write", COMPLETIONS_ACTION);
  const prisma = services.db.prisma;
  const agent = await prisma.agent.findFirst({ where: { projectId, name: body.model }, select: { id: true, name: true, projectId: true } });
  if (!agent) throw notFoundError(`The model ${JSON.stringify(body.model)} does not exist: models are the names of this project's agents (GET /models lists those you may chat with).`, "model_not_found", "model");
  const decision = await chatDecision(services, caller, role, agent);
  const auditFields = { projectId, agentId: agent.id, agentName: agent.name, permission: "chat", grantId: decision.grant?.id ?? null };
  if (!decision.allowed) await refuseAudited(services, caller, COMPLETIONS_ACTION, permissionDenied(decision.reason), auditFields);

  // The session: the header names one of this agent's sessions; else the `user` key's; else new.
  const header = req.headers.get(OPENAI_SESSION_HEADER)?.trim();
  let sessionId: string | undefined;
  if (header) {
    if (!sessionIdSchema.safeParse(header).success) throw badRequest(`The ${OPENAI_SESSION_HEADER} header must be a chat session id (a UUID).`, OPENAI_SESSION_HEADER, "invalid_session");
    sessionId = header;
  } else if (body.user) {
    sessionId = (await sessionForUser(prisma, agent.id, caller.user.id, body.user)) ?? undefined;
  }
  let afterSeq = 0;
  if (sessionId) {
    const session = await prisma.chatSession.findFirst({ where: { id: sessionId, agentId: agent.id, projectId }, select: { lastSeq: true } });
    if (!session) throw notFoundError(`No conversation of agent ${agent.name} has the id ${sessionId}.`, "session_not_found", OPENAI_SESSION_HEADER);
    afterSeq = session.lastSeq;
  }
  const prompt = buildPrompt(body.messages, !!sessionId);
  let auditId: string;
  try {
    auditId = await beginAuditEvent(prisma, {
      ...auditBase(caller, COMPLETIONS_ACTION),
      ...auditFields,
      allowed: true,
      reason: decision.reason,
      outcome: "pending",
      input: { projectId, agentId: agent.id, model: body.model, sessionId: sessionId ?? null, user: body.user ?? null, stream: !!body.stream, message: prompt.lastUser, transcript: prompt.transcript },
    });
  } catch (err) {
    services.log.error({ err }, "could not write the audit entry; the message was not sent");
    throw new OpenaiError(503, `The audit log could not record this message, so it was not sent; try again (request id ${caller.requestId}).`, "api_error", "audit_unavailable");
  }
  return { caller, body, agent, sessionId, afterSeq, message: prompt.message, auditId };
}

/** Sends the message (through services.turns, like every automation) and completes the audit entry. */
async function send(services: Services, p: Prepared, projectId: string) {
  const prisma = services.db.prisma;
  const finish = (outcome: string, reason?: string) =>
    finishAuditEvent(prisma, p.auditId, {
      ...auditBase(p.caller, COMPLETIONS_ACTION),
      projectId,
      agentId: p.agent.id,
      agentName: p.agent.name,
      permission: "chat",
      allowed: true,
      reason: reason ?? "The chat permission allows it.",
      outcome,
    }).catch((err: unknown) => services.log.error({ err }, "could not complete the audit entry (it records the attempt as pending)"));
  try {
    const sent = await services.turns.send({ projectId, agentId: p.agent.id, sessionId: p.sessionId, message: p.message, userId: p.caller.user.id });
    await finish("ok");
    if (!p.sessionId && p.body.user) await rememberUserSession(prisma, p.agent.id, p.caller.user.id, p.body.user, sent.sessionId);
    return sent;
  } catch (err) {
    const mapped = fromDomain(err);
    await finish(mapped ? mapped.code ?? String(mapped.status) : "INTERNAL_SERVER_ERROR", mapped?.message);
    throw mapped ?? err;
  }
}

/** The chat service's refusals (a turn already running in the session, Armory shutting down ...) in OpenAI's shape. */
function fromDomain(err: unknown): OpenaiError | null {
  if (!(err instanceof DomainError)) return null;
  switch (err.code) {
    case "CONFLICT":
      return new OpenaiError(409, err.message, "invalid_request_error", "session_busy", null, { "x-should-retry": "false" });
    case "BAD_REQUEST":
      return badRequest(err.message, "messages");
    case "NOT_FOUND":
      return notFoundError(err.message, "not_found");
    case "FORBIDDEN":
      return permissionDenied(err.message);
    case "PAYLOAD_TOO_LARGE":
      return new OpenaiError(413, err.message, "invalid_request_error", "request_too_large");
    default:
      return new OpenaiError(503, err.message, "api_error", "unavailable");
  }
}

/** POST /api/openai/<projectId>/v1/chat/completions */
export async function chatCompletions(req: Request, services: Services, projectId: string): Promise<Response> {
  // One caller's requests take turns for the part before the turn (a few at once), as tRPC calls do.
  const { callsPerUser, queuedCallsPerUser } = services.config.limits;
  const gateKey = `openai:${req.headers.get("authorization")?.slice(0, 80) ?? "none"}`;
  const release = await fairShare("openai", callsPerUser, queuedCallsPerUser).acquire(gateKey);
  if (!release) return errorResponse(new OpenaiError(429, "Too many requests at once from this token; slow down and try again.", "rate_limit_error", "rate_limit_exceeded"));
  let p: Prepared;
  let sent: { sessionId: string; runId: string };
  try {
    p = await prepare(req, services, projectId);
    sent = await send(services, p, projectId);
  } finally {
    release();
  }
  const headers = { [OPENAI_SESSION_HEADER]: sent.sessionId };
  const created = Math.floor(Date.now() / 1000);
  if (p.body.stream) return streamTurn(services, p, sent, created, headers, req.signal);

  // The client going away ends the wait (not the turn: it finishes and stays in the session).
  const outcome = await services.turns.outcome(sent.sessionId, sent.runId, req.signal);
  if (outcome.status !== "completed") return errorResponse(turnError(outcome.status, outcome.reason, outcome.error), headers);
  return jsonResponse(
    200,
    {
      id: completionId(sent.runId),
      object: "chat.completion",
      created,
      model: p.agent.name,
      choices: [{ index: 0, message: { role: "assistant", content: outcome.result ?? "", refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: usageOf(outcome.inputTokens, outcome.outputTokens),
      // Not in OpenAI's shape: where the turn lives in Armory and what it cost.
      armory: { session_id: sent.sessionId, run_id: sent.runId, cost_usd: outcome.costUsd, duration_ms: outcome.durationMs },
    },
    headers,
  );
}

/**
 * The turn as server-sent events: a first chunk with the role, one chunk per text delta of the
 * agent's own messages (a blank line between two messages, e.g. before and after a tool call),
 * a last chunk with finish_reason "stop", the usage chunk when `stream_options.include_usage`,
 * then `data: [DONE]`. A failed turn ends with an `error` event in OpenAI's shape instead. The
 * client disconnecting ends this subscription, never the turn.
 */
function streamTurn(
  services: Services,
  p: Prepared,
  sent: { sessionId: string; runId: string },
  created: number,
  headers: Record<string, string>,
  clientSignal: AbortSignal,
): Response {
  const stop = new AbortController();
  const onClientGone = () => stop.abort();
  clientSignal.addEventListener("abort", onClientGone, { once: true });
  const encoder = new TextEncoder();
  const base = { id: completionId(sent.runId), object: "chat.completion.chunk", created, model: p.agent.name, system_fingerprint: null };
  const includeUsage = !!p.body.stream_options?.include_usage;
  let keepalive: ReturnType<typeof setInterval> | undefined;

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (text: string) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      const data = (value: unknown) => write(`data: ${JSON.stringify(value)}\n\n`);
      const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
        data({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}), ...extra });
      keepalive = setInterval(() => write(": keep-alive\n\n"), KEEPALIVE_MS);
      try {
        chunk({ role: "assistant", content: "" });
        const events = await services.chat.stream(p.agent.projectId, p.agent.id, sent.sessionId, p.afterSeq, stop.signal);
        let textSoFar = false;
        let newMessage = false;
        let end: ChatEventRecord | null = null;
        for await (const e of events) {
          if (e.runId !== sent.runId) continue;
          if (TERMINAL.has(e.type)) {
            end = e;
            break;
          }
          if (e.type !== "stream_event") continue;
          const ev = e.data as CliStreamEvent;
          if (ev.parent_tool_use_id) continue; // a subagent's own messages
          if (ev.event?.type === "message_start") newMessage = textSoFar;
          const text = textDelta(ev);
          if (!text) continue;
          chunk({ content: newMessage ? `\n\n${text}` : text });
          newMessage = false;
          textSoFar = true;
        }
        if (end) {
          const d = (end.data ?? {}) as { message?: string | null; reason?: string | null; inputTokens?: number; outputTokens?: number };
          if (end.type === "run_completed") {
            chunk({}, "stop");
            if (includeUsage) data({ ...base, choices: [], usage: usageOf(d.inputTokens ?? 0, d.outputTokens ?? 0) });
            write("data: [DONE]\n\n");
          } else {
            const err = turnError(end.type === "run_interrupted" ? "interrupted" : "failed", d.reason ?? null, d.message ?? null);
            data(err.body());
          }
        }
      } catch (err) {
        if (!stop.signal.aborted) {
          services.log.error({ err, runId: sent.runId }, "openai stream failed");
          data(new OpenaiError(500, `The stream of this turn failed (request id ${p.caller.requestId}); the turn goes on in the session.`, "api_error", "stream_failed").body());
        }
      } finally {
        clearInterval(keepalive);
        clientSignal.removeEventListener("abort", onClientGone);
        const open = !stop.signal.aborted;
        stop.abort();
        if (open) controller.close();
      }
    },
    cancel() {
      clearInterval(keepalive);
      stop.abort();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no", ...headers },
  });
}

// chat.* input and output schemas: the public contract of the chat API.
import { z } from "zod";

export const MESSAGE_MAX_CHARS = 1024 * 1024;

export const sessionIdSchema = z.uuid({ error: "sessionId must be a chat session id (a UUID)" });

export const chatMessage = z
  .string({ error: "message is required" })
  .max(MESSAGE_MAX_CHARS, `message must be at most ${MESSAGE_MAX_CHARS} characters (1 MiB)`)
  .refine((m) => m.trim().length > 0, "message is empty");

export const chatSendInput = z.object({ sessionId: sessionIdSchema.optional(), message: chatMessage });
export const chatSendOutput = z.object({ sessionId: z.string(), runId: z.string() });

export const chatSessionRef = z.object({ sessionId: sessionIdSchema });

export const chatSessionView = z.object({
  id: z.string(),
  agentId: z.string(),
  projectId: z.string(),
  title: z.string(),
  claudeSessionId: z.string().nullable(),
  lastSeq: z.number(),
  turns: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  running: z.boolean(),
  /** The session's own git branch (worktree), its base, and the pull request opened for it; null: the agent's workspace. */
  git: z.object({ branch: z.string(), base: z.string(), pullRequestUrl: z.string().nullable() }).nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type ChatSessionView = z.infer<typeof chatSessionView>;

export const chatEventView = z.object({
  seq: z.number(),
  runId: z.string(),
  /** user_message, run_started, system, assistant, user, stream_event, result, unknown, invalid_line, overflow, stderr, run_completed, run_failed, run_interrupted */
  type: z.string(),
  data: z.unknown(),
  at: z.date(),
});
export type ChatStreamEvent = z.infer<typeof chatEventView>;

export const chatRunView = z.object({
  id: z.string(),
  sessionId: z.string(),
  message: z.string(),
  status: z.enum(["running", "completed", "failed", "interrupted"]),
  error: z.string().nullable(),
  mode: z.string(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  durationMs: z.number().nullable(),
  firstTokenMs: z.number().nullable(),
  startedAt: z.date(),
  endedAt: z.date().nullable(),
});
export type ChatRunView = z.infer<typeof chatRunView>;

export const chatHistoryInput = z.object({
  sessionId: sessionIdSchema,
  afterSeq: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(20_000).default(5000),
});
export const chatHistoryOutput = z.object({
  session: chatSessionView.omit({ running: true }),
  runs: z.array(chatRunView),
  events: z.array(chatEventView),
  demoModel: z.boolean(),
});

export const chatUsageView = z.object({
  sessions: z.number(),
  turns: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
});

export const chatSessionsOutput = z.object({
  sessions: z.array(chatSessionView),
  demoModel: z.boolean(),
  /** Usage recorded from result events: this agent's sessions, and the whole project's. */
  usage: z.object({
    agent: chatUsageView,
    project: chatUsageView,
    /** What the model gateway counted for this agent (every model request, also outside chat). */
    gateway: z.object({ requests: z.number(), inputTokens: z.number(), outputTokens: z.number(), lastUsedAt: z.date().nullable() }),
  }),
});

export const SESSION_TITLE_MAX_CHARS = 200;
export const SESSION_SEARCH_MAX_CHARS = 200;

export const chatSessionsInput = z.object({
  /** Only sessions whose title, one of the user's messages or one of the agent's replies contains this (case-insensitive). */
  search: z.string().trim().max(SESSION_SEARCH_MAX_CHARS, `search must be at most ${SESSION_SEARCH_MAX_CHARS} characters`).optional(),
});

export const chatRenameInput = z.object({
  sessionId: sessionIdSchema,
  title: z
    .string({ error: "title is required" })
    .trim()
    .min(1, "title is empty")
    .max(SESSION_TITLE_MAX_CHARS, `title must be at most ${SESSION_TITLE_MAX_CHARS} characters`)
    .refine((t) => ![...t].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127), "title must be one line without control characters"),
});
export const chatRenameOutput = chatSessionView;

export const chatDeleteOutput = z.object({ deleted: z.literal(true), sessionId: z.string() });

export const chatStreamInput = z.object({
  sessionId: sessionIdSchema,
  /** Events with seq > afterSeq are sent (0: from the start). */
  afterSeq: z.number().int().min(0).default(0),
  /** Set by the SSE client on automatic reconnects (the last seq it received). */
  lastEventId: z.string().max(20).regex(/^\d+$/).nullish(),
});

export const chatInterruptOutput = z.object({ interrupted: z.boolean(), runId: z.string().nullable() });

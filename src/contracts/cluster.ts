// Several Armory instances on one PostgreSQL (src/server/cluster/): what they tell each other over
// LISTEN/NOTIFY, and the admin's view of the cluster (instance.cluster).
import { z } from "zod";
import { requestMethods } from "./armoryd";

/** NOTIFY channels (one per job; every instance listens to all of them). */
export const CLUSTER_CHANNELS = {
  /** Chat events stored by one instance: `ChatNotice` (subscribers elsewhere read them from the DB). */
  chat: "armory_chat",
  /** Agent status, file and config events: `BusNotice`. */
  bus: "armory_bus",
  /** Requests to the instance holding an agent's daemon, and their answers: `RpcNotice`. */
  rpc: "armory_rpc",
  /** Terminal output relayed from the instance holding the agent's daemon to the one serving the terminal: `TermNotice`. */
  term: "armory_term",
} as const;
export type ClusterChannel = (typeof CLUSTER_CHANNELS)[keyof typeof CLUSTER_CHANNELS];

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; bigger messages go through cluster_message. */
export const NOTIFY_MAX_BYTES = 7900;

/** Every message names its sender, so an instance ignores its own. */
const envelope = { from: z.string().min(1).max(64) };

/**
 * Sessions whose events one instance stored: per session the seq range [from, to] of one batch,
 * and the small events of those ranges themselves (`events`: session, seq, run, type, data, time
 * in ms), so the receiving instance reads from the database only what did not travel inline.
 */
export const chatNotice = z.object({
  ...envelope,
  sessions: z.array(z.tuple([z.string().min(1).max(64), z.number().int().nonnegative(), z.number().int().nonnegative()])).max(500),
  events: z.array(z.tuple([z.string().min(1).max(64), z.number().int().nonnegative(), z.string().max(64), z.string().max(64), z.unknown(), z.number()])).max(2000).optional(),
});
export type ChatNotice = z.infer<typeof chatNotice>;

/** A bus event of one instance, for subscribers on the others (kind names the bus). */
export const busNotice = z.object({
  ...envelope,
  kind: z.enum(["agent", "files", "config"]),
  event: z.unknown(),
});
export type BusNotice = z.infer<typeof busNotice>;

/** What one instance may ask the instance holding an agent's daemon to do. */
export const ROUTED_OPERATIONS = ["daemon.request", "chat.send", "chat.interrupt", "approval.decide", "terminal.relay"] as const;
export type RoutedOperation = (typeof ROUTED_OPERATIONS)[number];

export const rpcRequest = z.object({
  ...envelope,
  type: z.literal("request"),
  to: z.string().min(1).max(64),
  id: z.string().min(1).max(64),
  op: z.enum(ROUTED_OPERATIONS),
  agentId: z.string().min(1).max(64),
  /** For daemon.request: the armoryd method. Params and results are superjson-serialized. */
  method: z.enum(Object.keys(requestMethods) as [keyof typeof requestMethods, ...(keyof typeof requestMethods)[]]).optional(),
  params: z.unknown(),
  timeoutMs: z.number().int().positive().max(600_000),
});
export const rpcResponse = z.object({
  ...envelope,
  type: z.literal("response"),
  to: z.string().min(1).max(64),
  id: z.string().min(1).max(64),
  ok: z.boolean(),
  result: z.unknown().optional(),
  /** A refusal to rethrow on the asking instance: the error's class, code and sentence. */
  error: z.object({ kind: z.enum(["domain", "daemon", "unavailable", "other"]), code: z.string().max(64), message: z.string().max(2000), method: z.string().max(64).optional() }).optional(),
});
export const rpcNotice = z.discriminatedUnion("type", [rpcRequest, rpcResponse]);
export type RpcRequest = z.infer<typeof rpcRequest>;
export type RpcResponse = z.infer<typeof rpcResponse>;

/** terminal.relay's params: start or stop relaying one terminal's output to the asking instance. */
export const terminalRelayParams = z.object({ termId: z.string().min(1).max(100), relay: z.boolean() });
export type TerminalRelayParams = z.infer<typeof terminalRelayParams>;

/**
 * One step of a relayed terminal, numbered per terminal from 1 (the receiver hands them on in
 * order): output bytes (base64), the shell's exit, or the relay's end with a sentence.
 */
export const termNotice = z.object({
  ...envelope,
  to: z.string().min(1).max(64),
  termId: z.string().min(1).max(100),
  seq: z.number().int().positive(),
  daemonId: z.string().max(200),
  step: z.discriminatedUnion("type", [
    z.object({ type: z.literal("data"), data: z.string() }),
    z.object({ type: z.literal("exit"), exitCode: z.number().nullable() }),
    z.object({ type: z.literal("ended"), reason: z.string().max(500) }),
  ]),
});
export type TermNotice = z.infer<typeof termNotice>;

/** A NOTIFY payload as sent: the message itself, or the id of the cluster_message row holding it. */
export const wireNotice = z.union([z.object({ m: z.unknown() }), z.object({ ref: z.string().uuid() })]);

export const clusterInstanceView = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.date(),
  heartbeatAt: z.date(),
  leader: z.boolean(),
  self: z.boolean(),
  daemons: z.number().int().nonnegative(),
});
export type ClusterInstanceView = z.infer<typeof clusterInstanceView>;

export const clusterView = z.object({
  /** "single": one process on embedded PGlite (no cluster layer); "postgres": instances share PostgreSQL. */
  mode: z.enum(["single", "postgres"]),
  self: z.string(),
  leader: z.string().nullable(),
  instances: z.array(clusterInstanceView),
});
export type ClusterView = z.infer<typeof clusterView>;

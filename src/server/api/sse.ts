// tRPC subscriptions over SSE (`GET /api/trpc/<subscription>`: the typed client's and curl's
// stream, httpSubscriptionLink), written straight to Node's response by Armory's own server
// instead of going through the fetch adapter and Next's route handler. Those build a chain of web
// streams per subscription (the producer's ReadableStream, a TransformStream per SSE field, a
// TextEncoderStream, Next's pipe into the Node response) that cost more CPU per event than
// everything else the server does with a chat event (bench/results.json, server). The prelude is
// tRPC's own: the request info (input, connection params, last event id), createContext, and the
// procedure with all its middleware (authentication, authorization, caps, output validation). The
// wire format is exactly tRPC 11's sseStreamProducer's (connected, data with id, restore-id,
// serialized-error, return), so httpSubscriptionLink reads both the same
// (tests/integration/sse.test.ts). Events that arrive together are written together: the response
// is corked until the tick's events are in, so a burst costs one write, not one per event.
import type http from "node:http";
import { randomUUID } from "node:crypto";
import {
  getErrorShape,
  getRequestInfo,
  getTRPCErrorFromUnknown,
  isAbortError,
  isAsyncIterable,
  isTrackedEnvelope,
} from "@trpc/server/unstable-core-do-not-import";
import type { AnyTRPCProcedure } from "@trpc/server";
import { headersOf } from "../http-boundary";
import type { Services } from "../services";
import { appRouter } from "./root";
import { handleTrpcRequest, TRPC_ENDPOINT } from "./http";
import { createContext, type Context } from "./trpc";

const HEADERS = {
  "content-type": "text/event-stream",
  // "no-store" as on every tRPC response of Armory's (responseMeta in http.ts).
  "cache-control": "no-store",
  "x-accel-buffering": "no",
  connection: "keep-alive",
  vary: "trpc-accept, accept",
} as const;

/** The subscription a request names (a GET of one non-batch procedure), or null. */
function subscriptionOf(req: http.IncomingMessage): { path: string; proc: AnyTRPCProcedure; url: URL } | null {
  if (req.method !== "GET" || !req.url?.startsWith(`${TRPC_ENDPOINT}/`)) return null;
  const url = new URL(req.url, "http://armory.invalid");
  if (url.searchParams.get("batch") === "1") return null;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice(TRPC_ENDPOINT.length + 1));
  } catch {
    return null;
  }
  const proc = (appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure | undefined>)[path];
  return proc?._def.type === "subscription" ? { path, proc, url } : null;
}


/** A (small, complete) fetch Response onto Node's response. */
async function send(response: Response, res: http.ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** One SSE message as tRPC's producer writes it (its fields in its order, then a blank line). */
function message(fields: { event?: string; data?: string; id?: string }): string {
  let s = "";
  if (fields.event !== undefined) s += `event: ${fields.event}\n`;
  if (fields.data !== undefined) s += `data: ${fields.data}\n`;
  if (fields.id !== undefined) s += `id: ${fields.id}\n`;
  return `${s}\n\n`;
}

/**
 * Serves the request when it is a tRPC subscription over SSE; false (untouched) otherwise.
 * `req.headers` must already carry the request id and the client address Armory's server sets.
 */
export function serveSubscription(req: http.IncomingMessage, res: http.ServerResponse, services: Services): boolean {
  const target = subscriptionOf(req);
  if (!target) return false;
  void stream(req, res, services, target).catch((err: unknown) => {
    services.log.error({ err, path: target.path }, "SSE subscription failed");
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end();
    } else res.destroy();
  });
  return true;
}

async function stream(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  services: Services,
  target: { path: string; proc: AnyTRPCProcedure; url: URL },
): Promise<void> {
  const config = appRouter._def._config;
  const headers = headersOf(req);
  const requestId = headers.get("x-request-id") ?? randomUUID();
  // Ends the procedure's stream when the client goes away, and anything it holds when it ends.
  const abort = new AbortController();
  const onClose = () => abort.abort();
  res.once("close", onClose);

  const request = new Request(new URL(req.url!, "http://armory.invalid"), { method: "GET", headers });
  let info: Awaited<ReturnType<typeof getRequestInfo>>;
  try {
    info = await getRequestInfo({ req: request, path: target.path, router: appRouter, searchParams: target.url.searchParams, headers, url: target.url });
  } catch {
    // A request tRPC cannot even read (it parses the input lazily, so a bad input is the stream's
    // serialized error below, not this): its own handler answers, with a plain error response.
    res.off("close", onClose);
    await send(await handleTrpcRequest(request, services), res);
    return;
  }
  const call = info.calls[0]!;
  let ctx: Context | undefined;
  let data: AsyncIterable<unknown> | null = null;
  let failure: unknown = null;
  try {
    ctx = await createContext({ services, headers, requestId, connectionParams: info.connectionParams });
    const result: unknown = await target.proc({ path: target.path, getRawInput: call.getRawInput, ctx, type: "subscription", signal: abort.signal, batchIndex: 0 });
    // Every subscription's output parser (stream-output.ts) hands back an async iterable.
    if (!isAsyncIterable(result)) throw new Error(`Subscription ${target.path} did not return an async iterable`);
    data = result;
  } catch (err) {
    failure = err;
  }

  const errorMessage = (cause: unknown) => {
    const error = getTRPCErrorFromUnknown(cause);
    if (error.code === "INTERNAL_SERVER_ERROR") services.log.error({ requestId, path: target.path, err: error.cause ?? error }, "tRPC request failed");
    const shape = getErrorShape({ config, ctx, error, input: call.result(), path: target.path, type: "subscription" });
    return message({ event: "serialized-error", data: JSON.stringify(config.transformer.output.serialize(shape)) });
  };

  res.writeHead(200, { ...HEADERS, "x-request-id": requestId });
  res.write(message({ event: "connected", data: "{}" }));
  if (!data) {
    res.end(errorMessage(failure));
    res.off("close", onClose);
    return;
  }

  // The id the client's EventSource holds (and sends back when it reconnects).
  const fromClient = request.headers.get("last-event-id") ?? target.url.searchParams.get("lastEventId") ?? target.url.searchParams.get("Last-Event-Id");
  let lastEventId = fromClient && !/[\0\n\r]/.test(fromClient) ? fromClient : null;
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  /** Writes one message; the tick's later messages join it in one write. Resolves when the client can take more. */
  const write = (text: string): Promise<void> | null => {
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    if (res.write(text)) return null;
    return new Promise<void>((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  };

  const it = data[Symbol.asyncIterator]();
  let ended = "";
  try {
    for (;;) {
      const r = await it.next();
      if (r.done || abort.signal.aborted) break;
      const value: unknown = r.value;
      let text: string;
      if (isTrackedEnvelope(value)) {
        lastEventId = value[0];
        text = message({ data: JSON.stringify(config.transformer.output.serialize(value[1])), id: value[0] });
      } else {
        const json = JSON.stringify(config.transformer.output.serialize(value));
        // An event without an id gets the last id from EventSource: clear it for this event, then
        // set it back with an event clients do not listen to (as tRPC's producer does).
        text = lastEventId === null ? message({ data: json }) : message({ data: json, id: "" }) + message({ event: "restore-id", data: "", id: lastEventId });
      }
      const blocked = write(text);
      if (blocked) await blocked;
    }
    ended = message({ event: "return", data: "" });
  } catch (err) {
    if (!isAbortError(err) && !abort.signal.aborted) ended = errorMessage(err);
  } finally {
    abort.abort();
    res.off("close", onClose);
    await it.return?.();
    if (!res.destroyed) res.end(ended);
  }
}

// Checks at the HTTP edge, before any procedure runs: request timeouts for Node servers, the tRPC
// batch size, the request body size (declared and streamed), and which origins may send
// cookie-authenticated state-changing requests (CSRF). Shared by Armory's server, the Next route
// handler and the test server, so they all enforce the same thing.
import type http from "node:http";
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { Config } from "./config";

/** Options for http.createServer: a slow header or body is cut with 408 (an SSE response is not: it only times the request). */
export function httpServerOptions(limits: Pick<Config["limits"], "headersTimeoutMs" | "requestTimeoutMs">): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // How often Node checks those timeouts (its default, 30 s, would let a slow body live up to twice as long).
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** A tRPC-shaped error response (superjson envelope), so the typed client reports it as a TRPCClientError with `data.code`. */
export function trpcErrorResponse(code: TRPC_ERROR_CODE_KEY, httpStatus: number, message: string, headers?: HeadersInit): Response {
  const body = { error: { json: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus, path: null } } } };
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status: httpStatus, headers: h });
}

/** How many procedures a tRPC request names (`/api/trpc/a,b,c?batch=1`); 1 for a non-batch call. */
export function batchSize(url: URL, endpoint: string): number {
  if (url.searchParams.get("batch") !== "1") return 1;
  const rest = url.pathname.slice(endpoint.length + 1);
  return rest ? decodeURIComponent(rest).split(",").length : 0;
}

/**
 * The request's own origin host (what the browser addressed): the Host header, or behind a proxy
 * Armory trusts (ARMORY_TRUST_PROXY) its X-Forwarded-Host.
 */
function ownHost(headers: Headers, trustProxy = false): string | null {
  const forwarded = trustProxy ? headers.get("x-forwarded-host")?.split(",")[0]?.trim() : undefined;
  return (forwarded || headers.get("host"))?.toLowerCase() ?? null;
}

/**
 * Whether a state-changing request comes from a page Armory does not trust: `Sec-Fetch-Site:
 * cross-site`, or an `Origin` that is neither the configured public URL nor the request's own
 * origin (same host and port). A request without both headers (curl, server-side clients) is not
 * foreign: browsers always send `Origin` on a cross-origin POST.
 */
export function isForeignOrigin(headers: Headers, publicUrl: string | undefined, trustProxy = false): boolean {
  if (headers.get("sec-fetch-site")?.toLowerCase() === "cross-site") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return true; // "null" (sandboxed frames, file:) and garbage
  }
  if (publicUrl && parsed.origin === new URL(publicUrl).origin) return false;
  return parsed.host.toLowerCase() !== ownHost(headers, trustProxy);
}

/** The origins better-auth trusts for a request: the public URL and the request's own origin. */
export function trustedOriginsFor(headers: Headers | undefined, publicUrl: string | undefined, trustProxy = false): string[] {
  const out: string[] = [];
  if (publicUrl) out.push(new URL(publicUrl).origin);
  const host = headers ? ownHost(headers, trustProxy) : null;
  // The request's own origin, in either scheme (behind a TLS proxy Armory sees http).
  if (host && /^[a-z0-9.:[\]-]+$/.test(host)) out.push(`http://${host}`, `https://${host}`);
  return out;
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes.`);
  }
}

/**
 * A request's (or response's) body, read up to `limit` bytes: refused from its Content-Length
 * when that says more, and cut off while streaming when the bytes say more (chunked bodies,
 * lying headers).
 */
export async function readBodyLimited(req: Pick<Request, "headers" | "body">, limit: number): Promise<Uint8Array | null> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new BodyTooLarge(limit);
  if (!req.body) return null;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Where a value (a decoded tRPC input or JSON body) holds a string PostgreSQL cannot store: a NUL character
 * (U+0000) or a lone UTF-16 surrogate, in a value or an object key, at any depth (keys zod would
 * strip included). Returns the path of the first one, or null. Iterative, so a deeply nested
 * input cannot overflow the stack.
 */
export function findUnstorableString(value: unknown): { path: string; what: string } | null {
  const bad = (s: string): string | null => (s.includes("\u0000") ? "a NUL character (U+0000)" : s.isWellFormed() ? null : "invalid Unicode (a lone surrogate)");
  const stack: { v: unknown; path: string }[] = [{ v: value, path: "" }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      const what = bad(v);
      if (what) return { path, what };
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: join(path, String(i)) }));
    } else if (v instanceof Map) {
      for (const [k, item] of v) {
        stack.push({ v: k, path: join(path, "(key)") });
        stack.push({ v: item, path: join(path, typeof k === "string" ? k : "(value)") });
      }
    } else if (v instanceof Set) {
      for (const item of v) stack.push({ v: item, path: join(path, "(item)") });
    } else if (v && typeof v === "object" && !(v instanceof Date)) {
      for (const [k, item] of Object.entries(v)) {
        const what = bad(k);
        if (what) return { path: join(path, JSON.stringify(k).slice(1, -1)), what: `${what} in a key` };
        stack.push({ v: item, path: join(path, k) });
      }
    }
  }
  return null;
}

/** A Node request's headers as fetch Headers (repeated headers appended). */
export function headersOf(req: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === "string") headers.set(k, v);
    else if (Array.isArray(v)) for (const item of v) headers.append(k, item);
  }
  return headers;
}

// One webhook POST: http/https only, the host resolved once and checked (address-guard: no
// loopback/private/link-local unless allowed), the connection made to that checked address (the
// Host header and TLS server name stay the URL's), redirects not followed, a hard time limit.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { AddressRefused, resolveGuarded } from "../gateway/address-guard";

/** Kept from a response body (the delivery log shows it). */
export const RESPONSE_EXCERPT_CHARS = 1024;
/** Read at most this much of a response, then stop. */
const RESPONSE_READ_BYTES = 64 * 1024;

export interface SendResult {
  /** The HTTP status, or null when no response came. */
  status: number | null;
  /** The start of the response body. */
  body: string | null;
  /** Why it failed without a response (never holds the URL's path or query: they can be credentials). */
  error: string | null;
  durationMs: number;
  /** The address was refused (not public): retrying cannot help. */
  refused?: boolean;
}

export class WebhookUrlError extends Error {}

/** The URL checked for shape: http or https, no credentials in it. Throws WebhookUrlError with a clear message. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new WebhookUrlError("The webhook URL is not a valid URL (e.g. https://hooks.example.com/...)");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new WebhookUrlError(`Webhook URLs must be http or https, not ${url.protocol.replace(/:$/, "")}`);
  if (url.username || url.password) throw new WebhookUrlError("Webhook URLs cannot carry a user name or password; use a secret (signing key) instead");
  return url;
}

/** Resolves the URL's host and checks every address; throws AddressRefused. */
export async function guardHost(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const addresses = await resolveGuarded(url.hostname, { allowPrivate });
  return addresses[0]!;
}

function netError(err: unknown): string {
  if (err instanceof AddressRefused) return err.message;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ETIMEDOUT: "connection timed out",
    EPROTO: "TLS handshake failed",
    CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
    DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
    ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate does not match its host name",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  if (code) return code;
  return e?.message ? e.message.slice(0, 200) : "request failed";
}

/** POSTs `body` to `url`; never throws (the outcome says what happened). */
export async function postWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: { allowPrivate: boolean; timeoutMs: number },
): Promise<SendResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  let target: { address: string; family: 4 | 6 };
  try {
    target = await guardHost(url, opts.allowPrivate);
  } catch (err) {
    return { status: null, body: null, error: netError(err), durationMs: took(), refused: err instanceof AddressRefused };
  }
  // Connect to the checked address only (no second resolution that could answer differently).
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const done = (r: Omit<SendResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: took() });
    };
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.request(
      url,
      {
        method: "POST",
        lookup,
        headers: { "content-type": "application/json", "user-agent": "Armory-Webhooks/1", ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          const text = Buffer.concat(chunks).toString("utf8");
          done({ status: res.statusCode ?? null, body: text ? text.slice(0, RESPONSE_EXCERPT_CHARS) : null, error: null });
        };
        res.on("data", (c: Buffer) => {
          if (size < RESPONSE_READ_BYTES) chunks.push(c);
          size += c.length;
          if (size >= RESPONSE_READ_BYTES) {
            finish();
            res.destroy();
          }
        });
        res.on("end", finish);
        res.on("error", finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: null, body: null, error: `no response within ${Math.round(opts.timeoutMs / 1000)} s` });
    }, opts.timeoutMs);
    req.on("error", (err) => done({ status: null, body: null, error: netError(err) }));
    req.end(body);
  });
}

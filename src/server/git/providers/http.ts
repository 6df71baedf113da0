// The one HTTP call the provider clients make: bounded in time and size, no redirects (a provider
// API answers directly; following a redirect could carry the token to another host), JSON in and
// out. The token goes only in the headers the caller passes and never into an error message.
import { BodyTooLarge, readBodyLimited } from "../../http-boundary";
import { ProviderError } from "./errors";

export const PROVIDER_TIMEOUT_MS = 15_000;
/** Provider answers are small JSON objects (a pull request, a short list of them). */
export const PROVIDER_MAX_RESPONSE_BYTES = 1024 * 1024;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ProviderResponse {
  status: number;
  body: unknown;
}

async function readBounded(res: Response, providerName: string): Promise<string> {
  try {
    const body = await readBodyLimited(res, PROVIDER_MAX_RESPONSE_BYTES);
    return body ? Buffer.from(body).toString("utf8") : "";
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    throw new ProviderError(502, `${providerName} sent an answer larger than ${PROVIDER_MAX_RESPONSE_BYTES / 1024 / 1024} MiB`);
  }
}

export async function providerRequest(
  providerName: string,
  method: "GET" | "POST",
  url: string,
  headers: Record<string, string>,
  body: unknown,
  opts: { fetch?: FetchLike; signal?: AbortSignal } = {},
): Promise<ProviderResponse> {
  const signal = opts.signal
    ? AbortSignal.any([opts.signal, AbortSignal.timeout(PROVIDER_TIMEOUT_MS)])
    : AbortSignal.timeout(PROVIDER_TIMEOUT_MS);
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method,
      headers: { accept: "application/json", "user-agent": "armory", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "manual",
      signal,
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const host = new URL(url).host;
    throw new ProviderError(
      504,
      timedOut ? `${providerName} (${host}) did not answer within ${PROVIDER_TIMEOUT_MS / 1000} s` : `${providerName} (${host}) could not be reached`,
    );
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new ProviderError(502, `${providerName} answered with a redirect (${res.status}); Armory does not follow redirects to a provider API: check its API URL`);
  }
  const text = await readBounded(res, providerName);
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  return { status: res.status, body: parsed };
}

/** The provider's own words for a refusal, when it gave some (never echoing request headers). */
export function providerMessage(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof b.message === "string") parts.push(b.message);
  else if (Array.isArray(b.message)) parts.push(...b.message.filter((m): m is string => typeof m === "string"));
  else if (b.message && typeof b.message === "object") {
    for (const [k, v] of Object.entries(b.message as Record<string, unknown>)) {
      if (Array.isArray(v)) parts.push(`${k} ${v.filter((m) => typeof m === "string").join(", ")}`);
    }
  }
  if (typeof b.error === "string") parts.push(b.error);
  if (Array.isArray(b.errors)) {
    for (const e of b.errors) {
      if (typeof e === "string") parts.push(e);
      else if (e && typeof e === "object" && typeof (e as { message?: unknown }).message === "string") parts.push((e as { message: string }).message);
    }
  }
  const text = parts.join("; ").trim();
  return text ? text.slice(0, 300) : null;
}

/**
 * A provider's refusal as a ProviderError: what the status means for this provider (its 403 and
 * 404 sentences), followed by the provider's own words when it gave some.
 */
export function providerRefusal(providerName: string, status: number, body: unknown, says: { forbidden: string; notFound: string }): ProviderError {
  const said = providerMessage(body);
  const reason =
    status === 401
      ? `${providerName} refused the credential (401): check the token is valid`
      : status === 403
        ? `${providerName} refused the request (403): ${says.forbidden}`
        : status === 404
          ? `${says.notFound} (404)`
          : `${providerName} answered ${status}`;
  return new ProviderError(status, said ? `${reason}: ${said}` : reason);
}

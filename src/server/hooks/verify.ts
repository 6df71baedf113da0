// Proof that an inbound webhook request comes from a sender holding the hook's secret, checked
// over the raw body in constant time:
//   github  X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
//   hmac    X-Armory-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Armory-Timestamp>.<body>")>,
//           the timestamp (Unix seconds) within 5 minutes of Armory's clock
//   token   X-Armory-Hook-Token: <secret> (for senders that cannot sign)
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { HOOK_HEADERS, HOOK_TIMESTAMP_TOLERANCE_S, type HookVerify } from "../../contracts/hooks";

/** Equal strings in time independent of where they differ (both hashed first: lengths leak nothing). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

export function hmacHex(secret: string, data: Buffer | string): string {
  return createHmac("sha256", secret).update(data).digest("hex");
}

/** null when the request is verified; otherwise why not (said to the sender, never naming the expected value). */
export function verifyHookRequest(kind: HookVerify, secret: string, body: Buffer, headers: Headers, now: Date = new Date()): string | null {
  if (kind === "token") {
    const token = headers.get(HOOK_HEADERS.token);
    if (!token) return `The ${HOOK_HEADERS.token} header is missing.`;
    return sameSecret(token, secret) ? null : `The ${HOOK_HEADERS.token} header does not match this webhook's secret.`;
  }
  if (kind === "github") {
    const sig = headers.get(HOOK_HEADERS.githubSignature);
    if (!sig) return `The ${HOOK_HEADERS.githubSignature} header is missing.`;
    return sameSecret(sig.trim(), `sha256=${hmacHex(secret, body)}`) ? null : `The ${HOOK_HEADERS.githubSignature} signature does not match the body.`;
  }
  const sig = headers.get(HOOK_HEADERS.signature);
  const ts = headers.get(HOOK_HEADERS.timestamp);
  if (!sig) return `The ${HOOK_HEADERS.signature} header is missing.`;
  if (!ts || !/^\d{1,12}$/.test(ts.trim())) return `The ${HOOK_HEADERS.timestamp} header is missing or not Unix seconds.`;
  const skew = Math.abs(now.getTime() / 1000 - Number(ts.trim()));
  if (skew > HOOK_TIMESTAMP_TOLERANCE_S) return `The ${HOOK_HEADERS.timestamp} is more than ${HOOK_TIMESTAMP_TOLERANCE_S / 60} minutes from Armory's clock.`;
  const expected = `sha256=${hmacHex(secret, Buffer.concat([Buffer.from(`${ts.trim()}.`, "utf8"), body]))}`;
  return sameSecret(sig.trim(), expected) ? null : `The ${HOOK_HEADERS.signature} signature does not match the timestamp and body.`;
}

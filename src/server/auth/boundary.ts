// The HTTP boundary of better-auth's endpoints (/api/auth/*), as a plugin whose onRequest runs
// before any endpoint: state-changing requests from a foreign origin (or Sec-Fetch-Site:
// cross-site) are 403; JSON bodies are bounded (413), may not carry strings the database cannot
// store (NUL, lone surrogates: 400 instead of a 500 from the insert), and a user's name and
// email are bounded (400), so nobody is called by a 1 MB name.
import type { BetterAuthPlugin } from "better-auth";
import { BodyTooLarge, findUnstorableString, isForeignOrigin, readBodyLimited } from "../http-boundary";

export const USER_NAME_MAX = 100;
/** RFC 5321's limit on a forward path. */
export const EMAIL_MAX = 254;
/** Auth bodies are small (credentials, a name, an image URL): 1 MiB is far beyond any real one. */
export const AUTH_BODY_MAX_BYTES = 1024 * 1024;

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function refusal(status: number, code: string, message: string): { response: Response } {
  return { response: Response.json({ code, message }, { status }) };
}

/** The first problem of a JSON body for better-auth, or null. */
export function authBodyProblem(body: unknown): string | null {
  const found = findUnstorableString(body);
  if (found) return `${found.path ? `${found.path}: ` : ""}The request contains ${found.what}, which is not allowed.`;
  if (body && typeof body === "object") {
    const { name, email } = body as { name?: unknown; email?: unknown };
    if (typeof name === "string" && name.length > USER_NAME_MAX) return `name: A name may be at most ${USER_NAME_MAX} characters.`;
    if (typeof email === "string" && email.length > EMAIL_MAX) return `email: An email address may be at most ${EMAIL_MAX} characters.`;
  }
  return null;
}

export function authBoundary(opts: { publicUrl: string | undefined; trustProxy?: boolean }): BetterAuthPlugin {
  return {
    id: "armory-boundary",
    async onRequest(request) {
      if (!STATE_CHANGING.has(request.method)) return;
      if (isForeignOrigin(request.headers, opts.publicUrl, opts.trustProxy)) {
        return refusal(403, "FORBIDDEN", "Cross-site requests cannot change anything: this request came from another origin.");
      }
      if (!request.headers.get("content-type")?.toLowerCase().includes("json")) return;
      let bytes: Uint8Array | null;
      try {
        bytes = await readBodyLimited(request.clone(), AUTH_BODY_MAX_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLarge) return refusal(413, "PAYLOAD_TOO_LARGE", `The request body is larger than ${AUTH_BODY_MAX_BYTES} bytes.`);
        throw err;
      }
      if (!bytes?.byteLength) return;
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        return refusal(400, "BAD_REQUEST", "The request body is not valid JSON.");
      }
      const problem = authBodyProblem(body);
      if (problem) return refusal(400, "BAD_REQUEST", problem);
    },
  };
}

// Errors the domain layer throws on purpose. Procedures map them to HTTP statuses; nothing else
// about the failure leaks to the client.
import { TRPCError } from "@trpc/server";

export type DomainErrorCode =
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "CONFLICT"
  | "BAD_REQUEST"
  /** The content is bigger than a configured limit (413). */
  | "PAYLOAD_TOO_LARGE"
  /** Well-formed, but nothing can be done with it (422), e.g. no team member matched and there is no fallback. */
  | "UNPROCESSABLE_CONTENT"
  /** Something the action depends on is not ready (the Docker engine is down, an image is missing). */
  | "PRECONDITION_FAILED"
  /** The database is unavailable. */
  | "UNAVAILABLE"
  /** The Docker engine refused an otherwise valid request. */
  | "ENGINE_ERROR";

const DOMAIN_ERROR = Symbol.for("armory.DomainError");

export class DomainError extends Error {
  readonly [DOMAIN_ERROR] = true;
  // The custom server and the Next bundle each load their own copy of this module: recognise
  // domain errors from either copy.
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DOMAIN_ERROR] === true;
  }
  constructor(
    public readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (what: string) => new DomainError("NOT_FOUND", `${what} not found.`);
export const forbidden = (message: string) => new DomainError("FORBIDDEN", message);

const PG_UNAVAILABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "57P01", "57P03", "08006", "08001", "08000"]);

/** Maps domain, Prisma and connection errors to tRPC errors; anything else stays a 500. */
export function toTrpcError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (err instanceof DomainError) {
    const code =
      err.code === "UNAVAILABLE" ? "SERVICE_UNAVAILABLE" : err.code === "ENGINE_ERROR" ? "BAD_GATEWAY" : err.code;
    return new TRPCError({ code, message: err.message });
  }
  const e = err as { code?: string; name?: string; message?: string; cause?: unknown } | undefined;
  if (e?.code === "P2025") return new TRPCError({ code: "NOT_FOUND", message: "Not found." });
  if (e?.code === "P2002") return new TRPCError({ code: "CONFLICT", message: "That already exists." });
  const connCode = e?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  if ((connCode && PG_UNAVAILABLE.has(connCode)) || e?.name === "DatabaseUnavailableError" || /Can't reach database|connection terminated|is not queryable/i.test(e?.message ?? "")) {
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "The database is unavailable right now. Try again shortly." });
  }
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Internal error", cause: err });
}

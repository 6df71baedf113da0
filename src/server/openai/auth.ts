// Who calls the OpenAI-compatible endpoint: a machine token (`Authorization: Bearer arm_...`) and
// nothing else (no cookie sessions, so no cross-site surface), then the same checks as the tRPC
// procedures: the token's scope, its project limit, the owner's project role, and the agent
// permission (`chat`) by role or trust grant.
import { CLIENT_IP_HEADER } from "../auth";
import { checkProjectAccess } from "../api/middleware/project-access";
import { DomainError } from "../domain/errors";
import type { ProjectRole } from "../domain/roles";
import { ACCOUNT_DISABLED } from "../instance/door";
import type { Services } from "../services";
import { decideAgentPermission, type AgentRef, type TrustDecision } from "../trust/grants";
import { writeSecurityEvent } from "../trust/security-log";
import { authenticateToken, parseBearer, type TokenIdentity, type TokenScope } from "../trust/tokens";
import { auditCaller, writeAuditEvent, type AuditEntryInput } from "../trust/audit";
import { OpenaiError, notFoundError, permissionDenied, unauthorized } from "./errors";

export interface OpenaiCaller {
  user: { id: string; email: string };
  token: TokenIdentity;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

export interface RequestInfo {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  action: string;
}

export function requestInfo(req: Request, action: string): RequestInfo {
  return {
    requestId: req.headers.get("x-request-id") ?? crypto.randomUUID(),
    ip: req.headers.get(CLIENT_IP_HEADER),
    userAgent: req.headers.get("user-agent"),
    action,
  };
}

/**
 * The token's caller, or an OpenaiError: 401 (no, bad, revoked or expired token; a disabled
 * owner), 429 past the failed-attempt limit. Refusals go to the instance's security log (the
 * caller is unknown, so never into a project's audit log).
 */
export async function authenticate(services: Services, req: Request, info: RequestInfo): Promise<OpenaiCaller> {
  const prisma = services.db.prisma;
  const refuse = async (err: OpenaiError): Promise<never> => {
    await writeSecurityEvent(prisma, {
      action: info.action,
      reason: err.message,
      outcome: err.status === 429 ? "TOO_MANY_REQUESTS" : "UNAUTHORIZED",
      ip: info.ip,
      userAgent: info.userAgent,
      requestId: info.requestId,
    }).catch((e: unknown) => services.log.error({ err: e }, "could not write the security log entry"));
    throw err;
  };
  const presented = parseBearer(req.headers.get("authorization"));
  if (!presented) {
    return refuse(unauthorized("Send a machine token as `Authorization: Bearer <token>` (create one under Tokens & access, with the chat permission on the agents it should talk to)."));
  }
  const result = await authenticateToken(prisma, presented, { ip: info.ip, rateLimit: services.config.tokenFailRateLimit });
  if (!result.ok) {
    return refuse(result.status === 429 ? new OpenaiError(429, result.message, "rate_limit_error", "rate_limit_exceeded") : unauthorized(result.message));
  }
  const user = await prisma.user.findUnique({ where: { id: result.userId }, select: { id: true, email: true, disabledAt: true } });
  if (!user) return refuse(unauthorized("Invalid token."));
  if (user.disabledAt) return refuse(unauthorized(ACCOUNT_DISABLED));
  return { user: { id: user.id, email: user.email }, token: result.token, requestId: info.requestId, ip: info.ip, userAgent: info.userAgent };
}

/** The audit entry of a call by this caller (the rest filled in by the caller of this). */
export function auditBase(caller: OpenaiCaller, action: string): Pick<AuditEntryInput, "userId" | "userEmail" | "tokenId" | "tokenPrefix" | "requestId" | "ip" | "userAgent" | "action" | "type"> {
  return { ...auditCaller(caller), action, type: "mutation" };
}

/** A refused call of a known caller: one audit entry (allowed false), then the error. */
export async function refuseAudited(services: Services, caller: OpenaiCaller, action: string, err: OpenaiError, extra: Partial<AuditEntryInput> = {}): Promise<never> {
  await writeAuditEvent(services.db.prisma, {
    ...auditBase(caller, action),
    allowed: false,
    reason: err.message,
    outcome: err.status === 404 ? "NOT_FOUND" : "FORBIDDEN",
    ...extra,
  }).catch((e: unknown) => services.log.error({ err: e }, "could not write the audit entry"));
  throw err;
}

/**
 * The token's scope (`read` to list models, `write` to send messages, as for tRPC queries and
 * mutations), then the project: its limit on the token, the owner's membership (403 when not a
 * member, 404 for a project that does not exist).
 */
export async function projectAccess(services: Services, caller: OpenaiCaller, projectId: string, scope: TokenScope, action: string): Promise<ProjectRole> {
  if (!caller.token.scopes.includes(scope)) {
    await refuseAudited(services, caller, action, permissionDenied(`This token lacks the ${scope} scope (it has: ${caller.token.scopes.join(", ") || "none"}).`), { projectId });
  }
  try {
    return await checkProjectAccess({ services, user: caller.user, token: caller.token }, projectId, "viewer");
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    if (err.code === "NOT_FOUND") throw notFoundError("No project has this id.", "project_not_found");
    return refuseAudited(services, caller, action, permissionDenied(err.message), { projectId });
  }
}

/** May this caller chat with the agent (its role, or a trust grant for the user, the token or the role)? */
export function chatDecision(services: Services, caller: OpenaiCaller, role: ProjectRole, agent: AgentRef): Promise<TrustDecision> {
  return decideAgentPermission(services.db.prisma, { userId: caller.user.id, tokenId: caller.token.id, role }, agent, "chat");
}

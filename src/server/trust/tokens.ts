// Machine tokens: `arm_<prefix>_<secret>`. Only the SHA-256 of the whole string is stored; the
// prefix (12 hex characters, unique) finds the row and is what lists and audit entries show.
// Verification compares hashes in constant time, and failed attempts are rate-limited per client
// address in the same table better-auth keeps its sign-in counters in.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "../db";
import { DomainError, notFound } from "../domain/errors";
import { publishAccessChange } from "./access-events";

import { TOKEN_SCOPES, type TokenScope } from "./vocabulary";

export { TOKEN_SCOPES, type TokenScope } from "./vocabulary";

const TOKEN_RE = /^arm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** What a request authenticated by a token carries in its context. */
export interface TokenIdentity {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  /** Empty: every project of the owner. */
  projectIds: string[];
  /** When the token stops working by itself (open streams end then). */
  expiresAt: Date | null;
}

export interface TokenSummary {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  projectIds: string[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  rotatedAt: Date | null;
  createdAt: Date;
  /** active | expired | revoked */
  state: "active" | "expired" | "revoked";
}

type TokenRow = Omit<TokenSummary, "state" | "scopes"> & { scopes: string[] };

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function newSecret(): { token: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString("hex");
  const token = `arm_${prefix}_${randomBytes(32).toString("base64url")}`;
  return { token, prefix, hash: hashToken(token) };
}

function summarize(row: TokenRow, now = new Date()): TokenSummary {
  const state = row.revokedAt ? "revoked" : row.expiresAt && row.expiresAt <= now ? "expired" : "active";
  return { ...row, scopes: row.scopes.filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s)), state };
}

const summarySelect = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  projectIds: true,
  expiresAt: true,
  lastUsedAt: true,
  revokedAt: true,
  rotatedAt: true,
  createdAt: true,
} as const;

export async function listTokens(prisma: PrismaClient, userId: string): Promise<TokenSummary[]> {
  const rows = await prisma.apiToken.findMany({ where: { userId }, select: summarySelect, orderBy: { createdAt: "desc" } });
  return rows.map((r) => summarize(r));
}

export interface CreateTokenInput {
  name: string;
  scopes: TokenScope[];
  projectIds?: string[];
  expiresAt?: Date | null;
}

/** Creates a token; the returned `token` string is the only time the secret exists outside the caller. */
export async function createToken(
  prisma: PrismaClient,
  userId: string,
  input: CreateTokenInput,
): Promise<{ token: string; summary: TokenSummary }> {
  if (input.expiresAt && input.expiresAt <= new Date()) {
    throw new DomainError("BAD_REQUEST", "expiresAt must be in the future");
  }
  const projectIds = [...new Set(input.projectIds ?? [])];
  if (projectIds.length) {
    const memberOf = await prisma.projectMember.count({ where: { userId, projectId: { in: projectIds } } });
    if (memberOf !== projectIds.length) throw new DomainError("BAD_REQUEST", "projectIds: you can only scope a token to projects you are a member of");
  }
  const { token, prefix, hash } = newSecret();
  const row = await prisma.apiToken.create({
    data: { userId, name: input.name, prefix, hash, scopes: [...new Set(input.scopes)], projectIds, expiresAt: input.expiresAt ?? null },
    select: summarySelect,
  });
  return { token, summary: summarize(row) };
}

/** A new secret for the same token (name, scopes, expiry kept); the old secret stops working at once. */
export async function rotateToken(prisma: PrismaClient, userId: string, tokenId: string): Promise<{ token: string; summary: TokenSummary }> {
  const existing = await prisma.apiToken.findFirst({ where: { id: tokenId, userId }, select: { revokedAt: true } });
  if (!existing) throw notFound("Token");
  if (existing.revokedAt) throw new DomainError("PRECONDITION_FAILED", "This token is revoked; create a new one instead.");
  const { token, prefix, hash } = newSecret();
  const row = await prisma.apiToken.update({
    where: { id: tokenId },
    data: { prefix, hash, rotatedAt: new Date() },
    select: summarySelect,
  });
  publishAccessChange({ kind: "token", tokenId, userId });
  return { token, summary: summarize(row) };
}

export async function revokeToken(prisma: PrismaClient, userId: string, tokenId: string): Promise<TokenSummary> {
  const existing = await prisma.apiToken.findFirst({ where: { id: tokenId, userId }, select: { revokedAt: true } });
  if (!existing) throw notFound("Token");
  const row = await prisma.apiToken.update({
    where: { id: tokenId },
    data: { revokedAt: existing.revokedAt ?? new Date() },
    select: summarySelect,
  });
  publishAccessChange({ kind: "token", tokenId, userId });
  return summarize(row);
}

export function parseBearer(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

export interface TokenAuthOptions {
  /** Client address, for the failed-attempt limit. */
  ip: string | null;
  rateLimit: { max: number; windowSeconds: number };
}

export type TokenAuthResult =
  | { ok: true; userId: string; token: TokenIdentity }
  | { ok: false; status: 401 | 429; message: string };

const DUMMY_HASH = Buffer.alloc(32);
/** lastUsedAt is written at most this often per token (one write per call would dominate). */
const LAST_USED_RESOLUTION_MS = 60_000;

function rateKey(ip: string | null): string {
  return `armory-token-fail:${ip ?? "unknown"}`;
}

async function tooManyFailures(prisma: PrismaClient, ip: string | null, opts: TokenAuthOptions["rateLimit"]): Promise<boolean> {
  const row = await prisma.rateLimit.findUnique({ where: { key: rateKey(ip) } });
  if (!row) return false;
  const fresh = Date.now() - Number(row.lastRequest) < opts.windowSeconds * 1000;
  return fresh && row.count >= opts.max;
}

async function recordFailure(prisma: PrismaClient, ip: string | null, opts: TokenAuthOptions["rateLimit"]): Promise<void> {
  const key = rateKey(ip);
  const now = Date.now();
  const row = await prisma.rateLimit.findUnique({ where: { key } });
  if (!row) {
    await prisma.rateLimit.upsert({ where: { key }, create: { key, count: 1, lastRequest: BigInt(now) }, update: { count: { increment: 1 } } });
  } else if (now - Number(row.lastRequest) >= opts.windowSeconds * 1000) {
    await prisma.rateLimit.update({ where: { key }, data: { count: 1, lastRequest: BigInt(now) } });
  } else {
    await prisma.rateLimit.update({ where: { key }, data: { count: { increment: 1 } } });
  }
}

/**
 * Verifies a presented token. Malformed, unknown, revoked and expired tokens are 401 (with a
 * message that says which, except that unknown and wrong secrets look the same); past the
 * failed-attempt limit for the client address, a failing token is 429. A valid token always
 * authenticates, whatever others sent from the same address (a lockout must not lock out the
 * people behind a shared address; guessing a 256-bit secret is not what the limit stops).
 */
export async function authenticateToken(prisma: PrismaClient, presented: string, opts: TokenAuthOptions): Promise<TokenAuthResult> {
  const fail = async (message: string): Promise<TokenAuthResult> => {
    if (await tooManyFailures(prisma, opts.ip, opts.rateLimit)) {
      return { ok: false, status: 429, message: "Too many failed token attempts from this address; try again later." };
    }
    await recordFailure(prisma, opts.ip, opts.rateLimit);
    return { ok: false, status: 401, message };
  };
  const m = TOKEN_RE.exec(presented);
  const row = m
    ? await prisma.apiToken.findUnique({
        where: { prefix: m[1]! },
        select: { id: true, userId: true, name: true, prefix: true, hash: true, scopes: true, projectIds: true, expiresAt: true, revokedAt: true, lastUsedAt: true },
      })
    : null;
  // Compare even when there is no row, so unknown prefixes cost the same as wrong secrets.
  const presentedHash = createHash("sha256").update(presented, "utf8").digest();
  const storedHash = row ? Buffer.from(row.hash, "hex") : DUMMY_HASH;
  const matches = storedHash.length === presentedHash.length && timingSafeEqual(storedHash, presentedHash) && !!row;
  if (!row || !matches) return fail("Invalid token.");
  if (row.revokedAt) return fail("This token has been revoked.");
  const now = new Date();
  if (row.expiresAt && row.expiresAt <= now) return fail("This token has expired.");
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  const { scopes } = summarize({ ...row, rotatedAt: null, createdAt: now });
  return {
    ok: true,
    userId: row.userId,
    token: { id: row.id, name: row.name, prefix: row.prefix, scopes, projectIds: row.projectIds, expiresAt: row.expiresAt },
  };
}

// Conversation continuity by the `user` field: (agent, the token owner, user key) names one chat
// session; every completion with the same key continues it. A deleted session takes its key with
// it (cascade), so the next call starts a new one.
import type { PrismaClient } from "../db";

export async function sessionForUser(prisma: PrismaClient, agentId: string, ownerId: string, userKey: string): Promise<string | null> {
  const row = await prisma.openaiUserSession.findUnique({ where: { agentId_ownerId_userKey: { agentId, ownerId, userKey } }, select: { sessionId: true } });
  return row?.sessionId ?? null;
}

/** Records the session a key started (a concurrent first call that won keeps its own). */
export async function rememberUserSession(prisma: PrismaClient, agentId: string, ownerId: string, userKey: string, sessionId: string): Promise<void> {
  await prisma.openaiUserSession
    .upsert({
      where: { agentId_ownerId_userKey: { agentId, ownerId, userKey } },
      create: { agentId, ownerId, userKey, sessionId },
      update: {},
    })
    .catch((err: unknown) => {
      if ((err as { code?: string }).code !== "P2002") throw err;
    });
}

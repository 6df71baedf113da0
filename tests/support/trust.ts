// Helpers for trust tests: agent rows without containers (permission checks run before any
// Docker call), tokens, and token-authenticated callers.
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import type { Services } from "@/server/services";
import { createToken, type CreateTokenInput } from "@/server/trust/tokens";

/** An agent row in the project (no container): enough for permission checks. */
export async function insertAgentRow(services: Services, projectId: string, name: string) {
  const prisma = services.db.prisma;
  const template = await prisma.template.findFirstOrThrow({ where: { projectId: null } });
  const id = crypto.randomUUID();
  return prisma.agent.create({
    data: {
      id,
      projectId,
      name,
      templateId: template.id,
      image: template.image,
      model: template.model,
      memoryMb: template.memoryMb,
      cpus: template.cpus,
      pidsLimit: template.pidsLimit,
      permissionMode: template.permissionMode,
      workspaceVolume: `armory-trust-test-workspace-${id}`,
      sessionVolume: `armory-trust-test-claude-${id}`,
    },
    select: { id: true, name: true, projectId: true },
  });
}

export async function makeToken(services: Services, userId: string, input: Partial<CreateTokenInput> = {}) {
  return createToken(services.db.prisma, userId, { name: "test token", scopes: ["read", "write"], ...input });
}

/** A caller authenticated by `Authorization: Bearer <token>` (through the real context). */
export async function tokenCaller(services: Services, token: string, requestId?: string) {
  return createCaller(
    await createContext({ services, headers: new Headers({ authorization: `Bearer ${token}`, "x-armory-client-ip": "10.9.9.9" }), requestId }),
  );
}

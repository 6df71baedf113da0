// Secrets of a project or of one agent: stored only as ciphertext, listed only by name, decrypted
// only to build a container's environment (agent secrets override project secrets).
import type { PrismaClient } from "../db";
import { DomainError, notFound } from "../domain/errors";
import { envNameProblem } from "../domain/env";
import { decryptSecret, encryptSecret, type MasterKey } from "./crypto";

/** The largest secret value accepted (UTF-8 bytes). */
export const SECRET_MAX_BYTES = 32 * 1024;
/** At most this many secrets per scope (a project, or one agent). */
export const SECRETS_PER_SCOPE_MAX = 200;

export interface SecretScope {
  projectId: string;
  /** null/undefined: a project secret, available to all of the project's agents. */
  agentId?: string | null;
}

export interface SecretInfo {
  name: string;
  scope: "project" | "agent";
  agentId: string | null;
  sizeBytes: number;
  createdAt: Date;
  updatedAt: Date;
}

const scopeKey = (s: SecretScope) => s.agentId ?? "project";
const aadOf = (projectId: string, scope: string, name: string) => `armory-secret:${projectId}/${scope}/${name}`;

/** The associated data an inbound webhook's secret is sealed with (binds it to its hook). */
export const inboundHookAad = (hookId: string) => `armory-inbound-hook:${hookId}`;

function humanBytes(n: number): string {
  return n < 1024 ? `${n} bytes` : `${(n / 1024).toFixed(1)} KiB`;
}

/** Why a value cannot be stored, or null. Never echoes the value. */
export function secretValueProblem(value: string): string | null {
  const size = Buffer.byteLength(value, "utf8");
  if (size === 0) return "A secret value must not be empty";
  if (size > SECRET_MAX_BYTES) {
    return `Secret values must be at most ${humanBytes(SECRET_MAX_BYTES)}; this one is ${humanBytes(size)}`;
  }
  if (value.includes("\0")) return "Secret values cannot contain NUL characters (environment variables cannot hold them)";
  return null;
}

export class SecretStore {
  private changeListeners: ((scope: SecretScope) => Promise<void>)[] = [];

  constructor(
    private readonly prisma: PrismaClient,
    private key: MasterKey,
  ) {}

  /** Called (and awaited) after every set and delete, e.g. to flag the containers made from the old values. */
  onChange(listener: (scope: SecretScope) => Promise<void>): void {
    this.changeListeners.push(listener);
  }

  private async changed(scope: SecretScope): Promise<void> {
    for (const l of this.changeListeners) await l(scope);
  }

  get keyId(): string {
    return this.key.id;
  }

  async list(scope: SecretScope): Promise<SecretInfo[]> {
    const rows = await this.prisma.secret.findMany({
      where: { projectId: scope.projectId, scope: scopeKey(scope) },
      select: { name: true, agentId: true, sizeBytes: true, createdAt: true, updatedAt: true },
      orderBy: { name: "asc" },
    });
    return rows.map((r) => ({ ...r, scope: r.agentId ? "agent" : "project" }));
  }

  async set(scope: SecretScope, name: string, value: string, userId: string | null): Promise<SecretInfo> {
    const nameProblem = envNameProblem(name);
    if (nameProblem) throw new DomainError("BAD_REQUEST", nameProblem);
    const valueProblem = secretValueProblem(value);
    if (valueProblem) throw new DomainError("BAD_REQUEST", valueProblem);
    const sk = scopeKey(scope);
    const exists = await this.prisma.secret.findUnique({
      where: { projectId_scope_name: { projectId: scope.projectId, scope: sk, name } },
      select: { id: true },
    });
    if (!exists) {
      const count = await this.prisma.secret.count({ where: { projectId: scope.projectId, scope: sk } });
      if (count >= SECRETS_PER_SCOPE_MAX) {
        throw new DomainError("BAD_REQUEST", `At most ${SECRETS_PER_SCOPE_MAX} secrets per ${scope.agentId ? "agent" : "project"}`);
      }
    }
    const data = {
      ciphertext: encryptSecret(this.key, value, aadOf(scope.projectId, sk, name)),
      keyId: this.key.id,
      sizeBytes: Buffer.byteLength(value, "utf8"),
    };
    const row = await this.prisma.secret.upsert({
      where: { projectId_scope_name: { projectId: scope.projectId, scope: sk, name } },
      create: { projectId: scope.projectId, agentId: scope.agentId ?? null, scope: sk, name, createdById: userId, ...data },
      update: data,
      select: { name: true, agentId: true, sizeBytes: true, createdAt: true, updatedAt: true },
    });
    await this.changed(scope);
    return { ...row, scope: row.agentId ? "agent" : "project" };
  }

  async delete(scope: SecretScope, name: string): Promise<void> {
    const res = await this.prisma.secret.deleteMany({ where: { projectId: scope.projectId, scope: scopeKey(scope), name } });
    if (!res.count) throw notFound(`Secret ${name.slice(0, 128)}`);
    await this.changed(scope);
  }

  /** Names of the secrets an agent's container gets (its own and its project's). */
  async namesFor(projectId: string, agentId: string): Promise<Set<string>> {
    const rows = await this.prisma.secret.findMany({
      where: { projectId, scope: { in: ["project", agentId] } },
      select: { name: true },
    });
    return new Set(rows.map((r) => r.name));
  }

  /** For listings: the project's secret names, and each agent's own. */
  async namesByAgent(projectId: string): Promise<{ project: Set<string>; agents: Map<string, Set<string>> }> {
    const rows = await this.prisma.secret.findMany({ where: { projectId }, select: { name: true, agentId: true } });
    const project = new Set<string>();
    const agents = new Map<string, Set<string>>();
    for (const r of rows) {
      if (!r.agentId) project.add(r.name);
      else {
        let set = agents.get(r.agentId);
        if (!set) agents.set(r.agentId, (set = new Set()));
        set.add(r.name);
      }
    }
    return { project, agents };
  }

  /** The decrypted environment for an agent's container: project secrets, then the agent's own over them. */
  async envFor(projectId: string, agentId: string): Promise<Record<string, string>> {
    const rows = await this.prisma.secret.findMany({
      where: { projectId, scope: { in: ["project", agentId] } },
      select: { name: true, scope: true, ciphertext: true, keyId: true },
    });
    rows.sort((a, b) => (a.scope === "project" ? 0 : 1) - (b.scope === "project" ? 0 : 1));
    const env: Record<string, string> = {};
    for (const r of rows) env[r.name] = this.decryptRow(projectId, r);
    return env;
  }

  /** One decrypted value as the agent sees it: its own secret of that name, else the project's; null when neither exists. */
  async valueFor(projectId: string, agentId: string, name: string): Promise<string | null> {
    const rows = await this.prisma.secret.findMany({
      where: { projectId, name, scope: { in: ["project", agentId] } },
      select: { name: true, scope: true, ciphertext: true, keyId: true },
    });
    const row = rows.find((r) => r.scope === agentId) ?? rows[0];
    return row ? this.decryptRow(projectId, row) : null;
  }

  /** One project secret's decrypted value (e.g. a webhook's signing key, read at send time); null when it does not exist. */
  async projectValue(projectId: string, name: string): Promise<string | null> {
    const row = await this.prisma.secret.findUnique({
      where: { projectId_scope_name: { projectId, scope: "project", name } },
      select: { name: true, scope: true, ciphertext: true, keyId: true },
    });
    return row ? this.decryptRow(projectId, row) : null;
  }

  /** Does the project have a secret of this name? */
  async projectHas(projectId: string, name: string): Promise<boolean> {
    return (await this.prisma.secret.count({ where: { projectId, scope: "project", name } })) > 0;
  }

  private decryptRow(projectId: string, r: { name: string; scope: string; ciphertext: string; keyId: string }): string {
    if (r.keyId !== this.key.id) {
      throw new DomainError(
        "PRECONDITION_FAILED",
        `Secret ${r.name} was encrypted with another key (${r.keyId}) than the current ARMORY_SECRET_KEY (${this.key.id}). Restore the previous key, or set the secret again.`,
      );
    }
    try {
      return decryptSecret(this.key, r.ciphertext, aadOf(projectId, r.scope, r.name));
    } catch {
      throw new DomainError("PRECONDITION_FAILED", `Secret ${r.name} cannot be decrypted (damaged or altered in the database). Set it again.`);
    }
  }

  /**
   * Encrypts a secret that lives in another table (an inbound webhook's secret) under the master
   * key; `aad` binds it to its row. Store both fields; `rotate` re-encrypts those rows too.
   */
  seal(value: string, aad: string): { ciphertext: string; keyId: string } {
    return { ciphertext: encryptSecret(this.key, value, aad), keyId: this.key.id };
  }

  /** Decrypts what `seal` made; a wrong key or damaged ciphertext is a clear PRECONDITION_FAILED. */
  open(sealed: { ciphertext: string; keyId: string }, aad: string, what: string): string {
    if (sealed.keyId !== this.key.id) {
      throw new DomainError("PRECONDITION_FAILED", `${what} was encrypted with another key (${sealed.keyId}) than the current ARMORY_SECRET_KEY (${this.key.id}). Restore the previous key, or rotate its secret.`);
    }
    try {
      return decryptSecret(this.key, sealed.ciphertext, aad);
    } catch {
      throw new DomainError("PRECONDITION_FAILED", `${what} cannot be decrypted (damaged or altered in the database). Rotate its secret.`);
    }
  }

  /** Secrets stored under a key other than the current one (a lost or changed ARMORY_SECRET_KEY). */
  async foreignKeyCount(): Promise<number> {
    return this.prisma.secret.count({ where: { keyId: { not: this.key.id } } });
  }

  /**
   * Re-encrypts every secret from the current key to `next` in one transaction, then uses `next`.
   * Fails (changing nothing) if any secret does not decrypt under the current key.
   */
  async rotate(next: MasterKey): Promise<{ reencrypted: number }> {
    const rows = await this.prisma.secret.findMany({ select: { id: true, projectId: true, name: true, scope: true, ciphertext: true, keyId: true } });
    const updates = rows.map((r) => {
      const value = this.decryptRow(r.projectId, r);
      return this.prisma.secret.update({
        where: { id: r.id },
        data: { ciphertext: encryptSecret(next, value, aadOf(r.projectId, r.scope, r.name)), keyId: next.id },
      });
    });
    // Inbound webhooks' secrets (sealed by `seal`, bound to their hook's id).
    const hooks = await this.prisma.inboundHook.findMany({ select: { id: true, secretCiphertext: true, secretKeyId: true } });
    const hookUpdates = hooks.map((h) => {
      const value = this.open({ ciphertext: h.secretCiphertext, keyId: h.secretKeyId }, inboundHookAad(h.id), `The secret of webhook ${h.id}`);
      return this.prisma.inboundHook.update({ where: { id: h.id }, data: { secretCiphertext: encryptSecret(next, value, inboundHookAad(h.id)), secretKeyId: next.id } });
    });
    await this.prisma.$transaction([...updates, ...hookUpdates]);
    this.key = next;
    return { reencrypted: rows.length + hooks.length };
  }
}

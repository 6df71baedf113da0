// Model providers: instance configuration the admin registers (Admin → Providers), never user
// input. A template names one by name; the model gateway forwards only to registered, confirmed
// providers (or to the operator's own upstream, ANTHROPIC_BASE_URL, shown as the read-only
// built-in entry "armory"). Providers migrated from templates' old free-form URLs start
// unconfirmed: the gateway refuses them until an admin confirms them. Plain functions over Prisma;
// the procedures' middleware has already checked who may call them.
import type { Config } from "../config";
import type { PrismaClient } from "../db";
import type { Provider } from "../db/generated/client";
import { DomainError, notFound } from "../domain/errors";
import {
  BUILTIN_PROVIDER,
  type ProviderCreateInput,
  type ProviderPatch,
  type ProviderView,
} from "../api/routers/provider/schemas";

export { BUILTIN_PROVIDER };

export const ADMIN_REGISTERS_PROVIDERS = "an instance admin registers providers under Admin → Providers";

type Db = Pick<PrismaClient, "provider" | "template">;

function builtInEntry(config: Config, templateCount: number): ProviderView {
  return {
    id: BUILTIN_PROVIDER,
    name: BUILTIN_PROVIDER,
    baseUrl: config.model.baseUrl,
    keySecret: null,
    allowedModels: [],
    confirmed: true,
    builtIn: true,
    demo: !config.model.apiKey,
    templateCount,
    templates: null,
    createdAt: null,
    updatedAt: null,
  };
}

type ProviderWithUse = Provider & {
  templates: { id: string; name: string; projectId: string | null; project: { name: string } | null }[];
};

function toView(row: ProviderWithUse, admin: boolean): ProviderView {
  return {
    id: row.id,
    name: row.name,
    baseUrl: row.baseUrl,
    keySecret: row.keySecret,
    allowedModels: row.allowedModels,
    confirmed: row.confirmed,
    builtIn: false,
    demo: false,
    templateCount: row.templates.length,
    templates: admin
      ? row.templates.map((t) => ({ id: t.id, name: t.name, projectId: t.projectId, projectName: t.project?.name ?? null }))
      : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const withUse = {
  templates: {
    select: { id: true, name: true, projectId: true, project: { select: { name: true } } },
    orderBy: { name: "asc" as const },
  },
};

/** The built-in entry first, then registered providers by name (unconfirmed ones included, flagged). */
export async function listProviders(prisma: Db, config: Config, opts: { admin: boolean }): Promise<ProviderView[]> {
  const [rows, builtInUse] = await Promise.all([
    prisma.provider.findMany({ include: withUse, orderBy: { name: "asc" } }),
    prisma.template.count({ where: { providerId: null } }),
  ]);
  return [builtInEntry(config, builtInUse), ...rows.map((r) => toView(r, opts.admin))];
}

export async function getProvider(prisma: Db, config: Config, providerId: string, opts: { admin: boolean }): Promise<ProviderView> {
  if (providerId === BUILTIN_PROVIDER) {
    return builtInEntry(config, await prisma.template.count({ where: { providerId: null } }));
  }
  const row = await prisma.provider.findUnique({ where: { id: providerId }, include: withUse });
  if (!row) throw notFound("Provider");
  return toView(row, opts.admin);
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === "P2002";
}

const nameTaken = (name: string) => new DomainError("CONFLICT", `A provider named ${name} is already registered`);

export async function createProvider(prisma: Db, input: ProviderCreateInput, createdById: string): Promise<ProviderView> {
  if (await prisma.provider.findUnique({ where: { name: input.name }, select: { id: true } })) throw nameTaken(input.name);
  try {
    const row = await prisma.provider.create({
      data: {
        name: input.name,
        baseUrl: input.baseUrl,
        keySecret: input.keySecret ?? null,
        allowedModels: input.allowedModels ?? [],
        confirmed: true,
        createdById,
      },
      include: withUse,
    });
    return toView(row, true);
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

/** Templates of this provider whose model the allowed list would exclude. */
function excluded(templates: { name: string; model: string; project: { name: string } | null }[], allowed: string[]) {
  if (!allowed.length) return [];
  return templates.filter((t) => !allowed.includes(t.model));
}

export async function updateProvider(prisma: Db, providerId: string, patch: ProviderPatch): Promise<ProviderView> {
  const row = await prisma.provider.findUnique({
    where: { id: providerId },
    include: { templates: { select: { name: true, model: true, project: { select: { name: true } } } } },
  });
  if (!row) throw notFound("Provider");
  if (patch.name !== undefined && patch.name !== row.name) {
    if (await prisma.provider.findUnique({ where: { name: patch.name }, select: { id: true } })) throw nameTaken(patch.name);
  }
  if (patch.allowedModels !== undefined) {
    const out = excluded(row.templates, patch.allowedModels);
    if (out.length) {
      const list = out.slice(0, 5).map((t) => `${t.name} (${t.model}${t.project ? `, project ${t.project.name}` : ", built-in"})`);
      throw new DomainError(
        "CONFLICT",
        `Templates use models this list leaves out: ${list.join("; ")}${out.length > 5 ? ` and ${out.length - 5} more` : ""}. Change their model first, or allow it.`,
      );
    }
  }
  try {
    const updated = await prisma.provider.update({
      where: { id: providerId },
      data: {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.baseUrl !== undefined ? { baseUrl: patch.baseUrl } : {}),
        ...(patch.keySecret !== undefined ? { keySecret: patch.keySecret } : {}),
        ...(patch.allowedModels !== undefined ? { allowedModels: patch.allowedModels } : {}),
      },
      include: withUse,
    });
    return toView(updated, true);
  } catch (err) {
    if (isUniqueViolation(err) && patch.name) throw nameTaken(patch.name);
    throw err;
  }
}

/** Marks a migrated provider as registered: the gateway forwards to it from now on. */
export async function confirmProvider(prisma: Db, providerId: string): Promise<ProviderView> {
  const row = await prisma.provider.findUnique({ where: { id: providerId }, select: { id: true } });
  if (!row) throw notFound("Provider");
  return toView(await prisma.provider.update({ where: { id: providerId }, data: { confirmed: true }, include: withUse }), true);
}

/** Deletes a provider no template uses; one still in use is a 409 naming the templates. */
export async function deleteProvider(prisma: Db, providerId: string): Promise<{ id: string; name: string; deleted: true }> {
  const row = await prisma.provider.findUnique({ where: { id: providerId }, include: withUse });
  if (!row) throw notFound("Provider");
  const inUse = (templates: ProviderWithUse["templates"]) => {
    const names = templates.slice(0, 5).map((t) => (t.project ? `${t.name} (project ${t.project.name})` : `${t.name} (built-in)`));
    return new DomainError(
      "CONFLICT",
      `Provider ${row.name} is used by ${templates.length} template${templates.length === 1 ? "" : "s"}: ${names.join(", ")}${templates.length > 5 ? ", …" : ""}. Point them at another provider first.`,
    );
  };
  if (row.templates.length) throw inUse(row.templates);
  try {
    await prisma.provider.delete({ where: { id: providerId } });
  } catch (err) {
    // A template started using it in between (the foreign key restricts the delete).
    if ((err as { code?: string }).code === "P2003") {
      const again = await prisma.provider.findUnique({ where: { id: providerId }, include: withUse });
      throw inUse(again?.templates ?? []);
    }
    throw err;
  }
  return { id: row.id, name: row.name, deleted: true };
}

/**
 * The provider a template names, checked: it must be registered, and the template's model must be
 * among its allowed models when it lists any. null or "armory": Armory's own upstream.
 */
export async function resolveTemplateProvider(
  prisma: Pick<PrismaClient, "provider">,
  name: string | null,
  model: string,
): Promise<string | null> {
  if (name === null || name === BUILTIN_PROVIDER) return null;
  const row = await prisma.provider.findUnique({ where: { name }, select: { id: true, allowedModels: true } });
  if (!row) throw new DomainError("BAD_REQUEST", `Provider ${name} is not registered; ${ADMIN_REGISTERS_PROVIDERS}`);
  if (row.allowedModels.length && !row.allowedModels.includes(model)) {
    throw new DomainError("BAD_REQUEST", `Model ${model} is not allowed with provider ${name} (allowed: ${row.allowedModels.join(", ")})`);
  }
  return row.id;
}

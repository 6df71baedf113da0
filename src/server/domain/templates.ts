// Templates: the recipes agents are created from. Built-in templates live in templates/*.yaml
// and are synced into the database at every start (projectId null, read-only through the API);
// projects add their own, new or copied from another template. Plain async functions over
// Prisma; authorization has already happened in the procedure's middleware.
import { createHash } from "node:crypto";
import { repositoryInput, type RepositoryInput } from "../../contracts/git";
import fs from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import {
  allowedTools,
  cpus,
  DEFAULT_IMAGE,
  displayName,
  image,
  instructions,
  memoryMb,
  model,
  permissionMode,
  personality,
  pidsLimit,
  egressAllowlist,
  providerName,
  templateDescription,
  templateEnv,
  templateName,
  volumes,
  type TemplateCreateInput,
  type TemplatePatch,
  type TemplateView,
  type VolumeMount,
} from "../api/routers/template/schemas";
import { toolPolicySchema, type ToolPolicy } from "../../contracts/approvals";
import { placementSchema, type Placement } from "../../contracts/placement";
import { policyFrom } from "../approvals/policy";
import type { PrismaClient } from "../db";
import { Prisma, type Template } from "../db/generated/client";
import { ADMIN_REGISTERS_PROVIDERS, BUILTIN_PROVIDER, resolveTemplateProvider } from "../providers/service";
import { DomainError, forbidden, notFound } from "./errors";

export type { TemplateView, VolumeMount };

/** Template files larger than this are refused (a template is a few KiB). */
export const TEMPLATE_FILE_MAX_BYTES = 1024 * 1024;

export const BUILT_IN_READ_ONLY =
  "Built-in templates come from templates/*.yaml. Copy it into the project to change it.";

/** The fields a template holds, as stored (everything but identity and bookkeeping). */
export interface TemplateFields {
  name: string;
  displayName: string;
  description: string;
  image: string;
  model: string;
  /** The registered provider's name; null: Armory's own upstream (stored as providerId). */
  provider: string | null;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  env: Record<string, string>;
  instructions: string;
  personality: string;
  permissionMode: TemplateView["permissionMode"];
  allowedTools: string[];
  /** Claude Code permission rules: `ask` raises an approval, `deny` never runs, `allow` runs without asking. */
  toolPolicy: ToolPolicy;
  volumes: VolumeMount[];
  egressAllowlist: string[];
  /** A git repository its agents clone into /workspace; null: none. */
  repository: RepositoryInput | null;
  /** Swarm placement constraints its agents add (stored as placementConstraints). */
  placement: Placement;
}

// ---------- template files ----------

const FILE_FIELDS = [
  "name",
  "displayName",
  "description",
  "image",
  "model",
  "provider",
  "resources",
  "env",
  "permissionMode",
  "allowedTools",
  "toolPolicy",
  "instructions",
  "personality",
  "volumes",
  "egressAllowlist",
  "repository",
  "placement",
] as const;

function unknownKeysMessage(keys: PropertyKey[], known: readonly string[]): string {
  const list = keys.map((k) => String(k)).join(", ");
  return `unknown field${keys.length === 1 ? "" : "s"} ${list} (allowed: ${known.join(", ")})`;
}

/** YAML turns `DEBUG: 1` into a number; env values are strings, so scalars are taken as written. */
function envScalarsToStrings(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === "number" || typeof v === "boolean" ? String(v) : v]),
  );
}

const RESOURCE_FIELDS = ["memoryMb", "cpus", "pidsLimit"] as const;

/** One templates/*.yaml file. Field rules are the API's (see routers/template/schemas.ts). */
export const templateFileSchema = z.strictObject(
  {
    name: templateName,
    displayName: displayName.optional(),
    description: templateDescription.default(""),
    image: image.default(DEFAULT_IMAGE),
    model,
    // The name of a registered provider (Admin → Providers): base URLs are not template input.
    provider: z
      .any()
      .refine((v) => v === null || v === undefined || typeof v !== "object", {
        message: `provider is now the name of a registered provider (e.g. provider: openrouter), not a base URL and key secret; ${ADMIN_REGISTERS_PROVIDERS}`,
        abort: true,
      })
      .pipe(providerName.nullable())
      .optional(),
    resources: z.strictObject(
      { memoryMb, cpus, pidsLimit },
      {
        error: (iss) =>
          iss.code === "unrecognized_keys"
            ? unknownKeysMessage(iss.keys, RESOURCE_FIELDS)
            : "resources is required: a mapping with memoryMb, cpus and pidsLimit",
      },
    ),
    env: z.preprocess(envScalarsToStrings, templateEnv).default({}),
    permissionMode: permissionMode.default("acceptEdits"),
    allowedTools: allowedTools.default([]),
    toolPolicy: toolPolicySchema.strict().default({ allow: [], ask: [], deny: [] }),
    instructions: instructions.default(""),
    personality: personality.default(""),
    volumes: volumes.default([]),
    egressAllowlist: egressAllowlist.default([]),
    repository: repositoryInput.nullable().default(null),
    placement: placementSchema.default({ constraints: [] }),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? unknownKeysMessage(iss.keys, FILE_FIELDS)
        : "the file must be a YAML mapping of template fields (name, model, resources, …)",
  },
);
export type TemplateFile = z.output<typeof templateFileSchema>;

function fieldsFromFile(t: TemplateFile): TemplateFields {
  return {
    name: t.name,
    displayName: t.displayName ?? t.name,
    description: t.description,
    image: t.image,
    model: t.model,
    provider: t.provider && t.provider !== BUILTIN_PROVIDER ? t.provider : null,
    memoryMb: t.resources.memoryMb,
    cpus: t.resources.cpus,
    pidsLimit: t.resources.pidsLimit,
    env: t.env,
    instructions: t.instructions,
    personality: t.personality,
    permissionMode: t.permissionMode,
    allowedTools: t.allowedTools,
    toolPolicy: t.toolPolicy,
    volumes: t.volumes,
    egressAllowlist: t.egressAllowlist,
    repository: t.repository,
    placement: t.placement,
  };
}

/** "resources.memoryMb", "volumes[0].mountPath". */
function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, "");
}

/** zod issues as "field.path: message; other: message". */
export function describeTemplateIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message)).join("; ");
}

/** How a template file is named in messages: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

export interface LoadedTemplateFile {
  /** The file as named in messages and stored in sourceFile, e.g. templates/reviewer.yaml. */
  file: string;
  /** sha256 (hex) of the file's bytes. */
  hash: string;
  fields: TemplateFields;
}

export interface TemplateFileError {
  file: string;
  /** Names the file and the field, e.g. "templates/reviewer.yaml: resources.memoryMb: memoryMb must be at least 128 MB". */
  message: string;
}

export interface LoadedTemplateFiles {
  dir: string;
  /** The directory does not exist (no built-in templates). */
  missing: boolean;
  /** Why the directory could not be listed, when it exists but cannot be read. */
  unreadable?: string;
  templates: LoadedTemplateFile[];
  errors: TemplateFileError[];
}

/** Parses one template file's text; throws nothing, answers the fields or a clear message. */
export function parseTemplateFile(
  file: string,
  text: string,
): { ok: true; fields: TemplateFields } | { ok: false; message: string } {
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : "";
    const what = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    return { ok: false, message: `${file}: not valid YAML${where}: ${what}` };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, message: `${file}: not valid YAML: ${(err as Error).message}` };
  }
  if (data === null || data === undefined) return { ok: false, message: `${file}: the file is empty` };
  const parsed = templateFileSchema.safeParse(data);
  if (!parsed.success) return { ok: false, message: `${file}: ${describeTemplateIssues(parsed.error)}` };
  return { ok: true, fields: fieldsFromFile(parsed.data) };
}

/**
 * Reads and validates every *.yaml / *.yml file in `dir` (sorted by file name). Invalid files
 * come back as errors naming the file and the field; a second file defining an already defined
 * template name is an error too.
 */
export async function loadTemplateFiles(dir: string): Promise<LoadedTemplateFiles> {
  const out: LoadedTemplateFiles = { dir, missing: false, templates: [], errors: [] };
  let names: string[];
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    names = entries
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") out.missing = true;
    else out.unreadable = (err as Error).message;
    return out;
  }
  const definedIn = new Map<string, string>();
  for (const name of names) {
    const file = displayPath(path.join(dir, name));
    let bytes: Buffer;
    try {
      const stat = await fs.stat(path.join(dir, name));
      if (stat.size > TEMPLATE_FILE_MAX_BYTES) {
        out.errors.push({ file, message: `${file}: the file is larger than ${TEMPLATE_FILE_MAX_BYTES / 1024 / 1024} MiB` });
        continue;
      }
      bytes = await fs.readFile(path.join(dir, name));
    } catch (err) {
      out.errors.push({ file, message: `${file}: cannot be read (${(err as Error).message})` });
      continue;
    }
    const result = parseTemplateFile(file, bytes.toString("utf8"));
    if (!result.ok) {
      out.errors.push({ file, message: result.message });
      continue;
    }
    const other = definedIn.get(result.fields.name);
    if (other) {
      out.errors.push({ file, message: `${file}: name: the template ${result.fields.name} is already defined in ${other}` });
      continue;
    }
    definedIn.set(result.fields.name, file);
    out.templates.push({ file, hash: createHash("sha256").update(bytes).digest("hex"), fields: result.fields });
  }
  return out;
}

// ---------- sync at start ----------

export interface SyncTemplatesLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SyncTemplatesResult {
  /** Template names. */
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Files that were not valid (each logged as a warning). */
  skipped: string[];
}

// Serialises syncs of several Armory processes starting on one PostgreSQL (built-in names are
// not covered by the (projectId, name) unique index, since NULLs are distinct).
const SYNC_LOCK_KEY = 0x41524d_01; // "ARM" 01

/** The row's columns: the provider by id (resolved and checked by resolveTemplateProvider). */
function toStored(fields: TemplateFields, providerId: string | null) {
  const { provider: _name, placement, ...rest } = fields;
  return {
    ...rest,
    placementConstraints: placement.constraints,
    providerId,
    env: fields.env as Prisma.InputJsonObject,
    toolPolicy: fields.toolPolicy as Prisma.InputJsonObject,
    volumes: fields.volumes as Prisma.InputJsonArray,
    repository: fields.repository ? (fields.repository as Prisma.InputJsonObject) : Prisma.DbNull,
  };
}

/**
 * Upserts the built-in templates from templates/*.yaml (by name, projectId null). Files whose
 * hash is unchanged are left alone; invalid files are logged and skipped (never fatal); built-in
 * templates whose file is gone are kept (agents may use them) and logged.
 */
export async function syncTemplates(
  prisma: PrismaClient,
  opts: { dir?: string; log: SyncTemplatesLog },
): Promise<SyncTemplatesResult> {
  const dir = opts.dir ?? path.join(process.cwd(), "templates");
  const { log } = opts;
  const result: SyncTemplatesResult = { created: [], updated: [], unchanged: [], skipped: [] };

  const loaded = await loadTemplateFiles(dir);
  if (loaded.missing || loaded.unreadable) {
    log.warn(
      { dir },
      loaded.missing
        ? `The templates directory ${displayPath(dir)} does not exist: no built-in templates were loaded`
        : `The templates directory ${displayPath(dir)} cannot be read (${loaded.unreadable}): built-in templates were not synced`,
    );
    return result;
  }
  for (const err of loaded.errors) {
    log.warn({ file: err.file }, `Skipped template file ${err.message}`);
    result.skipped.push(err.file);
  }

  await prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${SYNC_LOCK_KEY})`);
      const existing = await tx.template.findMany({ where: { projectId: null }, orderBy: { createdAt: "asc" } });
      const byName = new Map<string, Template>();
      for (const row of existing) {
        if (byName.has(row.name)) {
          log.warn(
            { template: row.name, id: row.id, kept: byName.get(row.name)!.id },
            `Built-in template ${row.name} exists twice in the database; the oldest one is kept in sync`,
          );
          continue;
        }
        byName.set(row.name, row);
      }

      const unresolved = new Set<string>();
      for (const t of loaded.templates) {
        const row = byName.get(t.fields.name);
        if (row && row.sourceHash === t.hash && row.sourceFile === t.file && row.source === "file") {
          result.unchanged.push(t.fields.name);
          continue;
        }
        // The provider a file names must be registered (and allow its model): else the file is
        // skipped like an invalid one, and a template synced before keeps its last version.
        let providerId: string | null;
        try {
          providerId = await resolveTemplateProvider(tx, t.fields.provider, t.fields.model);
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          log.warn({ file: t.file, provider: t.fields.provider }, `Skipped template file ${t.file}: provider: ${err.message}`);
          result.skipped.push(t.file);
          unresolved.add(t.file);
          continue;
        }
        const data = { ...toStored(t.fields, providerId), source: "file", sourceFile: t.file, sourceHash: t.hash };
        if (!row) {
          await tx.template.create({ data: { ...data, projectId: null } });
          result.created.push(t.fields.name);
        } else {
          await tx.template.update({ where: { id: row.id }, data });
          result.updated.push(t.fields.name);
        }
      }

      const onDisk = new Set(loaded.templates.filter((t) => !unresolved.has(t.file)).map((t) => t.fields.name));
      const invalidFiles = new Set([...loaded.errors.map((e) => e.file), ...unresolved]);
      for (const row of byName.values()) {
        if (onDisk.has(row.name)) continue;
        if (row.sourceFile && invalidFiles.has(row.sourceFile)) {
          log.warn(
            { template: row.name, file: row.sourceFile },
            `Built-in template ${row.name} keeps its last valid version until ${row.sourceFile} is fixed`,
          );
        } else {
          log.warn(
            { template: row.name, file: row.sourceFile },
            `Built-in template ${row.name} has no file in ${displayPath(dir)} any more; it is kept because agents may use it`,
          );
        }
      }
    },
    { timeout: 30_000, maxWait: 30_000 },
  );

  log.info(
    {
      dir: displayPath(dir),
      created: result.created,
      updated: result.updated,
      unchanged: result.unchanged.length,
      skipped: result.skipped,
    },
    "built-in templates synced",
  );
  return result;
}

// ---------- the API's operations ----------

function envFrom(value: Prisma.JsonValue): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

function volumesFrom(value: Prisma.JsonValue): VolumeMount[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => {
    if (!v || typeof v !== "object" || Array.isArray(v)) return [];
    const { name, mountPath } = v as Record<string, unknown>;
    return typeof name === "string" && typeof mountPath === "string" ? [{ name, mountPath }] : [];
  });
}

/** A stored repository (JSON) as the template shows it; anything unreadable is none. */
function repositoryFrom(json: Prisma.JsonValue): RepositoryInput | null {
  if (!json) return null;
  const parsed = repositoryInput.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** A template row with its provider's name (what views show and templates name). */
export type TemplateRow = Template & { provider: { name: string } | null };
const withProvider = { provider: { select: { name: true } } } as const;

export function toTemplateView(row: TemplateRow): TemplateView {
  return {
    id: row.id,
    projectId: row.projectId,
    builtIn: row.projectId === null,
    name: row.name,
    displayName: row.displayName,
    description: row.description,
    image: row.image,
    model: row.model,
    provider: row.provider?.name ?? null,
    memoryMb: row.memoryMb,
    cpus: row.cpus,
    pidsLimit: row.pidsLimit,
    env: envFrom(row.env),
    instructions: row.instructions,
    personality: row.personality,
    permissionMode: row.permissionMode as TemplateView["permissionMode"],
    allowedTools: row.allowedTools,
    toolPolicy: policyFrom(row.toolPolicy),
    volumes: volumesFrom(row.volumes),
    egressAllowlist: row.egressAllowlist,
    placement: { constraints: row.placementConstraints },
    repository: repositoryFrom(row.repository),
    source: row.source === "file" ? "file" : "api",
    sourceFile: row.sourceFile,
    sourceHash: row.sourceHash,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Built-ins first, then by name. */
function compareTemplates(a: Template, b: Template): number {
  const builtIn = Number(b.projectId === null) - Number(a.projectId === null);
  if (builtIn) return builtIn;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.createdAt.getTime() - b.createdAt.getTime();
}

/** The built-in templates plus the project's own (built-ins first, then by name). */
export async function listTemplates(prisma: PrismaClient, projectId: string): Promise<TemplateView[]> {
  const rows = await prisma.template.findMany({ where: { OR: [{ projectId: null }, { projectId }] }, include: withProvider });
  return rows.sort(compareTemplates).map(toTemplateView);
}

/** A template the project can use: a built-in or its own. Anything else is NOT_FOUND. */
async function findVisible(prisma: PrismaClient, projectId: string, templateId: string): Promise<TemplateRow> {
  const row = await prisma.template.findUnique({ where: { id: templateId }, include: withProvider });
  if (!row || (row.projectId !== null && row.projectId !== projectId)) throw notFound("Template");
  return row;
}

export async function getTemplate(prisma: PrismaClient, projectId: string, templateId: string): Promise<TemplateView> {
  return toTemplateView(await findVisible(prisma, projectId, templateId));
}

function nameClash(name: string): DomainError {
  return new DomainError("CONFLICT", `A template named ${name} already exists in this project`);
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === "P2002";
}

async function assertNameFree(prisma: PrismaClient, projectId: string, name: string, exceptId?: string) {
  const clash = await prisma.template.findFirst({
    where: { projectId, name, ...(exceptId ? { NOT: { id: exceptId } } : {}) },
    select: { id: true },
  });
  if (clash) throw nameClash(name);
}

/** The patch's fields that were given (undefined means "leave as is"). */
function definedFields(patch: TemplatePatch): Partial<TemplateFields> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) out[key] = value;
  }
  return out as Partial<TemplateFields>;
}

function storedPatch(patch: Partial<TemplateFields>, providerId: string | null | undefined) {
  const { env, volumes: vols, provider: _name, toolPolicy, repository, placement, ...rest } = patch;
  return {
    ...rest,
    ...(placement !== undefined ? { placementConstraints: placement.constraints } : {}),
    ...(repository !== undefined ? { repository: repository ? (repository as Prisma.InputJsonObject) : Prisma.DbNull } : {}),
    ...(toolPolicy !== undefined ? { toolPolicy: toolPolicy as Prisma.InputJsonObject } : {}),
    ...(providerId !== undefined ? { providerId } : {}),
    ...(env !== undefined ? { env: env as Prisma.InputJsonObject } : {}),
    ...(vols !== undefined ? { volumes: vols as Prisma.InputJsonArray } : {}),
  };
}

/**
 * Creates a project template, optionally as a copy of a built-in or project template
 * (`copyFrom`), with the given fields applied over the copy.
 */
export async function createTemplate(
  prisma: PrismaClient,
  projectId: string,
  input: Omit<TemplateCreateInput, "projectId">,
): Promise<TemplateView> {
  const { copyFrom, name, ...rest } = input;
  const given = definedFields(rest);
  let base: TemplateFields;
  if (copyFrom) {
    const source = toTemplateView(await findVisible(prisma, projectId, copyFrom));
    base = {
      name,
      displayName: source.displayName,
      description: source.description,
      image: source.image,
      model: source.model,
      provider: source.provider,
      memoryMb: source.memoryMb,
      cpus: source.cpus,
      pidsLimit: source.pidsLimit,
      env: source.env,
      instructions: source.instructions,
      personality: source.personality,
      permissionMode: source.permissionMode,
      allowedTools: source.allowedTools,
      toolPolicy: source.toolPolicy,
      volumes: source.volumes,
      egressAllowlist: source.egressAllowlist,
      repository: source.repository,
      placement: source.placement,
    };
  } else {
    const missing = (["model", "memoryMb", "cpus", "pidsLimit"] as const).filter((f) => given[f] === undefined);
    if (missing.length) {
      throw new DomainError("BAD_REQUEST", `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} required for a new template`);
    }
    base = {
      name,
      displayName: name,
      description: "",
      image: DEFAULT_IMAGE,
      model: given.model!,
      provider: null,
      memoryMb: given.memoryMb!,
      cpus: given.cpus!,
      pidsLimit: given.pidsLimit!,
      env: {},
      instructions: "",
      personality: "",
      permissionMode: "acceptEdits",
      allowedTools: [],
      toolPolicy: { allow: [], ask: [], deny: [] },
      volumes: [],
      egressAllowlist: [],
      repository: null,
      placement: { constraints: [] },
    };
  }
  const fields: TemplateFields = { ...base, ...given, name };

  await assertNameFree(prisma, projectId, name);
  const providerId = await resolveTemplateProvider(prisma, fields.provider, fields.model);
  try {
    const row = await prisma.template.create({
      data: { ...toStored(fields, providerId), projectId, source: "api", sourceFile: null, sourceHash: null },
      include: withProvider,
    });
    return toTemplateView(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw nameClash(name);
    throw err;
  }
}

/** Changes a project template. Built-in templates are read-only (FORBIDDEN). */
export async function updateTemplate(
  prisma: PrismaClient,
  projectId: string,
  templateId: string,
  patch: TemplatePatch,
): Promise<TemplateView> {
  const row = await findVisible(prisma, projectId, templateId);
  if (row.projectId === null) throw forbidden(BUILT_IN_READ_ONLY);
  const given = definedFields(patch);
  if (!Object.keys(given).length) throw new DomainError("BAD_REQUEST", "Nothing to update: give at least one field to change");
  if (given.name !== undefined && given.name !== row.name) await assertNameFree(prisma, projectId, given.name, row.id);
  // A new provider, or a new model for the current one: checked against the registered providers.
  const providerId =
    given.provider !== undefined || given.model !== undefined
      ? await resolveTemplateProvider(prisma, given.provider !== undefined ? given.provider : (row.provider?.name ?? null), given.model ?? row.model)
      : undefined;
  try {
    const updated = await prisma.template.update({ where: { id: row.id }, data: storedPatch(given, providerId), include: withProvider });
    return toTemplateView(updated);
  } catch (err) {
    if (isUniqueViolation(err) && given.name) throw nameClash(given.name);
    throw err;
  }
}

/** The image an agent created from a template runs: "default" means Armory's agent image at `defaultTag`. */
export function resolveTemplateImage(image: string, defaultTag: string): string {
  return image === DEFAULT_IMAGE ? defaultTag : image;
}

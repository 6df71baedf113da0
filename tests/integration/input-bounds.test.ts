// Issue 12, item 8: input lengths are bounded everywhere. Walks every procedure's input schemas
// (so procedures added later are covered) and lists each string without a maximum length and
// each array without a maximum size; the list must be empty. Records are bounded by their key
// and value schemas (their entry count by the procedures' own refinements and the body limit).
// Over HTTP, a 1 MB project name is a 400 (tests/integration/boundary.test.ts).
import type { AnyProcedure } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { appRouter } from "@/server/api/root";

/** String formats whose length is fixed or bounded by their grammar. */
const BOUNDED_FORMATS = new Set(["uuid", "guid", "cuid", "cuid2", "ulid", "xid", "ksuid", "nanoid", "ipv4", "ipv6", "date", "time", "datetime", "duration", "e164"]);

interface ZodLike {
  _zod: { def: Record<string, unknown> & { type: string; checks?: { _zod: { def: { check: string } } }[] } };
  maxLength?: number | null;
}

function hasMax(def: ZodLike["_zod"]["def"]): boolean {
  return (def.checks ?? []).some((c) => c._zod.def.check === "max_length" || c._zod.def.check === "length_equals" || c._zod.def.check === "max_size");
}

/** Paths of unbounded strings and arrays under `schema`. */
export function unboundedFields(schema: ZodLike, path = "", out: string[] = [], seen = new Set<unknown>()): string[] {
  if (seen.has(schema)) return out;
  seen.add(schema);
  const def = schema._zod.def;
  const at = (p: string) => (path ? `${path}.${p}` : p);
  const walk = (s: unknown, p: string) => unboundedFields(s as ZodLike, p, out, seen);
  switch (def.type) {
    case "string":
      if (schema.maxLength == null && !BOUNDED_FORMATS.has(String(def.format))) out.push(path || "(input)");
      break;
    case "array":
      if (!hasMax(def)) out.push(`${path}[]`);
      walk(def.element, `${path}[]`);
      break;
    case "set":
      if (!hasMax(def)) out.push(`${path}(set)`);
      walk(def.valueType, `${path}(set)`);
      break;
    case "object":
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, at(k));
      if (def.catchall && (def.catchall as ZodLike)._zod.def.type !== "never" && (def.catchall as ZodLike)._zod.def.type !== "unknown") walk(def.catchall, at("*"));
      break;
    case "record":
    case "map":
      walk(def.keyType, at("(key)"));
      walk(def.valueType, at("(value)"));
      break;
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
    case "success":
      walk(def.innerType, path);
      break;
    case "pipe": {
      // Bounded when either side bounds it (e.g. a loose record piped into a strict one).
      const inSide = unboundedFields(def.in as ZodLike, path, [], seen);
      const outSide = unboundedFields(def.out as ZodLike, path, [], seen);
      out.push(...inSide.filter((p) => outSide.includes(p) || !(def.out as ZodLike)._zod.def.type || (def.out as ZodLike)._zod.def.type === "transform"));
      break;
    }
    case "union":
      for (const o of def.options as unknown[]) walk(o, path);
      break;
    case "intersection":
      walk(def.left, path);
      walk(def.right, path);
      break;
    case "tuple":
      (def.items as unknown[]).forEach((item, i) => walk(item, at(String(i))));
      if (def.rest) walk(def.rest, at("..."));
      break;
    default:
      break; // numbers, booleans, enums, literals, dates: bounded by nature
  }
  return out;
}

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>).sort(([a], [b]) => a.localeCompare(b));

describe("every procedure's input is bounded", () => {
  it("finds the procedures", () => {
    expect(procedures.length).toBeGreaterThanOrEqual(30);
  });

  it.each(procedures)("%s has no unbounded string or array in its input", (_path, proc) => {
    const inputs = ((proc._def as { inputs?: unknown[] }).inputs ?? []) as ZodLike[];
    const unbounded = inputs.flatMap((schema) => unboundedFields(schema));
    expect(unbounded).toEqual([]);
  });

  // The README: every procedure has input and output schemas. Queries and mutations carry a zod
  // schema; a subscription carries streamOf(schema) (src/server/api/stream-output.ts), which
  // parses every value it yields, since tRPC's own output check sees only the iterable.
  it.each(procedures)("%s has an output schema", (_path, proc) => {
    const output = (proc._def as { output?: unknown }).output as { _zod?: unknown; yields?: { _zod?: unknown } } | undefined;
    expect(output, "no .output(...)").toBeDefined();
    if (proc._def.type === "subscription") expect(output!.yields?._zod, "a subscription's output must be streamOf(schema)").toBeDefined();
    else expect(output!._zod, "a zod schema").toBeDefined();
  });

  it("the walker finds an unbounded string, array and record value (it can fail)", async () => {
    const { z } = await import("zod");
    const schema = z.object({ a: z.string().trim(), b: z.array(z.string().max(3)), c: z.record(z.string().max(5), z.string()), d: z.uuid(), e: z.string().max(9).optional() });
    expect(unboundedFields(schema as unknown as ZodLike).sort()).toEqual(["a", "b[]", "c.(value)"]);
  });
});

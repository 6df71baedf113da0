// The server's tRPC transformer: superjson's wire format, written faster for what Armory's
// procedures return (plain objects and arrays of strings, finite numbers, booleans, null and
// valid Dates). superjson walks every value, copies the tree and keeps a Map per node; on a
// 1,000-agent health summary that was 60% of the request's time (bench/results.json, health).
// Here the value is walked once without copying: JSON.stringify turns each Date into the same
// ISO string superjson writes (Date#toJSON is toISOString), and each Date's path goes into
// `meta.values` exactly as superjson names it. Anything else (undefined, NaN, -0, BigInt, Map,
// Set, class instances, an object reached twice) is handed to superjson itself, so the client's
// superjson.deserialize reads both the same (tests: src/server/api/wire.test.ts).
import superjson from "superjson";
import type { SuperJSONResult } from "superjson";

const OBJECT_PROTO = Object.prototype;

/** A path segment as superjson writes it: backslashes and dots escaped. */
function escapeKey(key: string): string {
  return key.replace(/\\/g, "\\\\").replace(/\./g, "\\.");
}

class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported();

/** Paths of the Dates under `root` (null when there are none); throws UNSUPPORTED for anything superjson must handle. */
function datePaths(root: unknown): Record<string, ["Date"]> | null {
  let values: Record<string, ["Date"]> | null = null;
  const keys: string[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(v) || Object.is(v, -0)) throw UNSUPPORTED;
        return;
      case "object": {
        if (v === null) return;
        if (v instanceof Date) {
          if (Number.isNaN(v.getTime()) || Object.getPrototypeOf(v) !== Date.prototype) throw UNSUPPORTED;
          (values ??= {})[keys.map(escapeKey).join(".")] = ["Date"];
          return;
        }
        // superjson keeps referential equality of an object reached twice: leave that to it.
        if (seen.has(v)) throw UNSUPPORTED;
        seen.add(v);
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            keys.push(String(i));
            visit(v[i]);
            keys.pop();
          }
          return;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto !== OBJECT_PROTO && proto !== null) throw UNSUPPORTED;
        for (const k in v) {
          keys.push(k);
          visit((v as Record<string, unknown>)[k]);
          keys.pop();
        }
        return;
      }
      default:
        // undefined, bigint, symbol, function
        throw UNSUPPORTED;
    }
  };
  visit(root);
  return values;
}

/** superjson.serialize's result for `value`, computed without copying it when it is plain data. */
export function serialize(value: unknown): SuperJSONResult {
  if (value instanceof Date && !Number.isNaN(value.getTime()) && Object.getPrototypeOf(value) === Date.prototype) {
    return { json: value.toISOString(), meta: { values: ["Date"], v: 1 } } as SuperJSONResult;
  }
  let values: Record<string, ["Date"]> | null;
  try {
    values = datePaths(value);
  } catch (err) {
    if (err === UNSUPPORTED) return superjson.serialize(value);
    throw err;
  }
  // Dates stay Date objects in `json`: JSON.stringify writes them as superjson does (toISOString).
  return (values ? { json: value, meta: { values, v: 1 } } : { json: value }) as SuperJSONResult;
}

/** tRPC's transformer on the server: the serializer above, superjson for what clients send. */
export const wireTransformer = {
  serialize,
  deserialize: (value: unknown) => superjson.deserialize(value as SuperJSONResult),
};

// Generates the public, self-contained declaration of Armory's app router for @armory/client.
//
// The server's `AppRouter` type reaches into the server's source (its context holds the services,
// Prisma, Docker...). The published package must not: this script loads the app router's type with
// the TypeScript compiler, walks every procedure, and prints each one's input, output (for a
// subscription: the values it yields) and the router's error shape as plain structural types
// (objects, unions, literals, arrays, Date...). The result is a tRPC router type built from
// @trpc/server's public types only, so `createTRPCClient<AppRouter>` works in any project, and a
// changed procedure (name, input or output schema) changes the generated file.
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(import.meta.dirname, "../../..");

const PROBE = `
import type { AppRouter } from "./src/server/api/root";
import type { TrackedEnvelope } from "@trpc/server";
type Yield<O> = O extends AsyncIterable<infer Y, any, any> ? Y : never;
type Describe<P> = P extends { _def: { procedure: true; type: infer T; $types: { input: infer I; output: infer O } } }
  ? {
      kind: T;
      input: I;
      output: T extends "subscription" ? (Yield<O> extends TrackedEnvelope<infer D> ? D : Yield<O>) : O;
      tracked: T extends "subscription" ? (Yield<O> extends TrackedEnvelope<any> ? true : false) : false;
    }
  : { [K in keyof P]: Describe<P[K]> };
export type __ArmoryProbe = Describe<AppRouter["_def"]["record"]>;
export type __ArmoryErrorShape = AppRouter["_def"]["_config"]["$types"]["errorShape"];
`;

export interface GeneratedRouter {
  /** The declaration file's text. */
  text: string;
  /** Procedure paths, e.g. "agent.list", with their kind. */
  procedures: { path: string; kind: "query" | "mutation" | "subscription" }[];
}

export function generateRouterDeclaration(): GeneratedRouter {
  const configPath = path.join(ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, "\n"));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const probeFile = path.join(ROOT, "__armory_client_probe__.ts");
  const host = ts.createCompilerHost({ ...parsed.options, noEmit: true, incremental: false });
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === probeFile ? PROBE : readFile(f));
  host.fileExists = (f) => path.resolve(f) === probeFile || fileExists(f);
  host.getSourceFile = (f, lang, ...rest) =>
    path.resolve(f) === probeFile ? ts.createSourceFile(f, PROBE, lang, true) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram({ rootNames: [probeFile], options: { ...parsed.options, noEmit: true, incremental: false }, host });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(probeFile);
  if (!source) throw new Error("probe file missing");
  const diagnostics = ts.getPreEmitDiagnostics(program, source);
  if (diagnostics.length > 0) {
    throw new Error(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" }));
  }
  const aliasType = (name: string) => {
    const node = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === name);
    if (!node) throw new Error(`probe alias ${name} missing`);
    return checker.getTypeAtLocation(node.name);
  };

  const printer = new TypePrinter(checker, program);
  const procedures: GeneratedRouter["procedures"] = [];

  const prop = (t: ts.Type, name: string) => {
    const s = t.getProperty(name);
    return s ? checker.getTypeOfSymbol(s) : undefined;
  };

  const walk = (t: ts.Type, prefix: string[], indent: string): string => {
    const lines: string[] = ["{"];
    for (const symbol of checker.getPropertiesOfType(t)) {
      const name = symbol.getName();
      const value = checker.getTypeOfSymbol(symbol);
      const kindType = prop(value, "kind");
      const key = printer.key(name);
      if (kindType && kindType.isStringLiteral() && prop(value, "input") !== undefined && prop(value, "tracked") !== undefined) {
        const kind = kindType.value as "query" | "mutation" | "subscription";
        procedures.push({ path: [...prefix, name].join("."), kind });
        const input = printer.print(prop(value, "input")!);
        const outputType = printer.print(prop(value, "output")!);
        const tracked = prop(value, "tracked");
        const isTracked = tracked !== undefined && (tracked.flags & ts.TypeFlags.BooleanLiteral) !== 0 && checker.typeToString(tracked) === "true";
        const output =
          kind === "subscription"
            ? `AsyncIterable<${isTracked ? `TrackedEnvelope<${outputType}>` : outputType}, void, any>`
            : outputType;
        const proc = kind === "query" ? "TRPCQueryProcedure" : kind === "mutation" ? "TRPCMutationProcedure" : "TRPCSubscriptionProcedure";
        lines.push(`${indent}  ${key}: ${proc}<{ input: ${input}; output: ${output}; meta: object; errorShape: ErrorShape }>;`);
      } else {
        lines.push(`${indent}  ${key}: ${walk(value, [...prefix, name], `${indent}  `)};`);
      }
    }
    lines.push(`${indent}}`);
    return lines.join("\n");
  };

  const record = walk(aliasType("__ArmoryProbe"), [], "");
  const errorShape = printer.print(aliasType("__ArmoryErrorShape"));
  const text = [
    "// Generated by packages/client/scripts/generate-router.ts from Armory's app router. Do not edit.",
    'import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure, TrackedEnvelope } from "@trpc/server";',
    "",
    ...printer.aliases(),
    `/** The shape of an error Armory returns (tRPC's, with the request id and field errors of a bad input). */`,
    `export type ErrorShape = ${errorShape};`,
    "",
    `/** Armory's app router: ${procedures.length} procedures. */`,
    `export type AppRouter = TRPCBuiltRouter<{ ctx: object; meta: object; errorShape: ErrorShape; transformer: true }, AppRouterRecord>;`,
    "",
    `export type AppRouterRecord = ${record};`,
    "",
  ].join("\n");
  return { text, procedures };
}

/** Prints a resolved type structurally (no references to the declarations it came from). */
class TypePrinter {
  private readonly stack: ts.Type[] = [];
  private readonly recursive = new Map<ts.Type, string>();
  private readonly declared: string[] = [];

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly program: ts.Program,
  ) {}

  aliases(): string[] {
    return this.declared.length > 0 ? [...this.declared, ""] : [];
  }

  key(name: string): string {
    return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
  }

  print(type: ts.Type): string {
    const f = type.flags;
    const c = this.checker;
    if (f & ts.TypeFlags.Any) return "any";
    if (f & ts.TypeFlags.Unknown) return "unknown";
    if (f & ts.TypeFlags.Never) return "never";
    if (f & ts.TypeFlags.Void) return "void";
    if (f & ts.TypeFlags.Undefined) return "undefined";
    if (f & ts.TypeFlags.Null) return "null";
    if (f & ts.TypeFlags.String) return "string";
    if (f & ts.TypeFlags.Number) return "number";
    if (f & ts.TypeFlags.Boolean) return "boolean";
    if (f & ts.TypeFlags.BigInt) return "bigint";
    if (f & ts.TypeFlags.ESSymbol) return "symbol";
    if (f & ts.TypeFlags.UniqueESSymbol) return "symbol";
    if (f & ts.TypeFlags.NonPrimitive) return "object";
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    if (f & ts.TypeFlags.BooleanLiteral) return c.typeToString(type);
    if (f & ts.TypeFlags.BigIntLiteral) return `${c.typeToString(type)}`;
    if (f & ts.TypeFlags.TemplateLiteral) return c.typeToString(type);
    if (type.isUnion()) {
      const parts = this.unionParts(type);
      return parts.length === 1 ? parts[0]! : parts.map((p) => (p.includes("=>") ? `(${p})` : p)).join(" | ");
    }
    if (type.isIntersection()) {
      // An intersection of plain objects (zod's merged shapes) prints as one object.
      if (type.types.every((t) => t.flags & ts.TypeFlags.Object && !this.isLibType(t) && !c.isArrayType(t) && !c.isTupleType(t))) {
        return this.guard(type, () => this.printObject(type));
      }
      return type.types.map((t) => this.wrap(this.print(t))).join(" & ");
    }
    if (f & ts.TypeFlags.Object) {
      return this.guard(type, () => {
        if (c.isArrayType(type)) {
          const [el] = c.getTypeArguments(type as ts.TypeReference);
          const readonly = type.symbol?.getName() === "ReadonlyArray";
          return `${readonly ? "readonly " : ""}${this.wrap(this.print(el!))}[]`;
        }
        if (c.isTupleType(type)) {
          const args = c.getTypeArguments(type as ts.TypeReference);
          const target = (type as ts.TypeReference).target as ts.TupleType;
          const parts = args.map((a, i) => {
            const flag = target.elementFlags[i] ?? ts.ElementFlags.Required;
            if (flag & ts.ElementFlags.Rest) return `...${this.wrap(this.print(a))}[]`;
            return `${this.print(a)}${flag & ts.ElementFlags.Optional ? "?" : ""}`;
          });
          return `${target.readonly ? "readonly " : ""}[${parts.join(", ")}]`;
        }
        if (this.isLibType(type)) {
          const name = type.symbol.getName();
          const args = (type as ts.TypeReference).target ? c.getTypeArguments(type as ts.TypeReference) : [];
          return args.length > 0 ? `${name}<${args.map((a) => this.print(a)).join(", ")}>` : name;
        }
        return this.printObject(type);
      });
    }
    throw new Error(`cannot print type ${c.typeToString(type)} (flags ${f})`);
  }

  private unionParts(type: ts.UnionType): string[] {
    const c = this.checker;
    const members = type.types;
    const hasTrue = members.some((t) => t.flags & ts.TypeFlags.BooleanLiteral && c.typeToString(t) === "true");
    const hasFalse = members.some((t) => t.flags & ts.TypeFlags.BooleanLiteral && c.typeToString(t) === "false");
    const parts: string[] = [];
    let boolDone = false;
    for (const t of members) {
      if (t.flags & ts.TypeFlags.BooleanLiteral && hasTrue && hasFalse) {
        if (!boolDone) parts.push("boolean");
        boolDone = true;
        continue;
      }
      const p = this.print(t);
      if (!parts.includes(p)) parts.push(p);
    }
    return parts;
  }

  private wrap(s: string): string {
    return /^[\w$."<>[\]]+$/.test(s) || s.startsWith("{") || s.startsWith("[") ? s : `(${s})`;
  }

  private isLibType(type: ts.Type): boolean {
    const symbol = type.symbol;
    // Only named interfaces and classes (Date, Map, Uint8Array...), not anonymous or mapped types
    // declared in the lib (Record<K, V> prints as an index signature).
    if (!symbol || !(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) || symbol.getName().startsWith("__")) return false;
    const decl = symbol.declarations?.[0];
    if (!decl) return false;
    const file = decl.getSourceFile();
    return this.program.isSourceFileDefaultLibrary(file) || /[\\/]typescript[\\/]lib[\\/]lib\..*\.d\.ts$/.test(file.fileName);
  }

  /** Re-entering a type being printed: give it a name (a recursive alias). */
  private guard(type: ts.Type, printIt: () => string): string {
    if (this.stack.includes(type)) {
      let name = this.recursive.get(type);
      if (!name) {
        name = `Recursive${this.recursive.size + 1}`;
        this.recursive.set(type, name);
      }
      return name;
    }
    this.stack.push(type);
    try {
      const text = printIt();
      const name = this.recursive.get(type);
      if (name) {
        if (!this.declared.some((d) => d.startsWith(`export type ${name} =`))) this.declared.push(`export type ${name} = ${text};`);
        return name;
      }
      return text;
    } finally {
      this.stack.pop();
    }
  }

  private printObject(type: ts.Type): string {
    const c = this.checker;
    const parts: string[] = [];
    for (const sig of c.getSignaturesOfType(type, ts.SignatureKind.Call)) {
      const params = sig.getParameters().map((p) => `${p.getName()}: ${this.print(c.getTypeOfSymbol(p))}`);
      parts.push(`(${params.join(", ")}): ${this.print(sig.getReturnType())}`);
    }
    for (const info of c.getIndexInfosOfType(type)) {
      parts.push(`${info.isReadonly ? "readonly " : ""}[key: ${this.print(info.keyType)}]: ${this.print(info.type)}`);
    }
    for (const symbol of c.getPropertiesOfType(type)) {
      const name = symbol.getName();
      if (name.startsWith("__@")) throw new Error(`symbol-keyed property ${name} in ${c.typeToString(type)}`);
      const optional = (symbol.flags & ts.SymbolFlags.Optional) !== 0;
      parts.push(`${this.key(name)}${optional ? "?" : ""}: ${this.print(c.getTypeOfSymbol(symbol))}`);
    }
    return parts.length === 0 ? "{}" : `{ ${parts.join("; ")} }`;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const { text, procedures } = generateRouterDeclaration();
  process.stdout.write(text);
  process.stderr.write(`${procedures.length} procedures in ${Date.now() - started} ms\n`);
}

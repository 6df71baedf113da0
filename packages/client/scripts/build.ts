// Builds @armory/client into packages/client/dist: ESM + CJS bundles, one bundled declaration per
// format, README and a publishable package.json. The sources are staged in packages/client/build
// with src/app-router.ts replaced by the generated, self-contained router declaration, so the
// declarations reference only @trpc/*, superjson and eventsource; the build fails otherwise.
import { cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "tsup";
import { generateRouterDeclaration } from "./generate-router";

const PKG = path.resolve(import.meta.dirname, "..");
const STAGE = path.join(PKG, "build");
const DIST = path.join(PKG, "dist");

/** What a published declaration must never mention. */
export const FORBIDDEN_IN_DECLARATIONS = [/src\/server/, /@prisma/, /\/generated\b/, /from\s+["']\.\.?\//, /import\(["']\.\.?\//, /from\s+["']@\//];

export async function buildClient(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const started = Date.now();
  const manifest = JSON.parse(await readFile(path.join(PKG, "package.json"), "utf8")) as {
    name: string;
    version: string;
    description: string;
    dependencies: Record<string, string>;
  };
  await rm(STAGE, { recursive: true, force: true });
  await rm(DIST, { recursive: true, force: true });
  await mkdir(path.join(STAGE, "src"), { recursive: true });
  for (const f of await readdir(path.join(PKG, "src"))) {
    if (f.endsWith(".ts") && f !== "app-router.ts" && !f.endsWith(".test.ts")) await cp(path.join(PKG, "src", f), path.join(STAGE, "src", f));
  }
  const router = generateRouterDeclaration();
  await writeFile(path.join(STAGE, "src", "app-router.ts"), router.text);
  log(`router: ${router.procedures.length} procedures (${Date.now() - started} ms)`);
  await writeFile(
    path.join(STAGE, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["es2023", "dom"],
          module: "esnext",
          moduleResolution: "bundler",
          strict: true,
          skipLibCheck: true,
          declaration: true,
          isolatedModules: true,
          types: [],
        },
        include: ["src"],
      },
      null,
      2,
    ),
  );
  await build({
    entry: { index: path.join(STAGE, "src", "index.ts") },
    format: ["esm", "cjs"],
    outDir: DIST,
    tsconfig: path.join(STAGE, "tsconfig.json"),
    dts: { resolve: false },
    target: "es2022",
    platform: "node",
    sourcemap: false,
    splitting: false,
    clean: true,
    silent: true,
    external: Object.keys(manifest.dependencies),
  });
  for (const f of ["index.d.ts", "index.d.cts"]) {
    const text = await readFile(path.join(DIST, f), "utf8");
    const bad = FORBIDDEN_IN_DECLARATIONS.find((re) => re.test(text));
    if (bad) throw new Error(`${f} mentions ${bad}: the published declarations must stand alone`);
  }
  await cp(path.join(PKG, "README.md"), path.join(DIST, "README.md"));
  const published = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    type: "module",
    main: "./index.cjs",
    module: "./index.js",
    types: "./index.d.ts",
    exports: {
      ".": {
        import: { types: "./index.d.ts", default: "./index.js" },
        require: { types: "./index.d.cts", default: "./index.cjs" },
      },
      "./package.json": "./package.json",
    },
    files: ["index.js", "index.cjs", "index.d.ts", "index.d.cts", "README.md"],
    sideEffects: false,
    engines: { node: ">=20.19" },
    dependencies: manifest.dependencies,
  };
  await writeFile(path.join(DIST, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
  log(`built ${DIST} in ${Date.now() - started} ms`);
  return DIST;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildClient();
}

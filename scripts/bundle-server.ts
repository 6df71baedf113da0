// `tsx scripts/bundle-server.ts` (run by the Dockerfile after `npm run build`): assembles the
// container image's /app in `.next/armory-app` from `.next/standalone` (Next's traced output,
// next.config.ts `output: "standalone"`: its .next, node_modules and package.json; the rest of
// the repository that Next's tracer also copies there is left out) plus:
//   - server.ts compiled with esbuild into dist/server.mjs: Armory's own sources in one file, npm
//     packages left as imports, so tsx (a dev dependency) is not needed at run time;
//   - the npm package files that bundle imports, found by Next's own file tracer (@vercel/nft)
//     and copied next to the ones Next traced for the web app;
//   - .next/static, prisma/migrations (applied at start) and templates/.
// The result runs with `node dist/server.mjs` from that directory and holds production code only.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { build } from "esbuild";

const root = process.cwd();
const standalone = path.join(root, ".next", "standalone");
const out = path.join(root, ".next", "armory-app");
const require = createRequire(import.meta.url);

if (!fs.existsSync(path.join(standalone, ".next", "BUILD_ID"))) {
  console.error(`${standalone} has no build: run \`npm run build\` first (next.config.ts must keep output: "standalone").`);
  process.exit(1);
}

const started = performance.now();
fs.rmSync(out, { recursive: true, force: true });
for (const entry of [".next", "node_modules", "package.json"]) {
  fs.cpSync(path.join(standalone, entry), path.join(out, entry), { recursive: true, verbatimSymlinks: true });
}
// Compiled beside the repository's node_modules (the tracer resolves the imports from there),
// then moved into the output.
const bundle = path.join(root, ".next", "armory-server", "dist", "server.mjs");
await build({
  entryPoints: [path.join(root, "server.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  tsconfig: path.join(root, "tsconfig.json"),
  define: { ARMORY_PREBUILT: "true" },
  // Next's programmatic server reads this instead of loading next.config.ts (not shipped): the
  // same the standalone server.js Next writes does.
  banner: {
    js: [
      'import { readFileSync as __armoryReadFileSync } from "node:fs";',
      "process.env.__NEXT_PRIVATE_STANDALONE_CONFIG ??= JSON.stringify(JSON.parse(__armoryReadFileSync(new URL(\"../.next/required-server-files.json\", import.meta.url), \"utf8\")).config);",
    ].join("\n"),
  },
  logLevel: "warning",
});

// The packages the bundle imports, with what they load in turn.
const { nodeFileTrace } = require("next/dist/compiled/@vercel/nft") as {
  nodeFileTrace(files: string[], opts: { base: string; processCwd: string }): Promise<{ fileList: Set<string>; warnings: Set<Error> }>;
};
const traced = await nodeFileTrace([bundle], { base: root, processCwd: root });
// Next's own trace already holds what its production server needs; tracing `next` from the
// bundle would add its build and dev tooling (about 100 MB). Image optimisation (sharp) is unused.
const SKIP = /^node_modules\/(next|@next|sharp|@img)\//;
let copied = 0;
const outside: string[] = [];
for (const rel of traced.fileList) {
  if (!rel.startsWith("node_modules/")) {
    if (rel !== path.relative(root, bundle)) outside.push(rel);
    continue;
  }
  if (SKIP.test(rel)) continue;
  const from = path.join(root, rel);
  const to = path.join(out, rel);
  if (fs.existsSync(to)) continue;
  const st = fs.lstatSync(from);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
  else if (st.isFile()) fs.copyFileSync(from, to);
  else continue;
  copied++;
}

fs.mkdirSync(path.join(out, "dist"), { recursive: true });
fs.renameSync(bundle, path.join(out, "dist", "server.mjs"));
fs.rmSync(path.dirname(path.dirname(bundle)), { recursive: true, force: true });
for (const dir of [".next/static", "prisma/migrations", "templates"]) {
  fs.cpSync(path.join(root, dir), path.join(out, dir), { recursive: true });
}
if (outside.length) console.log(`not copied (outside node_modules; the bundle has its own copy of Armory's sources): ${outside.slice(0, 20).join(", ")}`);
const kb = Math.round(fs.statSync(path.join(out, "dist", "server.mjs")).size / 1024);
console.log(
  `bundled server.ts into ${path.relative(root, out)}/dist/server.mjs (${kb} KiB), added ${copied} traced package files, ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

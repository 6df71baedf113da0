// "Build if needed": the production server rebuilds the Next app when the sources changed since
// the last build (or there is none), so `npm start` works on a fresh clone and after a pull.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const INPUTS = ["src", "public", "package-lock.json", "next.config.ts", "tsconfig.json", "tsconfig.build.json", "postcss.config.mjs", "components.json"];
const FINGERPRINT_FILE = path.join(".next", "armory-build-fingerprint");
/** Where Next's production server takes a config already resolved instead of loading next.config.ts. */
export const BUILT_CONFIG_ENV = "__NEXT_PRIVATE_STANDALONE_CONFIG";

function walk(p: string, out: string[]): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) {
      if (name === "node_modules" || name.endsWith(".test.ts")) continue;
      walk(path.join(p, name), out);
    }
  } else {
    out.push(`${p}:${st.size}:${st.mtimeMs}`);
  }
}

export function sourceFingerprint(root: string): string {
  const entries: string[] = [];
  for (const input of INPUTS) walk(path.join(root, input), entries);
  return createHash("sha256").update(entries.join("\n")).digest("hex");
}

export function buildIsCurrent(root: string): boolean {
  const idFile = path.join(root, ".next", "BUILD_ID");
  const fpFile = path.join(root, FINGERPRINT_FILE);
  if (!fs.existsSync(idFile) || !fs.existsSync(fpFile)) return false;
  return fs.readFileSync(fpFile, "utf8") === sourceFingerprint(root);
}

/** Runs `next build` with its own progress output, then records the sources it built. */
export async function buildApp(root: string): Promise<void> {
  const fingerprint = sourceFingerprint(root);
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, "build"], {
      cwd: root,
      stdio: "inherit",
      // Without the built config (applyBuiltNextConfig): the build must read next.config.ts itself.
      env: { ...withoutBuiltConfig(process.env), NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next build failed with exit code ${code}`))));
  });
  fs.writeFileSync(path.join(root, FINGERPRINT_FILE), fingerprint);
}

function withoutBuiltConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [BUILT_CONFIG_ENV]: _built, ...rest } = env;
  return rest;
}

/**
 * Has Next's production server take its config from the build (.next/required-server-files.json,
 * as Next's standalone server.js and the image's bundle do) instead of loading next.config.ts:
 * loading the TypeScript config makes Next transpile it with its native SWC binary, which then
 * stays mapped in the server (40-55 MB resident; scripts/bench/README.md, round 5). Nothing
 * without a build.
 */
export function applyBuiltNextConfig(root: string): void {
  const file = path.join(root, ".next", "required-server-files.json");
  if (!fs.existsSync(file)) return;
  const { config } = JSON.parse(fs.readFileSync(file, "utf8")) as { config: unknown };
  process.env[BUILT_CONFIG_ENV] = JSON.stringify(config);
}

// Runs the real `armory` binary (packages/cli/bin/armory.js, as `npx armory` does) as a child
// process with its own config directory and environment.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";

export const ARMORY_BIN = path.resolve(import.meta.dirname, "../../packages/cli/bin/armory.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user with only `configHome` (no ARMORY_* unless given). */
export function cliEnv(configHome: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ARMORY_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
  return { ...env, NODE_ENV: "production", HOME: configHome, XDG_CONFIG_HOME: path.join(configHome, ".config"), NO_COLOR: "1", ...extra };
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [ARMORY_BIN, ...args], { env, cwd });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  const child = startCli(args, env, opts.cwd);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Collects a running child's stdout from the start; `waitFor` resolves once it matches (from `from`). */
export function collectOutput(child: ChildProcessWithoutNullStreams) {
  let text = "";
  let err = "";
  let exited: number | null | undefined;
  const waiters = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => {
    text += d.toString();
    for (const w of waiters) w();
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.on("close", (code) => {
    exited = code;
    for (const w of waiters) w();
  });
  return {
    get text() {
      return text;
    },
    exitCode: () => new Promise<number | null>((resolve) => (exited !== undefined ? resolve(exited) : child.once("close", resolve))),
    waitFor(re: RegExp, from = 0): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(text.slice(from))) {
            waiters.delete(check);
            resolve(text);
          } else if (exited !== undefined) {
            waiters.delete(check);
            reject(new Error(`armory exited ${exited} before ${re}: ${text}\n${err}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

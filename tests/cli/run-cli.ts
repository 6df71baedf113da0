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
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ARMORY_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
  return { ...env, HOME: configHome, XDG_CONFIG_HOME: path.join(configHome, ".config"), NO_COLOR: "1", ...extra };
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

/** Resolves when the child's stdout (so far) matches; rejects when it exits first. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    let err = "";
    const onData = (d: Buffer) => {
      text += d.toString();
      if (re.test(text)) {
        child.stdout.off("data", onData);
        resolve(text);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("close", (code) => reject(new Error(`armory exited ${code} before ${re}: ${text}\n${err}`)));
  });
}

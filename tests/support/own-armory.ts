// An Armory of a browser spec's own, beside Playwright's shared server: started on the build that
// server made (tests/support/armory-prebuilt.ts, never rebuilding it), on a fresh data directory,
// so its first sign-up is that instance's first account (the instance admin). Call from
// test.beforeAll / test.afterAll.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";

/**
 * The node flags Armory's server runs with in production: those of `npm start` (package.json),
 * which the container image's CMD repeats (tests/deploy.test.ts checks both).
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: { start: string } };
  const argv = pkg.scripts.start.split(/\s+/);
  return argv.slice(1, argv.indexOf("--import")).filter((a) => a.startsWith("--"));
}

export interface OwnArmory {
  url: string;
  /** The server's process id (the benchmark reads its memory from /proc). */
  pid: number;
  stop(): Promise<void>;
}

export async function startOwnArmory(opts: {
  name: string;
  port: number;
  env?: Record<string, string>;
  /**
   * Run the deployed form instead: `node dist/server.mjs` in this directory (the container
   * image's /app, assembled by scripts/bundle-server.ts), not the sources through tsx.
   */
  bundleDir?: string;
  /** Options for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
}): Promise<OwnArmory> {
  const url = `http://127.0.0.1:${opts.port}`;
  let stderr = "";
  // The instance's sign-up mode is the spec's to choose (unset: the default, invite).
  const { ARMORY_SIGN_UP: _inherited, ...inherited } = process.env;
  const args = [...serverNodeFlags(), ...(opts.nodeArgs ?? []), ...(opts.bundleDir ? ["dist/server.mjs"] : ["--import", "tsx", "tests/support/armory-prebuilt.ts"])];
  const server: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.bundleDir,
    env: {
      ...inherited,
      ...(opts.bundleDir ? { NODE_ENV: "production" } : {}),
      PORT: String(opts.port),
      ARMORY_BIND_ADDRESS: "127.0.0.1",
      ARMORY_DATA_DIR: path.resolve("test-results", `e2e-${opts.name}-${Date.now()}`),
      ARMORY_AGENT_IMAGE_AUTOBUILD: "false",
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      ...opts.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  server.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const deadline = Date.now() + 220_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`Armory exited (${server.exitCode}): ${stderr}`);
    const ok = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`Armory did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 250)); // polling a process's readiness, not synchronising the test
  }
  return {
    url,
    pid: server.pid!,
    async stop() {
      if (server.exitCode !== null) return;
      server.kill("SIGTERM");
      await once(server, "exit");
    },
  };
}

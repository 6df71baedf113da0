// An Armory instance as its own process (tests/cluster/instance-process.ts) on the PostgreSQL
// database `databaseUrl`, so a test can kill it (SIGKILL is a crash). `env` adds config variables
// (ARMORY_RUNTIME, DOCKER_HOST, ANTHROPIC_BASE_URL, ...). Resolves once it serves HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { TEST_AUTH_SECRET } from "./armory";

export interface ProcessInstance {
  url: string;
  /** Its cluster instance id. */
  self: string;
  child: ChildProcess;
  /** Its last output lines (logs), for a failing test to show. */
  output(): string;
}

export async function startInstanceProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ProcessInstance> {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/cluster/instance-process.ts"], {
    env: { ...process.env, DATABASE_URL: databaseUrl, ARMORY_AUTH_SECRET: TEST_AUTH_SECRET, CLUSTER_INSTANCE_ENV: JSON.stringify(env) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (l) => {
      if (l.startsWith("ARMORY_INSTANCE ")) resolve(l.slice("ARMORY_INSTANCE ".length));
      else stdout = `${stdout}${l}\n`.slice(-8000);
    });
    child.once("exit", (code) => reject(new Error(`instance process exited (${code}): ${stderr}`)));
  });
  const { url, self } = JSON.parse(line) as { url: string; self: string };
  return { url, self, child, output: () => `${stdout}${stderr}` };
}

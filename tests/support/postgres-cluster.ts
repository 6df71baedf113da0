// A throwaway PostgreSQL cluster for the test suite: initdb into a temp dir, trust auth,
// a random free port, run as a non-root user (postgres refuses to run as root).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface PostgresCluster {
  /** Superuser URL to the `postgres` database. */
  adminUrl: string;
  port: number;
  /** Creates an empty database `name` (letters, digits and _) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const CANDIDATE_BIN_DIRS = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];

export function findPostgresBinDir(): string {
  const fromEnv = process.env.ARMORY_TEST_PG_BIN;
  const dirs = fromEnv ? [fromEnv] : CANDIDATE_BIN_DIRS;
  const found = dirs.find((d) => fs.existsSync(path.join(d, "postgres")) && fs.existsSync(path.join(d, "initdb")));
  if (!found) {
    throw new Error(
      `PostgreSQL server binaries not found in ${dirs.join(", ")}. Install them (apt-get install postgresql) ` +
        `or set ARMORY_TEST_PG_BIN.`,
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** When running as root, run the server as this user (postgres exists wherever the server package is installed). */
function runAsUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return process.env.ARMORY_TEST_PG_USER ?? "postgres";
}

function wrap(cmd: string, args: string[]): [string, string[]] {
  const user = runAsUser();
  return user ? ["runuser", ["-u", user, "--", cmd, ...args]] : [cmd, args];
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBinDir();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "armory-pg-"));
  const dataDir = path.join(base, "data");
  const user = runAsUser();
  if (user) spawnSync("chown", ["-R", user, base]);

  const [initCmd, initArgs] = wrap(path.join(bin, "initdb"), [
    "-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C",
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = await freePort();
  const [pgCmd, pgArgs] = wrap(path.join(bin, "postgres"), [
    "-D", dataDir, "-p", String(port), "-h", "127.0.0.1", "-k", base,
    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
    "-c", "max_connections=200", "-c", "shared_buffers=64MB",
  ]);
  const child: ChildProcess = spawn(pgCmd, pgArgs, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));

  // Ready when the server says so on stderr (an event, not a poll with sleeps).
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (stderr.includes("ready to accept connections")) {
        child.stderr?.off("data", onData);
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`postgres exited with ${code}: ${stderr}`)));
  });

  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    port,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return adminUrl.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        // runuser does not forward signals: signal the postmaster itself (fast shutdown).
        const postmasterPid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
        process.kill(postmasterPid || (child.pid as number), "SIGINT");
        await exited;
      }
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

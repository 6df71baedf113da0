// The Compose deployment, end to end, on this machine's engine with no registry: the images are
// built here (scripts/app-image.ts: a debootstrap Debian base, the host's Node, armory:local from
// the Dockerfile, Debian's PostgreSQL), then docker-compose.yml runs under a project name of its
// own on a free host port.
//
// Upgrade first: PostgreSQL starts alone and gets the previous release's schema (the migrations
// up to PREVIOUS_RELEASE_LAST_MIGRATION, applied by Armory's own runner) and an account with a
// project written at that schema; then the new app image starts on that volume, applies the
// newer migrations and the old account signs in and finds its project. Then, through the composed
// deployment only (HTTP on the published port): an agent is created and started on the host's
// engine (through the mounted socket) and answers a chat turn (the built-in demo model: no
// ANTHROPIC_API_KEY). Then the app container is re-created (what `docker compose pull && up`
// does with a new image) and everything is still there. `down -v` at the end.
//
// Run alone: npm run test:compose (needs root, debootstrap, docker-compose and the agent image;
// `npm test` runs it last, after the browser tests). Build log: test-results/compose-images.log.
import { execFile, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { hashPassword } from "better-auth/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/server/db";
import { applyMigrations, listMigrations } from "@/server/db/migrate";
import { agentImageTag } from "@/server/runtime/docker/agent-image";
import { LABELS } from "@/server/runtime/docker/containers";
import { docker, removeProjectDockerObjects } from "../support/docker";
import { httpClient } from "../support/http-server";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..", "..");
const composeFile = path.join(root, "docker-compose.yml");

/** The last migration of the previous release (the 5 December 2026 schema). */
const PREVIOUS_RELEASE_LAST_MIGRATION = "20261205193000_agent_pending_instructions";
const APP_IMAGE = "armory:local";
const POSTGRES_IMAGE = "armory-postgres:15-bookworm";
const IMAGE_SIZE_LIMIT = 400e6;

const project = `armory-compose-${process.pid}`;
const agentNetwork = `${project}-uplink`;
const secret = randomBytes(24).toString("hex");
const pgPassword = randomBytes(12).toString("hex");
const legacy = { email: `legacy-${process.pid}@example.test`, password: "legacy-password-0123", name: "Legacy Owner", project: "Legacy project" };

let work = "";
let overrideFile = "";
let envFile = "";
let hostPort = 0;
let baseUrl = "";
let projectId = "";
const timings: Record<string, number> = {};

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

function composeEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "test",
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    ARMORY_AUTH_SECRET: secret,
    POSTGRES_PASSWORD: pgPassword,
    ARMORY_IMAGE: APP_IMAGE,
    ARMORY_POSTGRES_IMAGE: POSTGRES_IMAGE,
    ARMORY_HOST_PORT: String(hostPort),
    ARMORY_AGENT_NETWORK: agentNetwork,
    DOCKER_GID: String(fs.statSync("/var/run/docker.sock").gid),
  };
}

async function compose(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("docker-compose", ["--env-file", envFile, "-p", project, "-f", composeFile, "-f", overrideFile, ...args], {
      cwd: root,
      env: composeEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker-compose ${args.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

async function containerOf(service: string): Promise<string> {
  const id = (await compose("ps", "-q", service)).trim();
  expect(id, `no container for ${service}`).not.toBe("");
  return id;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Two /24s in 10.98.0.0/16 that no network on the engine uses (the engine runs --bridge=none). */
async function freeSubnets(): Promise<[string, string]> {
  const used = new Set(
    (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")).filter((s) => s.startsWith("10.98.")),
  );
  const start = process.pid % 200;
  const free: string[] = [];
  for (let i = 0; i < 250 && free.length < 2; i++) {
    const subnet = `10.98.${(start + i) % 250}.0/24`;
    if (!used.has(subnet)) free.push(subnet);
  }
  return [free[0]!, free[1]!];
}

/** Polls until fn resolves, bounded; the last error explains a timeout. */
async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function containerHealthy(id: string): Promise<void> {
  const info = await docker.getContainer(id).inspect();
  if (!info.State.Running) {
    const logs = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 40 })).toString("utf8");
    throw Object.assign(new Error(`container ${info.Name} is ${info.State.Status} (exit ${info.State.ExitCode}):\n${logs}`), { fatal: true });
  }
  if (info.State.Health?.Status !== "healthy") throw new Error(`health is ${info.State.Health?.Status}`);
}

/** The app answers /api/health on the published port (and its container still runs). */
async function waitForApp(id: string): Promise<void> {
  await until("Armory answering /api/health on the published port", 240_000, async () => {
    const info = await docker.getContainer(id).inspect();
    if (!info.State.Running) {
      const logs = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 60 })).toString("utf8");
      throw new Error(`the app container stopped (exit ${info.State.ExitCode}):\n${logs}`);
    }
    const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) throw new Error(`/api/health answered ${res.status}`);
  });
}

async function signIn(email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  expect(cookie).toMatch(/session_token=/);
  return cookie;
}

/** The previous release's schema and, in it, an account with a project (what that release wrote). */
async function seedPreviousRelease(): Promise<void> {
  const pgId = await containerOf("postgres");
  await until("PostgreSQL healthy", 120_000, () => containerHealthy(pgId));
  const info = await docker.getContainer(pgId).inspect();
  const ip = info.NetworkSettings.Networks[`${project}_default`]?.IPAddress;
  expect(ip, "postgres has no address on the compose network").toBeTruthy();
  const url = `postgresql://armory:${pgPassword}@${ip}:5432/armory`;

  const all = listMigrations(path.join(root, "prisma", "migrations"));
  const cut = all.findIndex((m) => m.name === PREVIOUS_RELEASE_LAST_MIGRATION);
  expect(cut, `${PREVIOUS_RELEASE_LAST_MIGRATION} is not in prisma/migrations`).toBeGreaterThanOrEqual(0);
  expect(cut, "the previous release must be older than the newest migration").toBeLessThan(all.length - 1);
  const previous = path.join(work, "migrations");
  fs.mkdirSync(previous);
  fs.copyFileSync(path.join(root, "prisma", "migrations", "migration_lock.toml"), path.join(previous, "migration_lock.toml"));
  for (const m of all.slice(0, cut + 1)) fs.cpSync(path.dirname(m.sqlPath), path.join(previous, m.name), { recursive: true });
  const db = await openDatabase({ databaseUrl: url });
  try {
    const { applied } = await applyMigrations(db, { migrationsDir: previous });
    expect(applied.at(-1)).toBe(PREVIOUS_RELEASE_LAST_MIGRATION);
  } finally {
    await db.close();
  }

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Ids as that release made them (UUIDs; the API refuses anything else).
    const userId = randomUUID();
    const projId = randomUUID();
    await client.query("BEGIN");
    await client.query(`INSERT INTO "user" ("id", "name", "email", "emailVerified", "updatedAt", "isAdmin") VALUES ($1, $2, $3, false, now(), true)`, [
      userId,
      legacy.name,
      legacy.email,
    ]);
    await client.query(
      `INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "updatedAt") VALUES ($1, $2, 'credential', $2, $3, now())`,
      [randomUUID(), userId, await hashPassword(legacy.password)],
    );
    await client.query(`INSERT INTO "project" ("id", "name", "updatedAt", "createdById") VALUES ($1, $2, now(), $3)`, [projId, legacy.project, userId]);
    await client.query(`INSERT INTO "project_member" ("projectId", "userId", "role") VALUES ($1, $2, 'owner')`, [projId, userId]);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "armory-compose-test-"));
  envFile = path.join(work, "empty.env"); // so a developer's .env changes nothing here
  fs.writeFileSync(envFile, "");
  hostPort = await freePort();
  baseUrl = `http://127.0.0.1:${hostPort}`;
  const [defaultSubnet, uplinkSubnet] = await freeSubnets();
  overrideFile = path.join(work, "docker-compose.test.yml");
  fs.writeFileSync(
    overrideFile,
    [
      "# The engine here runs with --bridge=none: every network needs its subnet given.",
      "networks:",
      "  default:",
      "    ipam:",
      "      config:",
      `        - subnet: ${defaultSubnet}`,
      "  agents:",
      // docker-compose 1.29 drops the base file's `name:` when an override file mentions the network.
      `    name: ${agentNetwork}`,
      "    ipam:",
      "      config:",
      `        - subnet: ${uplinkSubnet}`,
      "",
    ].join("\n"),
  );
  await docker.getImage(agentImageTag()).inspect(); // the agents' image must be on the engine

  fs.mkdirSync(path.join(root, "test-results"), { recursive: true });
  const logFile = path.join(root, "test-results", "compose-images.log");
  await timed("images", () =>
    new Promise<void>((resolve, reject) => {
      const out = fs.openSync(logFile, "w");
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/app-image.ts"], { cwd: root, stdio: ["ignore", out, out] });
      child.once("error", reject);
      child.once("close", (code) => {
        fs.closeSync(out);
        if (code === 0) resolve();
        else reject(new Error(`scripts/app-image.ts exited with ${code}; the end of ${logFile}:\n${fs.readFileSync(logFile, "utf8").slice(-4000)}`));
      });
    }),
  );

  await timed("postgres + previous schema", async () => {
    await compose("up", "-d", "--no-build", "postgres");
    await seedPreviousRelease();
  });
  await timed("app start", async () => {
    await compose("up", "-d", "--no-build");
    await waitForApp(await containerOf("armory"));
  });
}, 45 * 60_000);

afterAll(async () => {
  await removeProjectDockerObjects(projectId);
  if (overrideFile) await compose("down", "-v", "--remove-orphans").catch((err: Error) => console.error(err.message));
  // Compose made the uplink network and removed it; should Armory have made it (a failed start), it goes too.
  await docker
    .getNetwork(agentNetwork)
    .remove()
    .catch(() => undefined);
  if (work) fs.rmSync(work, { recursive: true, force: true });
  console.log(`compose test timings (ms): ${JSON.stringify(timings)}`);
}, 300_000);

describe("docker-compose.yml, end to end", () => {
  let cookie = "";
  let agentId = "";
  let sessionId = "";
  let runId = "";

  it("upgrades a database at the previous release's schema: the newer migrations apply at start and the old data is there", async () => {
    const client = new pg.Client({
      connectionString: `postgresql://armory:${pgPassword}@${(await docker.getContainer(await containerOf("postgres")).inspect()).NetworkSettings.Networks[`${project}_default`]!.IPAddress}:5432/armory`,
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ migration_name: string }>(`SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name`);
      expect(rows.map((r) => r.migration_name)).toEqual(listMigrations(path.join(root, "prisma", "migrations")).map((m) => m.name));
    } finally {
      await client.end();
    }
    cookie = await signIn(legacy.email, legacy.password);
    const projects = await httpClient(baseUrl, cookie).project.list.query();
    const found = projects.find((p) => p.name === legacy.project);
    expect(found, JSON.stringify(projects)).toBeDefined();
    projectId = found!.id;
  });

  it("runs a slim image as a non-root user that joins the Docker socket's group", async () => {
    const id = await containerOf("armory");
    const info = await docker.getContainer(id).inspect();
    expect(info.Config.User).toBe("armory");
    expect(info.HostConfig.GroupAdd).toContain(String(fs.statSync("/var/run/docker.sock").gid));
    const image = await docker.getImage(APP_IMAGE).inspect();
    console.log(`${APP_IMAGE}: ${(image.Size / 1e6).toFixed(0)} MB`);
    expect(image.Size).toBeLessThan(IMAGE_SIZE_LIMIT);
    expect(image.Config.Cmd).toEqual(["node", "--max-semi-space-size=4", "dist/server.mjs"]);
  });

  it("creates an agent on the host's engine and gets a chat reply through the composed deployment", async () => {
    const trpc = httpClient(baseUrl, cookie);
    const templates = await trpc.template.list.query({ projectId });
    const coder = templates.find((t) => t.name === "claude-coder");
    expect(coder, templates.map((t) => t.name).join(", ")).toBeDefined();
    const agent = await timed("agent create+start", () => trpc.agent.create.mutate({ projectId, templateId: coder!.id, name: "composed", start: true }));
    agentId = agent.id;
    const sent = await trpc.chat.send.mutate({ projectId, agentId, message: "Hello from compose" });
    sessionId = sent.sessionId;
    runId = sent.runId;
    const events = await timed("chat turn", () =>
      until("the chat turn to complete", 180_000, async () => {
        const { events } = await trpc.chat.history.query({ projectId, agentId, sessionId });
        const mine = events.filter((e) => e.runId === runId);
        const end = mine.find((e) => e.type === "run_completed" || e.type === "run_failed");
        if (!end) throw new Error(`turn not finished: ${mine.map((e) => e.type).join(", ")}`);
        return mine;
      }),
    );
    if (!events.some((e) => e.type === "run_completed")) {
      const logs = (await docker.getContainer(await containerOf("armory")).logs({ stdout: true, stderr: true, tail: 60 })).toString("utf8");
      let agents = "";
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.projectId}=${projectId}`] } })) {
        const tail = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: 15 })).toString("utf8");
        agents += `--- ${c.Names.join(",")} (${c.State}):\n${tail}\n`;
      }
      expect.fail(`the turn failed: ${JSON.stringify(events.at(-1))}\nthe app's last log lines:\n${logs.slice(-3000)}\nthe project's containers:\n${agents}`);
    }
    const reply = JSON.stringify(events.filter((e) => e.type !== "user_message"));
    expect(reply).toContain("Armory's demo model");
    expect(reply).toContain("Hello from compose");
  }, 300_000);

  it("keeps accounts, agents and chats when the app container is re-created (compose pull && up)", async () => {
    const before = await containerOf("armory");
    await timed("re-create app", async () => {
      await compose("up", "-d", "--no-build", "--force-recreate", "--no-deps", "armory");
      const after = await containerOf("armory");
      expect(after).not.toBe(before);
      await waitForApp(after);
    });
    const trpc = httpClient(baseUrl, await signIn(legacy.email, legacy.password));
    expect((await trpc.agent.get.query({ projectId, agentId })).name).toBe("composed");
    const { events } = await trpc.chat.history.query({ projectId, agentId, sessionId });
    expect(events.filter((e) => e.runId === runId).map((e) => e.type)).toContain("run_completed");
  }, 300_000);
});

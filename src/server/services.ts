// The process-wide services (config, logger, database, auth, Docker, agents). Armory's server
// (src/server/main.ts) creates them once before it listens and registers them
// (services-registry.ts), where Next's route handlers find them; tests create their own.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DefaultAgentImage } from "./agents/images";
import { AgentManager } from "./agents/manager";
import { createAuth, type Auth } from "./auth";
import type { Config } from "./config";
import { openDatabase, type Database } from "./db";
import { applyMigrations } from "./db/migrate";
import { createDockerClient, type Docker } from "./docker/client";
import { syncTemplates } from "./domain/templates";
import { createLogger, type Logger } from "./logger";
import { ChatService } from "./chat/service";
import { ModelGateway } from "./gateway/gateway";

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  auth: Auth;
  docker: Docker;
  agentImage: DefaultAgentImage;
  agents: AgentManager;
  gateway: ModelGateway;
  chat: ChatService;
  startedAt: Date;
  /** Starts the long-lived work (Docker events, reconcile loop, image build); once per process. */
  startBackground(): void;
  close(): Promise<void>;
}

export function pgliteDirFor(config: Pick<Config, "dataDir">): string {
  return path.join(config.dataDir, "pglite");
}

/**
 * The auth secret comes from ARMORY_AUTH_SECRET; on an embedded start without one, a random
 * secret is generated once into the data directory so sessions survive restarts.
 */
export function resolveAuthSecret(config: Config, log: Logger): string {
  if (config.authSecret) return config.authSecret;
  const file = path.join(config.dataDir, "auth-secret");
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
  log.warn(
    { file },
    "ARMORY_AUTH_SECRET is not set: generated one into the data directory. Keep that file private and backed up, or set ARMORY_AUTH_SECRET.",
  );
  return secret;
}

export interface CreateServicesOptions {
  config: Config;
  log?: Logger;
  /** An already open database (tests); otherwise opened from the config. */
  db?: Database;
  authSecret?: string;
  migrate?: boolean;
  /** Directory of built-in templates (default ./templates). */
  templatesDir?: string;
  docker?: Docker;
}

export async function createServices(opts: CreateServicesOptions): Promise<Services> {
  const { config } = opts;
  const log = opts.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const db =
    opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirFor(config) }));
  try {
    if (opts.migrate !== false) {
      const result = await applyMigrations(db, {
        log: (msg, data) => {
          // The runner says its level in the data; pino has its own level field.
          const { level, ...fields } = (data ?? {}) as { level?: string };
          if (level === "warn") log.warn(fields, msg);
          else log.info(fields, msg);
        },
      });
      if (result.applied.length) log.info({ applied: result.applied }, "database migrations applied");
    }
    await syncTemplates(db.prisma, { dir: opts.templatesDir, log });
    const secret = opts.authSecret ?? resolveAuthSecret(config, log);
    const auth = createAuth({ prisma: db.prisma, config, secret, log });
    const docker = opts.docker ?? createDockerClient();
    const agentImage = new DefaultAgentImage(docker, log);
    const gateway = new ModelGateway({ prisma: db.prisma, config, log: log.child({ component: "gateway" }), docker, secret });
    const agents = new AgentManager({
      prisma: db.prisma,
      docker,
      log,
      images: agentImage,
      network: config.agentNetwork,
      extraEnv: (agentId) => gateway.agentEnv(agentId),
    });
    const chat = new ChatService({ prisma: db.prisma, docker, log: log.child({ component: "chat" }), config, gateway });
    await chat.recover();
    let background = false;
    return {
      config,
      log,
      db,
      auth,
      docker,
      agentImage,
      agents,
      gateway,
      chat,
      startedAt: new Date(),
      startBackground() {
        if (background) return;
        background = true;
        agents.startBackground();
        // Agents reach the model gateway on the agent network's gateway address.
        void gateway.baseUrl().catch((err: unknown) => log.warn({ err: (err as Error).message }, "model gateway listener not started"));
        if (config.agentImageAutobuild) void agentImage.buildInBackground().catch(() => {});
      },
      async close() {
        await chat.close();
        await gateway.close();
        await agents.stopBackground();
        await db.close();
      },
    };
  } catch (err) {
    if (!opts.db) await db.close();
    throw err;
  }
}

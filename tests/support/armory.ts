// Test harness: real services (database + migrations + better-auth) on a fresh database of
// either kind, signed-up users, tRPC callers, and the same HTTP handlers the Next routes use.
import { Writable } from "node:stream";
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { loadConfig, type Config } from "@/server/config";
import { openDatabase } from "@/server/db";
import type { Docker } from "@/server/runtime/docker/client";
import { createLogger } from "@/server/logger";
import type { SelfHealSettings } from "@/server/health/monitor";
import type { NotificationClock } from "@/server/notifications/service";
import type { ScheduleClock } from "@/server/schedules/service";
import { createServices, type Services } from "@/server/services";
import { createTestDatabase, type DbKind, type TestDatabaseTarget } from "./databases";

export const TEST_AUTH_SECRET = "test-secret-test-secret-test-secret-0123456789";

/** Captures JSON log lines so tests can assert on them (e.g. no secrets logged). */
export class LogCapture extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.lines.push(...chunk.toString().split("\n").filter(Boolean));
    cb();
  }
  get text() {
    return this.lines.join("\n");
  }
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    ARMORY_DATA_DIR: "test-results/unused-data-dir",
    LOG_LEVEL: "info",
    // Tests build the agent image explicitly (tests/support/agent-image.ts), never in the background.
    ARMORY_AGENT_IMAGE_AUTOBUILD: "false",
    ARMORY_AGENT_NETWORK: "armory-test",
    // Most tests sign up many users; tests of the instance door (tests/integration/instance.test.ts)
    // set ARMORY_SIGN_UP themselves.
    ARMORY_SIGN_UP: "open",
    ...overrides,
  });
}

export interface TestArmory {
  kind: DbKind;
  target: TestDatabaseTarget;
  services: Services;
  logs: LogCapture;
  /** Reopens the services on the same database (a restart). */
  restart(): Promise<Services>;
  close(): Promise<void>;
}

export async function startTestArmory(
  kind: DbKind,
  configOverrides: Record<string, string> = {},
  extra: { docker?: Docker; selfHeal?: Partial<SelfHealSettings>; healthClock?: () => number; notificationClock?: NotificationClock; scheduleClock?: ScheduleClock } = {},
): Promise<TestArmory> {
  const target = await createTestDatabase(kind);
  const config = testConfig(configOverrides);
  const logs = new LogCapture();
  const open = async () =>
    createServices({
      config,
      db: await openDatabase(target.options),
      log: createLogger({ level: "debug", format: "json", destination: logs }),
      authSecret: TEST_AUTH_SECRET,
      docker: extra.docker,
      selfHeal: extra.selfHeal,
      healthClock: extra.healthClock,
      notificationClock: extra.notificationClock,
      scheduleClock: extra.scheduleClock,
    });
  const harness: TestArmory = {
    kind,
    target,
    logs,
    services: await open(),
    async restart() {
      await harness.services.close();
      harness.services = await open();
      return harness.services;
    },
    async close() {
      await harness.services.close();
      await target.drop();
    },
  };
  return harness;
}

let userCounter = 0;
export interface TestUser {
  id: string;
  email: string;
  password: string;
  /** Cookie header value carrying the session. */
  cookie: string;
  headers: Headers;
}

export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++userCounter}@example.test`;
}

function cookieFrom(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

/** Signs a new user up through better-auth's real endpoint and returns its session cookie. */
export async function signUp(
  services: Services,
  opts: { name?: string; email?: string; password?: string; invitation?: string } = {},
): Promise<TestUser> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? "correct horse battery";
  const res = await services.auth.api.signUpEmail({
    body: { name: opts.name ?? "Test User", email, password, ...(opts.invitation ? { invitation: opts.invitation } : {}) },
    asResponse: true,
  });
  if (!res.ok) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { id: string } };
  const cookie = cookieFrom(res);
  return { id: body.user.id, email, password, cookie, headers: new Headers({ cookie }) };
}

/** A tRPC caller as the given user (or anonymous), through the real context and middlewares. */
export async function callerFor(services: Services, user?: TestUser | null) {
  const headers = user ? user.headers : new Headers();
  return createCaller(await createContext({ services, headers }));
}


export { startHttp } from "./http-server";

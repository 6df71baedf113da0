// better-auth, in-process, on Armory's own Prisma database.
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import type { Config } from "../config";
import type { PrismaClient } from "../db";
import type { Logger } from "../logger";
import { trustedOriginsFor } from "../http-boundary";
import { INSTANCE_USER_FIELDS, instanceDoor } from "../instance/door";
import { authBoundary } from "./boundary";

/** Header the HTTP server sets from the socket's address (or a trusted proxy's header). */
export const CLIENT_IP_HEADER = "x-armory-client-ip";

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export interface CreateAuthOptions {
  prisma: PrismaClient;
  config: Pick<Config, "publicUrl" | "signInRateLimit" | "port" | "signUp"> & Partial<Pick<Config, "trustProxy">>;
  secret: string;
  /** better-auth's own messages go to Armory's structured log. */
  log?: Logger;
}

export function createAuth({ prisma, config, secret, log }: CreateAuthOptions) {
  const authLog = log?.child({ component: "auth" });
  const { max, windowSeconds } = config.signInRateLimit;
  // Who may sign up (ARMORY_SIGN_UP, first account = instance admin) and no session for a disabled user.
  const door = instanceDoor(prisma, config.signUp, authLog);
  return betterAuth({
    appName: "Armory",
    secret,
    // A fixed public URL when one is configured (behind a proxy); otherwise the URL is taken
    // from each request, so auth works on whatever host and port Armory is served. Trusted
    // origins: that URL and the request's own origin, no wildcard (a dynamic baseURL with
    // allowedHosts ["*"] would trust every origin).
    baseURL: config.publicUrl,
    trustedOrigins: (request) => trustedOriginsFor(request?.headers, config.publicUrl, config.trustProxy),
    plugins: [authBoundary({ publicUrl: config.publicUrl, trustProxy: config.trustProxy })],
    basePath: "/api/auth",
    database: prismaAdapter(prisma, { provider: "postgresql" }),
    emailAndPassword: {
      enabled: true,
      autoSignIn: true,
      minPasswordLength: PASSWORD_MIN_LENGTH,
      maxPasswordLength: PASSWORD_MAX_LENGTH,
    },
    user: { additionalFields: INSTANCE_USER_FIELDS },
    hooks: door.hooks,
    databaseHooks: door.databaseHooks,
    session: {
      expiresIn: 60 * 60 * 24 * 30,
      updateAge: 60 * 60 * 24,
    },
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 300,
      customRules: {
        "/sign-in/email": { window: windowSeconds, max },
        "/sign-up/email": { window: windowSeconds, max },
      },
    },
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      // The server decides which proxy headers to believe (ARMORY_TRUST_PROXY).
      trustedProxyHeaders: false,
      // Secure cookies when people reach Armory over https (its own listener is plain http).
      useSecureCookies: config.publicUrl?.startsWith("https://") ?? false,
    },
    telemetry: { enabled: false },
    logger: authLog
      ? {
          level: "info",
          log: (level, message, ...args) => {
            // Expected without ARMORY_PUBLIC_URL: the URL is taken from each request on purpose.
            if (message.includes("Base URL is not set")) return;
            // Only the message: arguments can carry request bodies.
            authLog[level === "debug" ? "debug" : level](args.length ? { details: args.length } : {}, message);
          },
        }
      : undefined,
  });
}

export type Auth = ReturnType<typeof createAuth>;
export type AuthSession = NonNullable<Awaited<ReturnType<Auth["api"]["getSession"]>>>;
export type SessionUser = AuthSession["user"];

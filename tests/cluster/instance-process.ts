// One Armory instance as its own process for the cluster tests: the real services on the
// PostgreSQL database DATABASE_URL names, behind the same HTTP handlers the Next routes use
// (tests/support/http-server.ts), with short cluster timings. Prints one JSON line
// ("ARMORY_INSTANCE" and { url, self }) when it serves; SIGTERM closes it, SIGKILL is the test's crash.
// CLUSTER_INSTANCE_ENV (JSON) adds config variables (tests/support/armory-process.ts).
import { loadConfig } from "@/server/config";
import { createLogger } from "@/server/logger";
import { createServices } from "@/server/services";
import { startHttp } from "../support/http-server";

const config = loadConfig({
  NODE_ENV: "test",
  // The same data directory as the test's own instance: the same generated secret key.
  ARMORY_DATA_DIR: process.env.CLUSTER_INSTANCE_DATA_DIR ?? "test-results/unused-data-dir",
  LOG_LEVEL: "warn",
  ARMORY_AGENT_IMAGE_AUTOBUILD: "false",
  ARMORY_AGENT_NETWORK: "armory-test",
  ARMORY_SIGN_UP: "open",
  ARMORY_GATEWAY_PORT: "0",
  // The fake daemon plays one Claude Code process at a time (tests/docker/chat-prewarm.test.ts proves pre-warming with the real CLI).
  ARMORY_CHAT_PREWARM: "false",
  DATABASE_URL: process.env.DATABASE_URL,
  ...(JSON.parse(process.env.CLUSTER_INSTANCE_ENV ?? "{}") as Record<string, string>),
});
const services = await createServices({
  config,
  log: createLogger({ level: "warn", format: "json" }),
  authSecret: process.env.ARMORY_AUTH_SECRET,
  cluster: { heartbeatMs: 500, expireMs: 4000, leaderPollMs: 250 },
});
services.startBackground();
const http = await startHttp(() => services);
process.stdout.write("ARMORY_INSTANCE " + JSON.stringify({ url: http.url, self: services.cluster.self }) + "\n");
process.once("SIGTERM", () => {
  void http
    .close()
    .then(() => services.close())
    .finally(() => process.exit(0));
});

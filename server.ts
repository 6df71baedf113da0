// Entry point for `npm start` / `npm run dev`: start Armory, stop cleanly on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from "./src/server/config";
import { startArmory } from "./src/server/main";

// Defined as true only in the container image's bundle of this file (scripts/bundle-server.ts):
// there the web app was built with the image and no sources are shipped to rebuild from.
// Under tsx (`npm start`, `npm run dev`) it is undefined and start builds when needed.
declare const ARMORY_PREBUILT: boolean | undefined;
const prebuilt = typeof ARMORY_PREBUILT !== "undefined" && ARMORY_PREBUILT;

function fail(message: string): never {
  process.stderr.write(`\nArmory could not start.\n${message}\n\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

const EXPECTED = new Set(["DatabaseUnavailableError", "MigrationError", "ConfigError"]);

try {
  const armory = await startArmory({ config, skipBuild: prebuilt });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    armory.services.log.info({ signal }, "shutting down");
    armory.close().then(
      () => process.exit(0),
      (err: unknown) => {
        armory.services.log.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (err) {
  const e = err as Error;
  if (EXPECTED.has(e.name) || /already in use|Cannot bind|next build failed/.test(e.message)) fail(e.message);
  process.stderr.write(`\nArmory could not start: ${e.stack ?? e.message}\n`);
  process.exit(1);
}

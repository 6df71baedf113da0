// Starts an Armory on the current Next build without the "build if needed" step (browser specs
// that need an instance of their own, beside Playwright's shared server which built the app):
// `node --import tsx tests/support/armory-prebuilt.ts`, configured by the environment like
// server.ts; SIGTERM stops it cleanly.
import { loadConfig } from "../../src/server/config";
import { startArmory } from "../../src/server/main";

const armory = await startArmory({ config: loadConfig(), skipBuild: true });
process.on("SIGTERM", () => {
  armory.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

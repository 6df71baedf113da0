// `npm run secrets:rotate`: re-encrypts every secret under a new master key.
//   ARMORY_NEW_SECRET_KEY=<64 hex chars> npm run secrets:rotate   (or leave it unset: one is generated)
// Stop Armory first (the embedded database opens from one process only). With the generated key
// file, the file is replaced; with ARMORY_SECRET_KEY, set it to the new key before starting Armory.
import path from "node:path";
import { ConfigError, describeDatabase, loadConfig } from "../src/server/config";
import { DatabaseUnavailableError, openDatabase } from "../src/server/db";
import { DomainError } from "../src/server/domain/errors";
import { createLogger } from "../src/server/logger";
import { generateMasterKey, parseMasterKey } from "../src/server/secrets/crypto";
import { rotateMasterKey } from "../src/server/secrets/rotate";

async function main(): Promise<number> {
  const config = loadConfig();
  const log = createLogger({ level: "warn", format: "pretty" });
  const given = process.env.ARMORY_NEW_SECRET_KEY?.trim();
  const nextKey = given ? parseMasterKey(given) : null;
  if (given && !nextKey) {
    console.error("Error: ARMORY_NEW_SECRET_KEY must be 64 hex characters (openssl rand -hex 32) or base64 of 32 bytes.");
    return 2;
  }
  const next = nextKey ? { key: nextKey, text: given! } : generateMasterKey();
  console.log(`Database: ${describeDatabase(config)}`);
  const db = await openDatabase(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { pgliteDir: path.join(config.dataDir, "pglite") });
  try {
    const result = await rotateMasterKey({ prisma: db.prisma, config, log, next });
    console.log(`Re-encrypted ${result.reencrypted} secret(s): key ${result.fromKeyId} -> ${result.toKeyId}.`);
    if (result.keyFile) console.log(`The new key is in ${result.keyFile}.`);
    else if (given) console.log("Now set ARMORY_SECRET_KEY to the new key (ARMORY_NEW_SECRET_KEY) and start Armory.");
    else console.log(`Now set ARMORY_SECRET_KEY=${next.text} and start Armory (this is the only time it is shown).`);
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof DatabaseUnavailableError || err instanceof DomainError) console.error(`Error: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);

// Master-key rotation: every secret is re-encrypted from the current key to a new one in one
// transaction. When the current key is the generated one in the data directory, the file is
// replaced too; when it comes from ARMORY_SECRET_KEY, the operator sets the new value next.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../db";
import type { Logger } from "../logger";
import { resolveMasterKey, SECRET_KEY_FILE, type MasterKey } from "./crypto";
import { SecretStore } from "./store";

export interface RotateResult {
  reencrypted: number;
  fromKeyId: string;
  toKeyId: string;
  /** The key file that now holds the new key, or null when ARMORY_SECRET_KEY must be changed by hand. */
  keyFile: string | null;
}

export async function rotateMasterKey(opts: {
  prisma: PrismaClient;
  config: { secretKey: string | undefined; dataDir: string; databaseUrl: string | undefined };
  log: Logger;
  next: { key: MasterKey; text: string };
}): Promise<RotateResult> {
  const current = resolveMasterKey(opts.config, opts.log);
  const store = new SecretStore(opts.prisma, current);
  const { reencrypted } = await store.rotate(opts.next.key);
  let keyFile: string | null = null;
  if (!opts.config.secretKey) {
    keyFile = path.join(opts.config.dataDir, SECRET_KEY_FILE);
    const tmp = `${keyFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, opts.next.text + "\n", { mode: 0o600, flag: "wx" });
    fs.renameSync(tmp, keyFile);
  }
  opts.log.info({ reencrypted, from: current.id, to: opts.next.key.id }, "secrets re-encrypted under the new key");
  return { reencrypted, fromKeyId: current.id, toKeyId: opts.next.key.id, keyFile };
}

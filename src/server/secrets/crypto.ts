// Secret values at rest: AES-256-GCM under the master key (ARMORY_SECRET_KEY, or a key generated
// into the data directory). The stored form is base64url(iv | tag | ciphertext); the key's
// fingerprint (keyId) is stored beside it so a wrong key is named, not mistaken for corruption.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DomainError } from "../domain/errors";
import { ensurePrivateDir } from "../private-dir";
import type { Logger } from "../logger";

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_FILE = "secret-key";

export interface MasterKey {
  /** 32 raw bytes. */
  key: Buffer;
  /** Short fingerprint (not reversible) naming the key in the database and in messages. */
  id: string;
}

/**
 * Parses a master key: 64 hex characters, or base64/base64url of exactly 32 bytes
 * (`openssl rand -hex 32`, `openssl rand -base64 32`). Returns null when it is neither.
 */
export function parseMasterKey(text: string): MasterKey | null {
  const t = text.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, "hex");
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (b.length === 32) key = b;
  }
  return key ? masterKeyFrom(key) : null;
}

export function masterKeyFrom(key: Buffer): MasterKey {
  if (key.length !== 32) throw new Error("the master key must be 32 bytes");
  const id = createHash("sha256").update("armory-secret-key:").update(key).digest("hex").slice(0, 12);
  return { key, id };
}

export function generateMasterKey(): { text: string; key: MasterKey } {
  const raw = randomBytes(32);
  return { text: raw.toString("hex"), key: masterKeyFrom(raw) };
}

/** Encrypts one value (a fresh random IV each time; the secret's name is bound as associated data). */
export function encryptSecret(master: MasterKey, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", master.key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64url");
}

export function decryptSecret(master: MasterKey, stored: string, aad: string): string {
  const buf = Buffer.from(stored, "base64url");
  if (buf.length < IV_BYTES + TAG_BYTES) throw new Error("stored secret is truncated");
  const decipher = createDecipheriv("aes-256-gcm", master.key, buf.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(buf.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(buf.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
}

/**
 * The master key: ARMORY_SECRET_KEY when set; otherwise the key in `$ARMORY_DATA_DIR/secret-key`,
 * generated there (mode 0600) on first start with a warning. The same holds with DATABASE_URL set
 * (like the auth secret): the data directory must then be kept (a volume), or set the variable.
 */
export function resolveMasterKey(
  config: { secretKey: string | undefined; dataDir: string; databaseUrl: string | undefined },
  log: Logger,
): MasterKey {
  if (config.secretKey) {
    const key = parseMasterKey(config.secretKey);
    // config.ts validated the format already; this only guards direct callers.
    if (!key) throw new DomainError("BAD_REQUEST", "ARMORY_SECRET_KEY must be 64 hex characters or base64 of 32 bytes");
    return key;
  }
  const file = path.join(config.dataDir, SECRET_KEY_FILE);
  const existing = readKeyFile(file);
  if (existing) return existing;
  ensurePrivateDir(config.dataDir);
  const generated = generateMasterKey();
  // Written whole to a private temp file, then linked into place: two processes starting at
  // once (test workers) agree on the first key linked, and nobody reads a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, generated.text + "\n", { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const other = readKeyFile(file);
    if (other) return other;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  log.warn(
    { file, keyId: generated.key.id, database: config.databaseUrl ? "postgresql" : "embedded" },
    config.databaseUrl
      ? "ARMORY_SECRET_KEY is not set: generated a secret-encryption key into the data directory. With PostgreSQL, set ARMORY_SECRET_KEY instead (or keep that file on a volume and backed up): secrets cannot be decrypted without it."
      : "ARMORY_SECRET_KEY is not set: generated a secret-encryption key into the data directory. Keep that file private and backed up: secrets cannot be decrypted without it.",
  );
  return generated.key;
}

function readKeyFile(file: string): MasterKey | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const key = parseMasterKey(text);
  if (!key) throw new Error(`${file} does not hold a valid secret key (64 hex characters); restore it from a backup or set ARMORY_SECRET_KEY`);
  return key;
}

// Where `armory login` keeps the URL, token and default project: $XDG_CONFIG_HOME/armory/config.json
// (else ~/.config/armory/config.json), written with mode 0600 in a 0700 directory. ARMORY_URL,
// ARMORY_TOKEN and ARMORY_PROJECT in the environment win over the file.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError, EXIT } from "./exit-codes";

export interface StoredConfig {
  url?: string;
  token?: string;
  /** The default project's id (and its name, for messages). */
  project?: { id: string; name: string };
}

export function configDir(env = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), ".config");
  return path.join(base, "armory");
}

export const configPath = (env = process.env) => path.join(configDir(env), "config.json");

export async function readConfig(env = process.env): Promise<StoredConfig> {
  try {
    return JSON.parse(await readFile(configPath(env), "utf8")) as StoredConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`cannot read ${configPath(env)}: ${(err as Error).message}`, EXIT.error);
  }
}

export async function writeConfig(config: StoredConfig, env = process.env): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = configPath(env);
  const tmp = `${file}.${process.pid}.tmp`;
  // Created 0600 (no window where another user could read the token), then moved into place.
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

export interface Connection {
  url: string;
  token: string;
}

/** The URL and token to use: the environment first, then the saved login. */
export async function connection(env = process.env): Promise<Connection> {
  const stored = await readConfig(env);
  const url = env.ARMORY_URL || stored.url;
  const token = env.ARMORY_TOKEN || stored.token;
  if (!url || !token) throw new CliError("not logged in: run `armory login <url>` (or set ARMORY_URL and ARMORY_TOKEN)", EXIT.usage, "NOT_LOGGED_IN");
  return { url, token };
}

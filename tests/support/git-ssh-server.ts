// A real git server over ssh for the git suites: an ssh2 Server that accepts the public keys it is
// given (deploy keys) and runs git-upload-pack / git-receive-pack against bare repositories in a
// temporary directory (the same layout as git-server.ts, read by the test with plain git). Its host
// key can be replaced (rotateHostKey) on the same port, to prove that a changed key is refused.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ssh2 from "ssh2";
import { gitIn, seedBareRepo } from "./git-server";

const { Server, utils } = ssh2;

export interface SshKeyPair {
  /** OpenSSH private key (what a deploy-key secret holds). */
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
}

export function generateDeployKey(comment = "armory-test"): SshKeyPair {
  const k = utils.generateKeyPairSync("ed25519", { comment });
  return { privateKey: k.private, publicKey: k.public };
}

export interface GitSshServer {
  host: string;
  port: number;
  root: string;
  /** ssh://git@<host>:<port>/<name>.git */
  url(name: string): string;
  /** The known_hosts line of the current host key: `[host]:port ssh-ed25519 AAAA...`. */
  knownHostsLine(): string;
  /** Authentication attempts: the key's fingerprint-ish base64 and whether it was accepted. */
  auths: { key: string; accepted: boolean }[];
  /** Commands run: `git-upload-pack '/acme/app.git'`, ... */
  commands: string[];
  authorize(publicKey: string): void;
  createRepo(name: string, files: Record<string, string>, branch?: string): string;
  git(name: string, args: string[]): string;
  /** Restarts on the same port with a new host key. */
  rotateHostKey(): Promise<void>;
  close(): Promise<void>;
}

const COMMAND_RE = /^(git-upload-pack|git-receive-pack) '?\/?([A-Za-z0-9._/-]+?)'?$/;

export async function startGitSshServer(opts: { host: string; authorizedKeys: string[] }): Promise<GitSshServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "armory-git-ssh-"));
  const allowed = opts.authorizedKeys.map((k) => utils.parseKey(k));
  const auths: GitSshServer["auths"] = [];
  const commands: string[] = [];
  let hostKey = utils.generateKeyPairSync("ed25519");
  let port = 0;
  let server: InstanceType<typeof Server> | null = null;
  const clients = new Set<ssh2.Connection>();

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = new Server({ hostKeys: [hostKey.private] }, (client) => {
        clients.add(client);
        client.on("close", () => clients.delete(client));
        client.on("error", () => {});
        client.on("authentication", (ctx) => {
          if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
          const key = allowed.find((k) => !(k instanceof Error) && k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data));
          const seen = ctx.key.data.toString("base64");
          if (!key || key instanceof Error) {
            auths.push({ key: seen, accepted: false });
            return ctx.reject(["publickey"]);
          }
          if (!ctx.signature) return ctx.accept(); // the client asks whether the key would do
          const ok = key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true;
          auths.push({ key: seen, accepted: ok });
          return ok ? ctx.accept() : ctx.reject(["publickey"]);
        });
        client.on("ready", () => {
          client.on("session", (accept) => {
            const session = accept();
            const env: Record<string, string> = {};
            session.on("env", (acceptEnv, _reject, info) => {
              if (info.key === "GIT_PROTOCOL") env.GIT_PROTOCOL = info.val;
              acceptEnv?.();
            });
            session.on("exec", (acceptExec, rejectExec, info) => {
              commands.push(info.command);
              const m = COMMAND_RE.exec(info.command);
              const repo = m ? path.join(root, m[2]!) : null;
              if (!m || !repo || m[2]!.includes("..") || !fs.existsSync(repo)) return rejectExec();
              const stream = acceptExec();
              const child = spawn(m[1]!, [repo], { env: { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: "1", ...env } as unknown as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
              stream.pipe(child.stdin);
              child.stdout.pipe(stream, { end: false });
              child.stderr.pipe(stream.stderr, { end: false });
              child.on("close", (code) => {
                stream.exit(code ?? 1);
                stream.end();
              });
            });
          });
        });
      });
      s.once("error", reject);
      s.listen(port, "0.0.0.0", () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.close(() => resolve());
      // Open connections would hold close() back.
      for (const c of clients) c.end();
      clients.clear();
    });

  await listen();
  return {
    host: opts.host,
    get port() {
      return port;
    },
    root,
    url: (name) => `ssh://git@${opts.host}:${port}/${name}.git`,
    knownHostsLine: () => {
      const parsed = utils.parseKey(hostKey.public);
      if (parsed instanceof Error) throw parsed;
      return `[${opts.host}]:${port} ${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
    },
    auths,
    commands,
    authorize(publicKey) {
      allowed.push(utils.parseKey(publicKey));
    },
    createRepo: (name, files, branch = "main") => seedBareRepo(root, name, files, branch),
    git: (name, args) => gitIn(path.join(root, `${name}.git`), args),
    async rotateHostKey() {
      await stop();
      hostKey = utils.generateKeyPairSync("ed25519");
      await listen();
    },
    async close() {
      await stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

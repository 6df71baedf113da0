// A real git server for the git suites: `git http-backend` (smart HTTP, clone and push) behind a
// small Node HTTPS server that wants one token (HTTP Basic, any user name), with bare
// repositories in a temporary directory the test reads with plain git. HTTPS because agents reach
// the outside only through Armory's egress proxy, which tunnels (CONNECT) and nothing else; the
// certificate is self-signed for `host` (the agent is told not to verify it: test only).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";

export interface GitServer {
  /** https://<host>:<port> */
  origin: string;
  host: string;
  port: number;
  token: string;
  /** The bare repositories' directory. */
  root: string;
  /** Every request: method, path, whether it was authorised. */
  requests: { method: string; path: string; authorized: boolean; authorization: string | null }[];
  /** Makes a bare repository `<name>.git` with one commit on `branch` holding `files`. */
  createRepo(name: string, files: Record<string, string>, branch?: string): string;
  /** `git` in a repository of the server (e.g. ["log", "--format=%s", "main"]). */
  git(name: string, args: string[]): string;
  close(): Promise<void>;
}

export function gitIn(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "test@example.com", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.com", GIT_CONFIG_NOSYSTEM: "1", HOME: os.tmpdir() },
  });
}

/** A bare repository `<root>/<name>.git` with one commit on `branch` holding `files` (pushes allowed). */
export function seedBareRepo(root: string, name: string, files: Record<string, string>, branch = "main"): string {
  const bare = path.join(root, `${name}.git`);
  gitIn(root, ["init", "-q", "--bare", `--initial-branch=${branch}`, bare]);
  gitIn(bare, ["config", "http.receivepack", "true"]);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "armory-git-seed-"));
  gitIn(work, ["init", "-q", `--initial-branch=${branch}`]);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
    fs.writeFileSync(path.join(work, file), text);
  }
  gitIn(work, ["add", "-A"]);
  gitIn(work, ["commit", "-q", "-m", "Initial commit"]);
  gitIn(work, ["push", "-q", bare, `${branch}:${branch}`]);
  fs.rmSync(work, { recursive: true, force: true });
  return bare;
}

export async function startGitServer(opts: { host: string; token: string }): Promise<GitServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "armory-git-server-"));
  const certDir = path.join(root, ".tls");
  fs.mkdirSync(certDir);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${opts.host}`,
    "-addext", `subjectAltName=DNS:${opts.host}`, "-keyout", path.join(certDir, "key.pem"), "-out", path.join(certDir, "cert.pem"),
  ], { stdio: "ignore" });
  const requests: GitServer["requests"] = [];
  const server = https.createServer({ key: fs.readFileSync(path.join(certDir, "key.pem")), cert: fs.readFileSync(path.join(certDir, "cert.pem")) }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://x");
    const authorization = req.headers.authorization ?? null;
    // Any user name, this password.
    let authorized = false;
    if (authorization?.startsWith("Basic ")) {
      const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
      authorized = decoded.slice(decoded.indexOf(":") + 1) === opts.token;
    }
    requests.push({ method: req.method ?? "", path: url.pathname, authorized, authorization });
    if (!authorized) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end("token required\n");
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        REMOTE_USER: "agent",
        REQUEST_METHOD: req.method,
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        GIT_CONFIG_NOSYSTEM: "1",
        HOME: root,
      } as unknown as NodeJS.ProcessEnv,
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (d: Buffer) => {
      if (headersDone) return void res.write(d);
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const i = line.indexOf(":");
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on("end", () => res.end());
    cgi.on("error", () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `https://${opts.host}:${port}`,
    host: opts.host,
    port,
    token: opts.token,
    root,
    requests,
    createRepo: (name, files, branch = "main") => seedBareRepo(root, name, files, branch),
    git(name, args) {
      return gitIn(path.join(root, `${name}.git`), args);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

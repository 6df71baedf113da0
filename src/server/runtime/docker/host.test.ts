import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../config";
import { describeEndpoint, dockerodeOptions, EngineConfigError, knownHostsAccepts, parseEngineEndpoint } from "./host";

const certDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-certs-"));
for (const f of ["ca.pem", "cert.pem", "key.pem"]) fs.writeFileSync(path.join(certDir, f), `${f} contents\n`);
const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-nocerts-"));
afterAll(() => {
  fs.rmSync(certDir, { recursive: true, force: true });
  fs.rmSync(emptyDir, { recursive: true, force: true });
});

function problem(fn: () => unknown): EngineConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EngineConfigError) return err;
    throw err;
  }
  throw new Error("expected an EngineConfigError");
}

describe("DOCKER_HOST: unix sockets", () => {
  it("is the local socket when unset or empty", () => {
    expect(parseEngineEndpoint({})).toEqual({ kind: "unix", socketPath: "/var/run/docker.sock" });
    expect(parseEngineEndpoint({ DOCKER_HOST: "  " })).toEqual({ kind: "unix", socketPath: "/var/run/docker.sock" });
    expect(dockerodeOptions(parseEngineEndpoint({}))).toEqual({ socketPath: "/var/run/docker.sock" });
  });

  it("takes unix:// paths, and refuses relative ones", () => {
    expect(parseEngineEndpoint({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" })).toEqual({ kind: "unix", socketPath: "/run/user/1000/docker.sock" });
    expect(describeEndpoint(parseEngineEndpoint({ DOCKER_HOST: "unix:///tmp/d.sock" }))).toBe("unix:///tmp/d.sock");
    const e = problem(() => parseEngineEndpoint({ DOCKER_HOST: "unix://docker.sock" }));
    expect(e.variable).toBe("DOCKER_HOST");
    expect(e.problem).toMatch(/absolute socket path/);
  });
});

describe("DOCKER_HOST: tcp://", () => {
  it("is plain HTTP on 2375 without TLS settings", () => {
    const ep = parseEngineEndpoint({ DOCKER_HOST: "tcp://10.0.0.5" });
    expect(ep).toEqual({ kind: "tcp", host: "10.0.0.5", port: 2375, tls: null });
    expect(dockerodeOptions(ep)).toEqual({ protocol: "http", host: "10.0.0.5", port: 2375 });
    expect(describeEndpoint(ep)).toBe("tcp://10.0.0.5:2375");
  });

  it("is TLS (2376 by default) with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, reading ca, cert and key", () => {
    const ep = parseEngineEndpoint({ DOCKER_HOST: "tcp://docker.example", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certDir });
    expect(ep).toEqual({ kind: "tcp", host: "docker.example", port: 2376, tls: { certPath: certDir } });
    expect(describeEndpoint(ep)).toBe("tcp://docker.example:2376 (TLS)");
    const opts = dockerodeOptions(ep);
    expect(opts.protocol).toBe("https");
    expect(String(opts.ca)).toBe("ca.pem contents\n");
    expect(String(opts.cert)).toBe("cert.pem contents\n");
    expect(String(opts.key)).toBe("key.pem contents\n");
  });

  it("uses ~/.docker when DOCKER_TLS_VERIFY is set without DOCKER_CERT_PATH, and TLS whenever DOCKER_CERT_PATH is set", () => {
    const home = path.dirname(certDir);
    const dotDocker = path.join(home, ".docker");
    const seen: string[] = [];
    const ep = parseEngineEndpoint({ DOCKER_HOST: "tcp://h:1234", DOCKER_TLS_VERIFY: "true" }, { home, exists: (f) => (seen.push(f), true) });
    expect(ep).toEqual({ kind: "tcp", host: "h", port: 1234, tls: { certPath: dotDocker } });
    expect(seen).toEqual(["ca.pem", "cert.pem", "key.pem"].map((f) => path.join(dotDocker, f)));
    expect(parseEngineEndpoint({ DOCKER_HOST: "tcp://h:1234", DOCKER_CERT_PATH: certDir })).toMatchObject({ tls: { certPath: certDir } });
    // "0" and "false" mean off, as for the docker CLI's flags.
    expect(parseEngineEndpoint({ DOCKER_HOST: "tcp://h:1234", DOCKER_TLS_VERIFY: "0" })).toMatchObject({ tls: null });
  });

  it("names the missing certificate files", () => {
    const e = problem(() => parseEngineEndpoint({ DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: emptyDir }));
    expect(e.variable).toBe("DOCKER_CERT_PATH");
    expect(e.problem).toContain(emptyDir);
    expect(e.problem).toMatch(/missing: ca\.pem, cert\.pem, key\.pem/);
  });

  it("refuses other schemes, paths and credentials with a sentence", () => {
    expect(problem(() => parseEngineEndpoint({ DOCKER_HOST: "ftp://h" })).problem).toMatch(/scheme ftp:\/\/ is not supported/);
    expect(problem(() => parseEngineEndpoint({ DOCKER_HOST: "tcp://h:2375/v1.41" })).problem).toMatch(/must not have a path/);
    expect(problem(() => parseEngineEndpoint({ DOCKER_HOST: "tcp://u:p@h:2375" })).problem).toMatch(/must not carry credentials/);
    expect(problem(() => parseEngineEndpoint({ DOCKER_HOST: "not a url" })).problem).toMatch(/unix:\/\/.*tcp:\/\/.*ssh:\/\//);
  });

  it("keeps IPv6 hosts", () => {
    const ep = parseEngineEndpoint({ DOCKER_HOST: "tcp://[fd00::5]:2375" });
    expect(ep).toEqual({ kind: "tcp", host: "fd00::5", port: 2375, tls: null });
    expect(describeEndpoint(ep)).toBe("tcp://[fd00::5]:2375");
  });
});

describe("DOCKER_HOST: ssh://", () => {
  it("takes user, host and port (22 by default; the local user when none is given)", () => {
    expect(parseEngineEndpoint({ DOCKER_HOST: "ssh://deploy@build.example:2222" })).toEqual({ kind: "ssh", host: "build.example", port: 2222, username: "deploy" });
    const ep = parseEngineEndpoint({ DOCKER_HOST: "ssh://build.example" });
    expect(ep).toEqual({ kind: "ssh", host: "build.example", port: 22, username: os.userInfo().username });
    expect(describeEndpoint({ kind: "ssh", host: "h", port: 22, username: "u" })).toBe("ssh://u@h");
  });

  it("refuses a password in the URL", () => {
    expect(problem(() => parseEngineEndpoint({ DOCKER_HOST: "ssh://u:hunter2@h" })).problem).toMatch(/must not carry a password/);
  });

  it("gives dockerode an ssh connection that uses the agent and checks the host key against known_hosts", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "armory-home-"));
    try {
      const key = randomBytes(51);
      fs.mkdirSync(path.join(home, ".ssh"));
      fs.writeFileSync(path.join(home, ".ssh", "known_hosts"), `build.example ssh-ed25519 ${key.toString("base64")}\n`);
      const opts = dockerodeOptions({ kind: "ssh", host: "build.example", port: 22, username: "deploy" }, { SSH_AUTH_SOCK: "/tmp/agent.sock", home }) as {
        protocol: string;
        username: string;
        sshOptions: { agent?: string; hostVerifier: (k: Buffer) => boolean };
      };
      expect(opts.protocol).toBe("ssh");
      expect(opts.username).toBe("deploy");
      expect(opts.sshOptions.agent).toBe("/tmp/agent.sock");
      expect(opts.sshOptions.hostVerifier(key)).toBe(true);
      expect(opts.sshOptions.hostVerifier(randomBytes(51))).toBe(false);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("known_hosts", () => {
  const key = randomBytes(40);
  const b64 = key.toString("base64");

  it("matches plain names, [host]:port, wildcards and hashed names", () => {
    expect(knownHostsAccepts(`other,build.example ssh-ed25519 ${b64}`, "build.example", 22, key)).toBe(true);
    expect(knownHostsAccepts(`build.example ssh-ed25519 ${b64}`, "build.example", 2222, key)).toBe(false);
    expect(knownHostsAccepts(`[build.example]:2222 ssh-ed25519 ${b64}`, "build.example", 2222, key)).toBe(true);
    expect(knownHostsAccepts(`*.example ssh-ed25519 ${b64}`, "build.example", 22, key)).toBe(true);
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("build.example").digest("base64")}`;
    expect(knownHostsAccepts(`${hashed} ssh-ed25519 ${b64}`, "build.example", 22, key)).toBe(true);
    expect(knownHostsAccepts(`${hashed} ssh-ed25519 ${b64}`, "other.example", 22, key)).toBe(false);
  });

  it("refuses negated names, revoked keys, other keys and comments", () => {
    expect(knownHostsAccepts(`*.example,!build.example ssh-ed25519 ${b64}`, "build.example", 22, key)).toBe(false);
    expect(knownHostsAccepts(`build.example ssh-ed25519 ${b64}\n@revoked build.example ssh-ed25519 ${b64}`, "build.example", 22, key)).toBe(false);
    expect(knownHostsAccepts(`build.example ssh-ed25519 ${randomBytes(40).toString("base64")}`, "build.example", 22, key)).toBe(false);
    expect(knownHostsAccepts(`# build.example ssh-ed25519 ${b64}`, "build.example", 22, key)).toBe(false);
  });
});

describe("the configuration", () => {
  it("carries the engine endpoint", () => {
    expect(loadConfig({ DOCKER_HOST: "tcp://10.0.0.5:2375" }).engine).toEqual({ kind: "tcp", host: "10.0.0.5", port: 2375, tls: null });
    expect(loadConfig({}).engine).toEqual({ kind: "unix", socketPath: "/var/run/docker.sock" });
  });

  it("stops with a message naming the variable, the problem and the value (not when it could hold a password)", () => {
    const err = (() => {
      try {
        loadConfig({ DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: emptyDir });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([expect.stringMatching(new RegExp(`^DOCKER_CERT_PATH: TLS to h:2376 needs ca\\.pem, cert\\.pem and key\\.pem in ${emptyDir}.*\\(got "${emptyDir}"\\)$`))]);
    expect(() => loadConfig({ DOCKER_HOST: "ssh://u:hunter2@h" })).toThrow(ConfigError);
    try {
      loadConfig({ DOCKER_HOST: "ssh://u:hunter2@h" });
    } catch (e) {
      expect((e as ConfigError).message).toMatch(/DOCKER_HOST: must not carry a password/);
      expect((e as ConfigError).message).not.toContain("hunter2");
    }
  });
});

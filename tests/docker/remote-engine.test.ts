// The runtime port against an engine that is not the local socket: DOCKER_HOST=tcp:// through a
// TCP-to-unix forwarder, tcp:// with TLS (a throwaway CA made by openssl; the forwarder
// terminates TLS and demands a client certificate signed by it), and ssh:// (an SSH server made
// with ssh2 that runs `docker system dial-stdio` by connecting the channel to the engine's
// socket). Everything Armory asks goes over those connections: the forwarders count them.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { Server as SshServer, utils as sshUtils, type Connection as SshConnection } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config";
import { createRuntime, type AgentRuntime, type ContainerEvent, type ResourceSample } from "@/server/runtime";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { DomainError } from "@/server/domain/errors";
import { createLogger } from "@/server/logger";
import { docker } from "../support/docker";

const ENGINE_SOCKET = process.env.ARMORY_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock";

/** A listener on 127.0.0.1 that pipes every connection to the engine's unix socket. */
class Forwarder {
  connections = 0;
  private readonly open = new Set<net.Socket>();
  constructor(private readonly server: net.Server) {}

  static plain(): Forwarder {
    let self: Forwarder;
    const server = net.createServer((client) => self.pipe(client));
    return (self = new Forwarder(server));
  }

  static tls(options: tls.TlsOptions): Forwarder {
    let self: Forwarder;
    const server = tls.createServer(options, (client) => self.pipe(client));
    // Handshakes refused (a client without a certificate of the CA) are not connections to the engine.
    server.on("tlsClientError", () => {});
    return (self = new Forwarder(server));
  }

  private pipe(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(ENGINE_SOCKET);
    this.open.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      this.open.delete(client);
      this.open.delete(upstream);
    };
    client.on("error", done).on("close", done);
    upstream.on("error", done).on("close", done);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, in `dir` (the client's as ca.pem, cert.pem, key.pem). */
function makeCertificates(dir: string, caName: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl("req", "-x509", ...ec, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1", "-subj", `/CN=${caName}`);
  ssl("req", ...ec, "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost");
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-out", "server-cert.pem", "-days", "1", "-extfile", "server.ext");
  ssl("req", ...ec, "-keyout", "key.pem", "-out", "client.csr", "-subj", "/CN=armory");
  fs.writeFileSync(path.join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  ssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-out", "cert.pem", "-days", "1", "-extfile", "client.ext");
}

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const log = createLogger({ level: "silent", format: "json" });

/** Create, start, events, logs, stats, stop, inspect and remove of an agent container, all through `runtime`. */
async function exerciseLifecycle(runtime: AgentRuntime, image: string, tag: string): Promise<void> {
  const network = `armory-remote-test-${tag}-${suffix}`;
  const agentId = `00000000-0000-4000-8000-${String(Date.now()).slice(-12).padStart(12, "0")}`;
  const volumes = [`armory-remote-ws-${tag}-${suffix}`, `armory-remote-claude-${tag}-${suffix}`];
  const events: ContainerEvent[] = [];
  const engineStates: string[] = [];
  const follower = runtime.followEvents({ log, onEvent: (e) => events.push(e), onEngineState: (s) => engineStates.push(s) });
  follower.start();
  let id: string | null = null;
  try {
    await expect.poll(() => engineStates).toContain("up");
    await runtime.ensureNetwork(network);
    expect((await runtime.inspectNetwork(network)).name).toBe(network);
    for (const v of volumes) await runtime.ensureVolume(v, { "dev.armory.test": "remote-engine" });
    id = await runtime.createContainer({
      agentId,
      projectId: "remote-engine-test",
      agentName: `remote-${tag}`,
      name: `armory-remote-${tag}-${suffix}`,
      templateName: "test",
      image,
      version: "test",
      configHash: "test",
      env: { ARMORY_TEST: "1" },
      memoryMb: 256,
      cpus: 0.5,
      pidsLimit: 64,
      workspaceVolume: volumes[0]!,
      sessionVolume: volumes[1]!,
      network,
    });
    expect(await runtime.inspectContainer(id)).toMatchObject({ id, agentId, state: "created", image, networks: [network] });
    expect([...(await runtime.listContainers({ agentId })).keys()]).toEqual([id]);
    expect(await runtime.startContainer(id)).toBe(true);
    await expect.poll(() => events.some((e) => e.containerId === id && e.action === "start" && e.agentId === agentId)).toBe(true);
    expect((await runtime.inspectContainer(id))?.state).toBe("running");

    let sample: ResourceSample | null = null;
    const stats = await runtime.streamStats(id, (s) => (sample ??= s));
    await expect.poll(() => sample, { timeout: 15_000 }).not.toBeNull();
    stats.stop();
    expect(sample!.memoryLimitMB).toBe(256);
    expect(sample!.pids).toBeGreaterThan(0);
    expect(await runtime.updateContainerLimits(id, { memoryMb: 300, cpus: 0.5, pidsLimit: 64 })).toBe(true);

    expect(await runtime.stopContainer(id, 5)).toBe(true);
    const stopped = await runtime.inspectContainer(id);
    expect(stopped?.state).toBe("exited");
    expect(stopped?.finishedAt).toBeInstanceOf(Date);
    await expect.poll(() => events.some((e) => e.containerId === id && e.action === "die")).toBe(true);
    // The supervisor's output came back demultiplexed, as lines (none carries a frame header).
    const lines = await runtime.tailLogs(id, 50);
    expect(lines.every((l) => !/[\x00-\x08]/.test(l.message) && (l.stream === "stdout" || l.stream === "stderr"))).toBe(true);
    await runtime.renameContainer(id, `armory-remote-${tag}-${suffix}-renamed`);
  } finally {
    follower.stop();
    if (id) await runtime.removeContainer(id);
    for (const v of volumes) await runtime.removeVolume(v);
    await docker.getNetwork(network).remove().catch(() => {});
  }
  expect(await runtime.inspectContainer(id!)).toBeNull();
  expect(await runtime.listContainers({ agentId })).toEqual(new Map());
}

describe("the runtime port on a remote engine (DOCKER_HOST=tcp://)", () => {
  let image: string;
  const forwarders: Forwarder[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    image = await ensureAgentImage({ docker });
  }, 600_000);

  afterAll(async () => {
    await Promise.all(forwarders.map((f) => f.close()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("drives containers, events, logs, stats, networks and volumes over plain TCP", async () => {
    const forwarder = Forwarder.plain();
    forwarders.push(forwarder);
    const port = await forwarder.listen();
    const runtime = createRuntime(loadConfig({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }));
    expect(runtime.endpoint).toBe(`tcp://127.0.0.1:${port}`);
    await runtime.ping();
    expect((await runtime.version()).apiVersion).toMatch(/^\d+\.\d+$/);
    expect(await runtime.imageExists(image)).toBe(true);
    expect((await runtime.listImageTags("armory-agent")).map((t) => t.image)).toContain(image);
    await exerciseLifecycle(runtime, image, "tcp");
    // At least the kept-alive connection of ordinary calls, the events stream and the stats stream.
    expect(forwarder.connections).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it("speaks TLS with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, and an engine with another CA's certificate is refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-tls-"));
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-tls-other-"));
    dirs.push(dir, otherDir);
    makeCertificates(dir, "armory-test-ca");
    makeCertificates(otherDir, "another-ca");
    const read = (f: string) => fs.readFileSync(path.join(dir, f));
    const forwarder = Forwarder.tls({
      key: read("server-key.pem"),
      cert: read("server-cert.pem"),
      ca: read("ca.pem"),
      requestCert: true,
      rejectUnauthorized: true,
    });
    forwarders.push(forwarder);
    const port = await forwarder.listen();

    const runtime = createRuntime(loadConfig({ DOCKER_HOST: `tcp://localhost:${port}`, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: dir }));
    expect(runtime.endpoint).toBe(`tcp://localhost:${port} (TLS)`);
    await runtime.ping();
    await exerciseLifecycle(runtime, image, "tls");
    const trusted = forwarder.connections;
    expect(trusted).toBeGreaterThanOrEqual(3);

    // Certificates of another CA: the engine's certificate is not trusted and ours is not accepted.
    const stranger = createRuntime(loadConfig({ DOCKER_HOST: `tcp://localhost:${port}`, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: otherDir }));
    const err = await stranger.ping().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).message).toMatch(/not reachable at tcp:\/\/localhost:\d+ \(TLS\)/);
    expect(forwarder.connections).toBe(trusted);
  }, 180_000);

  it("goes through ssh:// with a key from ~/.ssh, and refuses a host whose key known_hosts does not list", async () => {
    const hostKey = sshUtils.generateKeyPairSync("ed25519");
    const clientKey = sshUtils.generateKeyPairSync("ed25519");
    const clientPublic = sshUtils.parseKey(clientKey.public);
    if (clientPublic instanceof Error) throw clientPublic;
    let channels = 0;
    const conns = new Set<SshConnection>();
    const server = new SshServer({ hostKeys: [hostKey.private] }, (client) => {
      conns.add(client);
      client.on("close", () => conns.delete(client));
      client.on("error", () => {});
      client.on("authentication", (ctx) => {
        const ok =
          ctx.method === "publickey" &&
          ctx.username === "deploy" &&
          ctx.key.algo === clientPublic.type &&
          ctx.key.data.equals(clientPublic.getPublicSSH()) &&
          (!ctx.signature || clientPublic.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true);
        if (ok) ctx.accept();
        else ctx.reject(["publickey"]);
      });
      client.on("ready", () => {
        client.on("session", (acceptSession) => {
          acceptSession().on("exec", (accept, reject, info) => {
            if (info.command !== "docker system dial-stdio") return reject();
            channels++;
            const channel = accept();
            const upstream = net.connect(ENGINE_SOCKET);
            channel.pipe(upstream).pipe(channel);
            upstream.on("error", () => channel.close()).on("close", () => channel.close());
            channel.on("close", () => upstream.destroy());
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "armory-ssh-home-"));
    dirs.push(home);
    fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
    fs.writeFileSync(path.join(home, ".ssh", "id_ed25519"), clientKey.private, { mode: 0o600 });
    const hostPublic = sshUtils.parseKey(hostKey.public);
    if (hostPublic instanceof Error) throw hostPublic;
    const knownHosts = path.join(home, ".ssh", "known_hosts");
    const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
    process.env.HOME = home;
    delete process.env.SSH_AUTH_SOCK;
    try {
      // A known_hosts that lists another key for this host: no request reaches the engine.
      fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ssh-ed25519 ${sshUtils.generateKeyPairSync("ed25519").public.split(" ")[1]}\n`);
      const spoofed = createRuntime(loadConfig({ DOCKER_HOST: `ssh://deploy@127.0.0.1:${port}` }));
      await expect(spoofed.ping()).rejects.toThrow(/not reachable at ssh:\/\/deploy@127\.0\.0\.1:\d+/);
      expect(channels).toBe(0);

      fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPublic.type} ${hostPublic.getPublicSSH().toString("base64")}\n`);
      const runtime = createRuntime(loadConfig({ DOCKER_HOST: `ssh://deploy@127.0.0.1:${port}` }));
      expect(runtime.endpoint).toBe(`ssh://deploy@127.0.0.1:${port}`);
      await runtime.ping();
      expect(await runtime.imageExists(image)).toBe(true);
      await exerciseLifecycle(runtime, image, "ssh");
      expect(channels).toBeGreaterThanOrEqual(3);
    } finally {
      process.env.HOME = saved.HOME;
      if (saved.SSH_AUTH_SOCK !== undefined) process.env.SSH_AUTH_SOCK = saved.SSH_AUTH_SOCK;
      for (const c of conns) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 180_000);
});

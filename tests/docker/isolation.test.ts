// Network isolation of projects, against the real engine and the real agent image: each project's
// agents on their own internal network with no host address on it, the project's relay as the
// only way out (to Armory's model gateway and its egress proxy), and a read-only root filesystem.
// Few containers, reused across cases: agents a1, a2 (project A) and b1 (project B).
import { createHash } from "node:crypto";
import net from "node:net";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type Docker from "dockerode";
import { ensureAgentImage } from "@/server/runtime/docker/agent-image";
import { runExec } from "../support/agent-exec";
import { projectNetworkName, relayContainerName } from "@/server/runtime/docker/project-network";
import { startDemoModelServer, type DemoModelServer } from "@/server/gateway/demo-model";
import type { ChatStreamEvent } from "@/server/api/routers/chat/schemas";
import { callerFor, signUp, startTestArmory, testConfig, type TestArmory } from "../support/armory";
import { suiteDb } from "../support/databases";
import { docker, removeProjectDockerObjects } from "../support/docker";

type Caller = Awaited<ReturnType<typeof callerFor>>;

/** perl (perl-base is in the image): for each HOST:PORT, OPEN <first line> or FAIL <why>, all at once. */
const PROBE = String.raw`
use IO::Socket::IP;
my @pids;
for my $t (@ARGV) {
  my $pid = fork();
  if (!$pid) {
    my ($h, $p) = $t =~ /^\[?(.*?)\]?:(\d+)$/;
    my $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $p, Proto => 'tcp', Timeout => 2);
    if ($s) { $s->timeout(2); my $l = <$s> // ''; chomp $l; print "$t OPEN $l\n"; } else { print "$t FAIL $!\n"; }
    exit 0;
  }
  push @pids, $pid;
}
waitpid($_, 0) for @pids;
`;

/** perl: a CONNECT through $HTTPS_PROXY (the agent's own env) to ARGV[0]; prints the status line, then what the tunnel says. */
const CONNECT = String.raw`
use IO::Socket::INET; use MIME::Base64;
my ($target, $auth) = @ARGV;
my ($user, $pass, $host, $port) = $ENV{HTTPS_PROXY} =~ m{^http://([^:]*):([^@]*)@([^:/]+):(\d+)} or die "no HTTPS_PROXY\n";
my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => 5) or die "proxy unreachable: $!\n";
$s->timeout(5);
my $hdr = $auth eq 'none' ? '' : "Proxy-Authorization: Basic " . encode_base64($auth eq 'wrong' ? "agent:armgw_wrong" : "$user:$pass", '') . "\r\n";
print $s "CONNECT $target HTTP/1.1\r\nHost: $target\r\n$hdr\r\n";
my $status = <$s> // "no answer\n";
print $status;
while (my $l = <$s>) { last if $l =~ /^\r?\n$/; }
if ($status =~ / 200 /) { print $s "ping\n"; my $l = <$s> // "nothing\n"; print "tunnel: $l"; }
`;

describe("projects are isolated on the network", () => {
  let armory: TestArmory;
  let model: DemoModelServer;
  let caller: Caller;
  let projectA: string;
  let projectB: string;
  const agents: Record<"a1" | "a2" | "b1", { id: string; container: string }> = {} as never;
  let hostListener: net.Server;
  let hostPort: number;
  let hostListener6: net.Server;
  let hostPort6: number;

  async function sh(container: string, cmd: string[]) {
    return runExec(docker, container, { cmd, user: "1000:1000" });
  }
  async function probe(container: string, targets: string[]): Promise<Map<string, string>> {
    const r = await sh(container, ["perl", "-e", PROBE, ...targets]);
    const out = new Map<string, string>();
    for (const line of r.stdout.trim().split("\n")) {
      const [t, ...rest] = line.split(" ");
      out.set(t!, rest.join(" "));
    }
    expect([...out.keys()].sort(), r.stdout + r.stderr).toEqual([...targets].sort());
    return out;
  }
  async function listen(container: string, port: number, says: string) {
    const script = `$s=IO::Socket::INET->new(LocalPort=>${port},Listen=>5,ReuseAddr=>1) or die; print "listening\\n"; STDOUT->flush; while($c=$s->accept){print $c "${says}\\n"; close $c}`;
    const exec = await docker.getContainer(container).exec({ Cmd: ["perl", "-MIO::Socket::INET", "-MIO::Handle", "-e", script], User: "1000:1000", AttachStdout: true });
    const stream = await exec.start({});
    // Ready when it says so (not a sleep): the socket is bound by then.
    await new Promise<void>((resolve) => stream.on("data", (d: Buffer) => d.toString().includes("listening") && resolve()));
  }
  const networkOf = async (container: string) => Object.keys((await docker.getContainer(container).inspect()).NetworkSettings.Networks);

  beforeAll(async () => {
    await ensureAgentImage({ docker });
    model = await startDemoModelServer();
    // A service on the host's every address: what an agent must not reach.
    hostListener = net.createServer((s) => s.end("HOST-SERVICE\n"));
    await new Promise<void>((resolve) => hostListener.listen(0, "0.0.0.0", resolve));
    hostPort = (hostListener.address() as net.AddressInfo).port;
    // And one on [::] (IPv6, dual-stack): the host side of every bridge has an IPv6 link-local address.
    hostListener6 = net.createServer((s) => s.end("HOST-SERVICE\n"));
    await new Promise<void>((resolve) => hostListener6.listen(0, "::", resolve));
    hostPort6 = (hostListener6.address() as net.AddressInfo).port;
    armory = await startTestArmory(suiteDb("pglite"), {
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-upstream-test-key",
      ARMORY_GATEWAY_PORT: "0",
    });
    const owner = await signUp(armory.services, { name: "Isolation Owner" });
    caller = await callerFor(armory.services, owner);
    projectA = (await caller.project.create({ name: "Project A" })).id;
    projectB = (await caller.project.create({ name: "Project B" })).id;
    const templateOf = async (projectId: string) => (await caller.template.list({ projectId })).find((t) => t.name === "claude-coder")!.id;
    const [tA, tB] = await Promise.all([templateOf(projectA), templateOf(projectB)]);
    // Project A's template may reach two names (one of them is this machine's loopback).
    await armory.services.db.prisma.template.update({ where: { id: tA }, data: { egressAllowlist: ["localhost", "allowed.invalid"] } });
    const make = async (key: "a1" | "a2" | "b1", projectId: string, templateId: string, memoryMb: number) => {
      const a = await caller.agent.create({ projectId, templateId, name: key, overrides: { memoryMb }, start: true });
      const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: a.id } });
      agents[key] = { id: a.id, container: row.containerId! };
    };
    await make("a1", projectA, tA, 1024);
    await Promise.all([make("a2", projectA, tA, 256), make("b1", projectB, tB, 256)]);
    await Promise.all([listen(agents.a2.container, 5555, "A2"), listen(agents.b1.container, 5555, "B1")]);
  }, 600_000);

  afterAll(async () => {
    await armory?.close();
    await removeProjectDockerObjects(projectA);
    await removeProjectDockerObjects(projectB);
    await model?.close();
    await new Promise((resolve) => hostListener?.close(resolve));
    await new Promise((resolve) => hostListener6?.close(resolve));
  });

  it("puts each project's agents on the project's own internal network, with no host address on it", async () => {
    expect(await networkOf(agents.a1.container)).toEqual([projectNetworkName(projectA)]);
    expect(await networkOf(agents.a2.container)).toEqual([projectNetworkName(projectA)]);
    expect(await networkOf(agents.b1.container)).toEqual([projectNetworkName(projectB)]);
    const network = await docker.getNetwork(projectNetworkName(projectA)).inspect();
    expect(network.Internal).toBe(true);
    expect(network.Options?.["com.docker.network.bridge.inhibit_ipv4"]).toBe("true");
    // The relay is the one container on both the project network and the uplink.
    const relay = await docker.getContainer(relayContainerName(projectA)).inspect();
    expect(Object.keys(relay.NetworkSettings.Networks).sort()).toEqual(["armory-test", projectNetworkName(projectA)].sort());
    expect(relay.HostConfig.ReadonlyRootfs).toBe(true);
    expect(relay.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(relay.Config.User).toBe("1000:1000");
  });

  it("an agent reaches its own project's agents, but not another project's, by address or by name", async () => {
    const ipOf = async (key: "a2" | "b1", projectId: string) =>
      (await docker.getContainer(agents[key].container).inspect()).NetworkSettings.Networks[projectNetworkName(projectId)]!.IPAddress;
    const [a2ip, b1ip] = await Promise.all([ipOf("a2", projectA), ipOf("b1", projectB)]);
    const fromA1 = await probe(agents.a1.container, ["a2:5555", `${a2ip}:5555`, "b1:5555", `${b1ip}:5555`]);
    // The positive control: the same probe does connect within a project.
    expect(fromA1.get("a2:5555")).toBe("OPEN A2");
    expect(fromA1.get(`${a2ip}:5555`)).toBe("OPEN A2");
    expect(fromA1.get("b1:5555")).toMatch(/^FAIL/);
    expect(fromA1.get(`${b1ip}:5555`)).toMatch(/^FAIL/);
    const fromB1 = await probe(agents.b1.container, ["a2:5555", `${a2ip}:5555`, "a1:5555"]);
    for (const r of fromB1.values()) expect(r).toMatch(/^FAIL/);
  });

  it("an agent cannot reach a listener on the host's 0.0.0.0 at any host address", async () => {
    const uplink = await docker.getNetwork("armory-test").inspect();
    const project = await docker.getNetwork(projectNetworkName(projectA)).inspect();
    const gatewayOf = (n: Docker.NetworkInspectInfo) => n.IPAM!.Config!.map((c) => c.Gateway ?? c.Subnet!.replace(/\.0\/\d+$/, ".1"));
    const hostIps = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === "IPv4" && !a.internal)
      .map((a) => a!.address);
    // Plus docker0's usual address and the cloud metadata address.
    const candidates = [...new Set([...gatewayOf(uplink), ...gatewayOf(project), ...hostIps, "172.17.0.1", "169.254.169.254", "127.0.0.1"])];
    expect(candidates.length).toBeGreaterThan(2);
    // The positive control: the listener answers on each of these addresses from the host itself
    // (127.0.0.1 inside a container is the container's own loopback).
    for (const ip of candidates.filter((c) => c !== "127.0.0.1" && hostIps.concat(gatewayOf(uplink)).includes(c))) {
      const said = await new Promise<string>((resolve, reject) => {
        const s = net.connect(hostPort, ip);
        s.once("data", (d) => resolve(d.toString().trim()));
        s.once("error", reject);
      });
      expect(said).toBe("HOST-SERVICE");
    }
    const results = await probe(agents.a1.container, candidates.flatMap((ip) => [`${ip}:${hostPort}`, `${ip}:${hostPort6}`]));
    for (const [target, r] of results) expect(r, target).toMatch(/^FAIL/);
  });

  it("an agent has no IPv6: the host's link-local address on the project bridge is out of reach too", async () => {
    const info = await docker.getContainer(agents.a1.container).inspect();
    expect(info.HostConfig.Sysctls).toMatchObject({ "net.ipv6.conf.all.disable_ipv6": "1" });
    expect((await sh(agents.a1.container, ["cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"])).stdout.trim()).toBe("1");
    const project = await docker.getNetwork(projectNetworkName(projectA)).inspect();
    const bridge = `br-${project.Id.slice(0, 12)}`;
    const linkLocal = (os.networkInterfaces()[bridge] ?? []).find((a) => a.family === "IPv6" && a.address.startsWith("fe80"));
    if (!linkLocal) return; // the host has IPv6 off: nothing to reach
    // The positive control: from the host, the [::] listener answers on that address.
    const said = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: `${linkLocal.address}%${bridge}`, port: hostPort6 });
      s.once("data", (d) => resolve(d.toString().trim()));
      s.once("error", reject);
    });
    expect(said).toBe("HOST-SERVICE");
    const r = await probe(agents.a1.container, [`[${linkLocal.address}%eth0]:${hostPort6}`]);
    expect([...r.values()][0]).toMatch(/^FAIL/);
  });

  it("an agent can still chat through the gateway (via its project's relay)", async () => {
    const container = await docker.getContainer(agents.a1.container).inspect();
    expect(container.Config.Env).toContain("ANTHROPIC_BASE_URL=http://armory-gateway:8080/api/gateway/anthropic");
    const sent = await caller.chat.send({ projectId: projectA, agentId: agents.a1.id, message: "Hello across the relay" });
    const iterable = (await caller.chat.stream({ projectId: projectA, agentId: agents.a1.id, sessionId: sent.sessionId, afterSeq: 0 })) as AsyncIterable<unknown>;
    let text = "";
    let end = "";
    for await (const raw of iterable) {
      const v = raw as [string, ChatStreamEvent] | { data: ChatStreamEvent };
      const e = Array.isArray(v) ? v[1] : v.data;
      const d = e.data as { event?: { type?: string; delta?: { type?: string; text?: string } } };
      if (e.type === "stream_event" && d.event?.delta?.type === "text_delta") text += d.event.delta.text ?? "";
      if (e.runId === sent.runId && ["run_completed", "run_failed", "run_interrupted"].includes(e.type)) {
        end = e.type;
        break;
      }
    }
    expect(end).toBe("run_completed");
    expect(text).toContain('You said: "Hello across the relay"');
  }, 120_000);

  it("a relay removed behind Armory's back is back for the next chat turn", async () => {
    await docker.getContainer(relayContainerName(projectA)).remove({ force: true });
    armory.services.projectNetworks.invalidate(projectA); // what a minute's wait does
    const sent = await caller.chat.send({ projectId: projectA, agentId: agents.a1.id, message: "Still there?" });
    const iterable = (await caller.chat.stream({ projectId: projectA, agentId: agents.a1.id, sessionId: sent.sessionId, afterSeq: 0 })) as AsyncIterable<unknown>;
    let end = "";
    for await (const raw of iterable) {
      const e = Array.isArray(raw) ? (raw as [string, ChatStreamEvent])[1] : (raw as { data: ChatStreamEvent }).data;
      if (e.runId === sent.runId && ["run_completed", "run_failed", "run_interrupted"].includes(e.type)) {
        end = e.type;
        break;
      }
    }
    expect(end).toBe("run_completed");
    expect((await docker.getContainer(relayContainerName(projectA)).inspect()).State.Running).toBe(true);
  }, 120_000);

  it("egress: the proxy wants the agent's token, refuses hosts off the allowlist and names that resolve to loopback", async () => {
    const connect = async (target: string, auth: "token" | "none" | "wrong" = "token") =>
      (await sh(agents.a1.container, ["perl", "-e", CONNECT, target, auth])).stdout;
    expect(await connect("example.com:443", "none")).toMatch(/^HTTP\/1\.1 407 /);
    expect(await connect("example.com:443", "wrong")).toMatch(/^HTTP\/1\.1 407 /);
    expect(await connect("example.com:443")).toMatch(/^HTTP\/1\.1 403 /);
    // On the allowlist, but it is this machine's loopback: refused (default ARMORY_EGRESS_ALLOW_PRIVATE=false).
    expect(await connect(`localhost:${hostPort}`)).toMatch(/^HTTP\/1\.1 403 /);
    // IP literals are never on an allowlist of names.
    expect(await connect(`127.0.0.1:${hostPort}`)).toMatch(/^HTTP\/1\.1 403 /);
    // Plain http:// through HTTP_PROXY is not proxied at all (HTTPS only, through CONNECT).
    const plain = String.raw`use IO::Socket::INET; my $s = IO::Socket::INET->new("armory-gateway:8080") or die "$!\n"; print $s "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"; print scalar <$s>;`;
    expect((await sh(agents.a1.container, ["perl", "-e", plain])).stdout).toMatch(/^HTTP\/1\.1 403 /);
    // Project B's template allows nothing.
    expect((await sh(agents.b1.container, ["perl", "-e", CONNECT, `localhost:${hostPort}`, "token"])).stdout).toMatch(/^HTTP\/1\.1 403 /);
  });

  it("egress: an allowlisted host is tunnelled when its address is allowed (ARMORY_EGRESS_ALLOW_PRIVATE=true)", async () => {
    const echo = net.createServer((s) => s.once("data", (d) => s.end(`ECHO ${d.toString()}`)));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const port = (echo.address() as net.AddressInfo).port;
    const lan = await startTestArmory(suiteDb("pglite"), { ANTHROPIC_BASE_URL: model.url, ARMORY_GATEWAY_PORT: "0", ARMORY_EGRESS_ALLOW_PRIVATE: "true" });
    let projectC: string | undefined;
    try {
      const c = await callerFor(lan.services, await signUp(lan.services, { name: "Lan Owner" }));
      projectC = (await c.project.create({ name: "Project C" })).id;
      const t = (await c.template.list({ projectId: projectC })).find((x) => x.name === "claude-coder")!.id;
      await lan.services.db.prisma.template.update({ where: { id: t }, data: { egressAllowlist: ["localhost"] } });
      const agent = await c.agent.create({ projectId: projectC, templateId: t, name: "c1", overrides: { memoryMb: 256 }, start: true });
      const container = (await lan.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agent.id } })).containerId!;
      const out = (await sh(container, ["perl", "-e", CONNECT, `localhost:${port}`, "token"])).stdout;
      expect(out).toMatch(/^HTTP\/1\.1 200 /);
      expect(out).toContain("tunnel: ECHO ping");
      // Still only names on the allowlist.
      expect((await sh(container, ["perl", "-e", CONNECT, `127.0.0.1:${port}`, "token"])).stdout).toMatch(/^HTTP\/1\.1 403 /);
    } finally {
      await lan.close();
      await removeProjectDockerObjects(projectC);
      await new Promise((resolve) => echo.close(resolve));
    }
  }, 120_000);

  it("the root filesystem is read-only; /tmp, the home directory, /workspace and ~/.claude are writable", async () => {
    const info = await docker.getContainer(agents.a1.container).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    const r = await sh(agents.a1.container, [
      "bash",
      "-c",
      "for f in /etc/x /usr/local/bin/x /tmp/x /workspace/x /home/agent/.claude.json /home/agent/.claude/x; do if echo hi > $f 2>/dev/null; then echo \"$f ok\"; else echo \"$f denied\"; fi; done",
    ]);
    expect(r.stdout.trim().split("\n")).toEqual([
      "/etc/x denied",
      "/usr/local/bin/x denied",
      "/tmp/x ok",
      "/workspace/x ok",
      "/home/agent/.claude.json ok",
      "/home/agent/.claude/x ok",
    ]);
  });

  it("an agent created on the old shared network shows restartRequired and moves to its project network on restart", async () => {
    // What an agent created before isolation looks like: its container on the shared network,
    // labelled with the hash of that time (the same fields, without the container layout).
    const row = await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agents.b1.id } });
    const env = Object.entries(row.env as Record<string, string>).sort(([x], [y]) => x.localeCompare(y));
    const legacyHash = createHash("sha256")
      .update(JSON.stringify({ image: row.image, env, model: row.model, permissionMode: row.permissionMode }))
      .digest("hex")
      .slice(0, 16);
    expect(legacyHash).not.toBe(row.containerConfigHash);
    await docker.getNetwork("armory-test").connect({ Container: agents.b1.container });
    await docker.getNetwork(projectNetworkName(projectB)).disconnect({ Container: agents.b1.container });
    await armory.services.db.prisma.agent.update({ where: { id: agents.b1.id }, data: { containerConfigHash: legacyHash } });
    expect((await caller.agent.get({ projectId: projectB, agentId: agents.b1.id })).restartRequired).toBe(true);
    const after = await caller.agent.restart({ projectId: projectB, agentId: agents.b1.id });
    expect(after.restartRequired).toBe(false);
    const moved = (await armory.services.db.prisma.agent.findUniqueOrThrow({ where: { id: agents.b1.id } })).containerId!;
    expect(moved).not.toBe(agents.b1.container);
    expect(await networkOf(moved)).toEqual([projectNetworkName(projectB)]);
    agents.b1.container = moved;
  });

  it("refuses to start with agents on the host network (it cannot isolate them)", () => {
    for (const network of ["host", "none", "bridge"]) {
      expect(() => testConfig({ ARMORY_AGENT_NETWORK: network })).toThrow(/ARMORY_AGENT_NETWORK: .*cannot isolate projects/);
    }
    // The relays copy plain http bytes: a TLS gateway URL could never work behind them.
    expect(() => testConfig({ ARMORY_GATEWAY_URL: "https://armory:3000/api/gateway/anthropic" })).toThrow(/ARMORY_GATEWAY_URL: must be an http:\/\//);
  });

  it("removing a project's last agent removes its relay and its network", async () => {
    await caller.agent.remove({ projectId: projectB, agentId: agents.b1.id, keepVolumes: false });
    await expect(docker.getContainer(relayContainerName(projectB)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getNetwork(projectNetworkName(projectB)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // Project A keeps its own.
    expect((await docker.getContainer(relayContainerName(projectA)).inspect()).State.Running).toBe(true);
  });
});

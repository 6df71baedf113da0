// A two-node Docker Swarm on this one machine, for tests/swarm (the recipe in the platform notes):
//   node 1: a second dockerd in the root network namespace (own data-root, exec-root, socket), the
//           manager, advertising 10.231.0.1 (one end of a veth pair);
//   node 2: a third dockerd inside its own network namespace (10.231.0.2, the other end), a worker.
// Both run with --no-new-privileges (Swarm services on engine 20.10 cannot ask for it per service).
// The images a test needs are copied into both (`docker save | docker load`: no registry here).
// `close()` tears everything down; `startTwoNodeSwarm` first removes what a failed earlier run
// left behind (the engines by their pid files, the veth pair, the namespace).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);

const ROOT = "/tmp/armory-swarm-test";
const NETNS = "armory-sw2";
const VETH_HOST = "armory-sw1";
const VETH_PEER = "armory-sw2p";
export const NODE1_ADDR = "10.231.0.1";
export const NODE2_ADDR = "10.231.0.2";
/** The engine's own CLI (the one at /usr/local/bin is newer than the 20.10 engine). */
const DOCKER_CLI = fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

interface EngineProcess {
  name: string;
  socket: string;
  child: ChildProcess | null;
}

export interface SwarmNode {
  /** The Swarm node id. */
  id: string;
  socket: string;
  docker: Docker;
}

export interface TwoNodeSwarm {
  manager: SwarmNode;
  worker: SwarmNode;
  /** DOCKER_HOST of the manager (what Armory is pointed at). */
  dockerHost: string;
  /** Stops node 2's engine (SIGTERM; its containers stop with it); resolves when it is gone. */
  stopWorker(): Promise<void>;
  /** Starts node 2's engine again (same data root: it rejoins the Swarm by itself). */
  startWorker(): Promise<void>;
  /** The CLI against one node ("docker service ls", ...). */
  cli(node: "manager" | "worker", args: string[]): Promise<string>;
  close(): Promise<void>;
}

function dir(name: string) {
  return path.join(ROOT, name);
}

async function sh(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const { stdout } = await run(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function quiet(cmd: string, args: string[]): Promise<void> {
  await run(cmd, args).catch(() => {});
}

function pidOf(name: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dir(name), "docker.pid"), "utf8").trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` is true; `limitMs` only guards against a hang (a failing start rejects). */
async function until(what: string, check: () => Promise<boolean> | boolean, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopEngine(name: string): Promise<void> {
  const pid = pidOf(name);
  if (!pid || !alive(pid)) return;
  process.kill(pid, "SIGTERM");
  await until(`dockerd ${name} to stop`, () => !alive(pid), 60_000).catch(() => {
    process.kill(pid, "SIGKILL");
  });
}

/** What an earlier (failed) run left: engines, the veth pair, the namespace, their mounts. */
async function cleanUp(): Promise<void> {
  await stopEngine("n1");
  await stopEngine("n2");
  await quiet("ip", ["link", "del", VETH_HOST]);
  await quiet("ip", ["netns", "del", NETNS]);
  // Engines leave mounts (overlay2, netns bind mounts) under their roots; unmount before removing.
  try {
    const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1] ?? "");
    for (const m of mounts.filter((m) => m.startsWith(ROOT)).sort().reverse()) await quiet("umount", ["-l", m]);
  } catch {
    /* no /proc/mounts: nothing mounted */
  }
  fs.rmSync(ROOT, { recursive: true, force: true });
}

function startEngine(name: string, netns: string | null): EngineProcess {
  const d = dir(name);
  fs.mkdirSync(d, { recursive: true });
  const socket = path.join(d, "docker.sock");
  const args = [
    "--data-root", path.join(d, "data"),
    "--exec-root", path.join(d, "exec"),
    "--pidfile", path.join(d, "docker.pid"),
    "-H", `unix://${socket}`,
    "--iptables=false",
    "--bridge=none",
    "--no-new-privileges",
  ];
  const out = fs.openSync(path.join(d, "dockerd.log"), "a");
  // nsenter, not `ip netns exec` (that remounts /sys and dockerd then finds no devices cgroup).
  const child = netns
    ? spawn("nsenter", [`--net=/var/run/netns/${netns}`, "dockerd", ...args], { stdio: ["ignore", out, out] })
    : spawn("dockerd", args, { stdio: ["ignore", out, out] });
  fs.closeSync(out);
  child.unref();
  return { name, socket, child };
}

async function engineUp(e: EngineProcess): Promise<Docker> {
  const docker = new Docker({ socketPath: e.socket });
  await until(`dockerd ${e.name} to answer`, async () => {
    if (e.child && e.child.exitCode !== null) {
      const log = fs.readFileSync(path.join(dir(e.name), "dockerd.log"), "utf8").split("\n").slice(-15).join("\n");
      throw new Error(`dockerd ${e.name} exited (${e.child.exitCode}):\n${log}`);
    }
    return docker.ping().then(() => true, () => false);
  });
  return docker;
}

/** Copies `images` from the main engine into the engine at `socket`. */
async function loadImages(socket: string, images: string[]): Promise<void> {
  const save = spawn(DOCKER_CLI, ["save", ...images], { stdio: ["ignore", "pipe", "pipe"] });
  const load = spawn(DOCKER_CLI, ["load", "-q"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });
  save.stdout.pipe(load.stdin);
  let err = "";
  save.stderr.on("data", (b: Buffer) => (err += b));
  load.stderr.on("data", (b: Buffer) => (err += b));
  const exit = (c: ChildProcess) => new Promise<number>((resolve) => c.on("close", (code) => resolve(code ?? 1)));
  const [a, b] = await Promise.all([exit(save), exit(load)]);
  if (a !== 0 || b !== 0) throw new Error(`copying ${images.join(", ")} failed: ${err}`);
}

export async function startTwoNodeSwarm(opts: { images: string[] }): Promise<TwoNodeSwarm> {
  await cleanUp();
  fs.mkdirSync(ROOT, { recursive: true });
  const engines: Record<"n1" | "n2", EngineProcess | null> = { n1: null, n2: null };
  const close = async () => {
    await cleanUp();
  };
  try {
    await sh("ip", ["netns", "add", NETNS]);
    await sh("ip", ["link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_PEER]);
    await sh("ip", ["link", "set", VETH_PEER, "netns", NETNS]);
    await sh("ip", ["addr", "add", `${NODE1_ADDR}/24`, "dev", VETH_HOST]);
    await sh("ip", ["link", "set", VETH_HOST, "up"]);
    await sh("ip", ["netns", "exec", NETNS, "ip", "addr", "add", `${NODE2_ADDR}/24`, "dev", VETH_PEER]);
    await sh("ip", ["netns", "exec", NETNS, "ip", "link", "set", VETH_PEER, "up"]);
    await sh("ip", ["netns", "exec", NETNS, "ip", "link", "set", "lo", "up"]);

    engines.n1 = startEngine("n1", null);
    engines.n2 = startEngine("n2", NETNS);
    const [d1, d2] = await Promise.all([engineUp(engines.n1), engineUp(engines.n2)]);
    await Promise.all([loadImages(engines.n1.socket, opts.images), loadImages(engines.n2.socket, opts.images)]);

    const cli = (node: "manager" | "worker", args: string[]) =>
      sh(DOCKER_CLI, args, { DOCKER_HOST: `unix://${(node === "manager" ? engines.n1 : engines.n2)!.socket}` });
    await cli("manager", ["swarm", "init", "--advertise-addr", NODE1_ADDR, "--listen-addr", `${NODE1_ADDR}:2377`]);
    const token = (await cli("manager", ["swarm", "join-token", "-q", "worker"])).trim();
    await cli("worker", ["swarm", "join", "--token", token, "--advertise-addr", NODE2_ADDR, `${NODE1_ADDR}:2377`]);
    const managerId = (await d1.info()).Swarm.NodeID as string;
    const workerId = (await d2.info()).Swarm.NodeID as string;
    await until("both nodes to be ready", async () => {
      const nodes = await d1.listNodes();
      return nodes.length === 2 && nodes.every((n) => n.Status?.State === "ready");
    });

    const swarm: TwoNodeSwarm = {
      manager: { id: managerId, socket: engines.n1.socket, docker: d1 },
      worker: { id: workerId, socket: engines.n2.socket, docker: d2 },
      dockerHost: `unix://${engines.n1.socket}`,
      cli,
      async stopWorker() {
        await stopEngine("n2");
      },
      async startWorker() {
        engines.n2 = startEngine("n2", NETNS);
        await engineUp(engines.n2);
      },
      close,
    };
    return swarm;
  } catch (err) {
    await close();
    throw err;
  }
}

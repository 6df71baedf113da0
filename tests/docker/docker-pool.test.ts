// Issue 12, item 7: Docker calls go through a bounded pool. A burst of 300 concurrent calls all
// succeed while at most DOCKER_MAX_SOCKETS connections reach the engine at once (measured by a
// counting proxy in front of the real socket), and open streams (the events stream here) do not
// take the ordinary calls' slots.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCKER_MAX_SOCKETS, createDockerClient, dockerAgents } from "@/server/runtime/docker/client";
import { docker as engine } from "../support/docker";

/** A unix socket forwarding to the engine that counts connections open at once. */
async function countingProxy() {
  const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "armory-pool-")), "docker.sock");
  let open = 0;
  let max = 0;
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open++;
    max = Math.max(max, open);
    const upstream = net.connect("/var/run/docker.sock");
    conns.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    let closed = false;
    const done = () => {
      if (!closed) {
        closed = true;
        open--;
      }
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on("error", done).on("close", done);
    upstream.on("error", done).on("close", done);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    get max() {
      return max;
    },
    resetMax() {
      max = open;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("Docker calls through a bounded pool", () => {
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let containerId: string;

  beforeAll(async () => {
    proxy = await countingProxy();
    const images = await engine.listImages({ filters: { reference: ["armory-agent*"] } });
    const image = images[0]?.RepoTags?.[0];
    if (!image) throw new Error("no armory-agent image to create a test container from (npm run agent-image)");
    const container = await engine.createContainer({ Image: image, Cmd: ["true"], name: `armory-pool-test-${process.pid}-${Date.now()}`, Labels: { "dev.armory.test": "docker-pool" } });
    containerId = container.id;
  });
  afterAll(async () => {
    if (containerId) await engine.getContainer(containerId).remove({ force: true }).catch(() => undefined);
    await proxy?.close();
  });

  it("serves 300 concurrent inspects with at most DOCKER_MAX_SOCKETS connections, while a stream stays open", async () => {
    const docker = createDockerClient(`unix://${proxy.socketPath}`);
    // A long-lived stream on the stream pool: it must not take one of the calls' slots.
    const abort = new AbortController();
    const events = (await docker.getEvents({ abortSignal: abort.signal } as never)) as unknown as NodeJS.ReadableStream;
    events.on("error", () => undefined);
    proxy.resetMax();

    const results = await Promise.all(Array.from({ length: 300 }, () => docker.getContainer(containerId).inspect()));
    expect(results).toHaveLength(300);
    expect(results.every((r) => r.Id === containerId)).toBe(true);
    // The events stream holds one connection besides the pool's.
    expect(proxy.max).toBeLessThanOrEqual(DOCKER_MAX_SOCKETS + 1);
    expect(proxy.max).toBeGreaterThan(1);
    const agents = dockerAgents(docker)!;
    expect(agents.calls.maxSockets).toBe(DOCKER_MAX_SOCKETS);
    abort.abort();
    agents.calls.destroy();
  }, 180_000); // the shared engine answers an inspect in 10-50 ms under the suite's load

  it("formats its socket pools in a few bytes, however many streams are open (docker-modem formats them on every call)", async () => {
    const docker = createDockerClient(`unix://${proxy.socketPath}`);
    const abort = new AbortController();
    const streams = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const s = (await docker.getContainer(containerId).stats({ stream: true, abortSignal: abort.signal } as never)) as unknown as NodeJS.ReadableStream;
        s.on("error", () => undefined);
        return s;
      }),
    );
    expect(streams).toHaveLength(50);
    const agents = dockerAgents(docker)!;
    // What docker-modem builds for each request: its options, with the agent, formatted in full.
    const formatted = inspect({ path: "/containers/x/json", agent: agents.streams }, { showHidden: true, depth: null });
    expect(formatted.length).toBeLessThan(200);
    expect(inspect(agents.calls, { showHidden: true, depth: null }).length).toBeLessThan(50);
    abort.abort();
    agents.calls.destroy();
  }, 120_000);

  it("without the pool the same burst opens far more connections (what the pool prevents)", async () => {
    const Docker = (await import("dockerode")).default;
    const unpooled = new Docker({ socketPath: proxy.socketPath });
    proxy.resetMax();
    await Promise.all(Array.from({ length: 100 }, () => unpooled.getContainer(containerId).inspect()));
    expect(proxy.max).toBeGreaterThan(DOCKER_MAX_SOCKETS);
  });
});

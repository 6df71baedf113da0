// Docker helpers for tests: the engine client, a breakable socket proxy in front of the engine
// (to simulate the engine going away and coming back), and waiting on async streams.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { LABELS } from "../../src/server/runtime/docker/containers";

export const docker = new Docker({ socketPath: process.env.ARMORY_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock" });

/** A unix socket that forwards to the real engine until `break()`; `restore()` brings it back. */
export class BreakableDockerSocket {
  readonly socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "armory-dockerproxy-")), "docker.sock");
  private server: net.Server | null = null;
  private conns = new Set<net.Socket>();

  async listen(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect("/var/run/docker.sock");
      this.conns.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.conns.delete(client);
        this.conns.delete(upstream);
      };
      client.on("error", done).on("close", done);
      upstream.on("error", done).on("close", done);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, resolve);
    });
    this.server = server;
  }

  async break(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  async restore(): Promise<void> {
    await this.listen();
  }

  client(): Docker {
    return new Docker({ socketPath: this.socketPath });
  }
}

/**
 * Reads an async iterator until `predicate` matches, returning the matching item. `limitMs` is
 * only a guard so a broken stream fails the test instead of hanging it.
 */
export async function nextMatching<T>(
  iterator: AsyncIterator<T>,
  predicate: (item: T) => boolean,
  limitMs = 15_000,
): Promise<T> {
  const seen: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no matching event within ${limitMs} ms; saw ${JSON.stringify(seen.slice(-5))}`)),
      limitMs,
    );
  });
  try {
    for (;;) {
      const r = await Promise.race([iterator.next(), guard]);
      if (r.done) throw new Error(`stream ended; saw ${JSON.stringify(seen.slice(-5))}`);
      seen.push(r.value);
      if (predicate(r.value)) return r.value;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Removes every container and volume labelled with the project (test clean-up, whatever failed). */
export async function removeProjectDockerObjects(projectId: string | undefined): Promise<void> {
  if (!projectId) return;
  const filters = { label: [`${LABELS.projectId}=${projectId}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) {
    await docker.getVolume(v.Name).remove().catch(() => {});
  }
  // The project's own network (its relay container went with the containers above).
  for (const n of await docker.listNetworks({ filters })) {
    await docker.getNetwork(n.Id).remove().catch(() => {});
  }
}

// Volume archives (snapshots): a tar stream of volumes' contents, read through a throwaway
// container that mounts them read-only and never runs (the engine's archive API reads a created
// container's mounts), and the way back: the volumes emptied by a short `find -delete` and the
// tar extracted into them by the engine's archive API (ownership and modes as the entries say).
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import type { ArchiveVolume, VolumeArchiveReader } from "../port";
import { dockerError } from "./client";
import { HARDENED_HOST_CONFIG, LABELS } from "./containers";
import { NETWORK_LABELS } from "./project-network";

/** The labels of the short containers that read and write snapshot volumes. */
const SNAPSHOT_CONTAINER_LABELS = { [LABELS.managed]: "true", [NETWORK_LABELS.role]: "snapshot" };

/** Where the throwaway container mounts the volumes: /snapshot/<root>. */
const MOUNT_DIR = "/snapshot";

function checkRoots(volumes: ArchiveVolume[]): void {
  for (const v of volumes) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(v.root)) throw new Error(`archive root ${JSON.stringify(v.root)} is not a plain name`);
  }
}

function mounts(volumes: ArchiveVolume[], readOnly: boolean) {
  return volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: `${MOUNT_DIR}/${v.root}`, ReadOnly: readOnly }));
}

async function removeQuietly(container: Docker.Container): Promise<void> {
  await container.remove({ force: true }).catch(() => {});
}

/**
 * A tar of the volumes, each under `<MOUNT_DIR minus the slash>/<root>/` (the engine names
 * entries after the directory it was asked for: "snapshot/workspace/a.txt"). The container is
 * created, never started, and removed by `close()` (call it when the stream has been consumed).
 */
export async function readVolumes(docker: Docker, volumes: ArchiveVolume[], image: string): Promise<VolumeArchiveReader> {
  checkRoots(volumes);
  const what = "read the agent's volumes for a snapshot";
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: image,
      User: "0:0",
      Entrypoint: ["true"],
      Cmd: [],
      NetworkDisabled: true,
      Labels: SNAPSHOT_CONTAINER_LABELS,
      HostConfig: { ...HARDENED_HOST_CONFIG, Init: false, NetworkMode: "none", Mounts: mounts(volumes, true) },
    });
  } catch (e) {
    throw dockerError(e, what);
  }
  try {
    const stream = (await container.getArchive({ path: MOUNT_DIR })) as unknown as Readable;
    return { stream, prefix: `${MOUNT_DIR.slice(1)}/`, close: () => removeQuietly(container) };
  } catch (e) {
    await removeQuietly(container);
    throw dockerError(e, what);
  }
}

/**
 * Empties the volumes (everything below their roots) and extracts `tar` into them: its entries
 * are named `<root>/...`. The caller has checked every entry (names, links, types, owners).
 */
export async function writeVolumes(docker: Docker, volumes: ArchiveVolume[], image: string, tar: Readable): Promise<void> {
  checkRoots(volumes);
  const what = "restore the agent's volumes from a snapshot";
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: image,
      // root with only DAC_OVERRIDE and FOWNER: deletes what the agent made read-only to itself.
      User: "0:0",
      Entrypoint: ["find"],
      Cmd: [...volumes.map((v) => `${MOUNT_DIR}/${v.root}`), "-mindepth", "1", "-delete"],
      NetworkDisabled: true,
      Labels: SNAPSHOT_CONTAINER_LABELS,
      HostConfig: {
        ...HARDENED_HOST_CONFIG,
        Init: false,
        CapAdd: ["DAC_OVERRIDE", "FOWNER"],
        NetworkMode: "none",
        // The archive API refuses to write below a read-only root unless the target is a mount;
        // the target here is the directory above the mounts. The container runs only `find`.
        ReadonlyRootfs: false,
        Mounts: mounts(volumes, false),
      },
    });
  } catch (e) {
    tar.destroy();
    throw dockerError(e, what);
  }
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`${what}: emptying the volumes failed (find exited with ${StatusCode})`);
    await container.putArchive(tar as unknown as NodeJS.ReadableStream, { path: MOUNT_DIR });
  } catch (e) {
    tar.destroy();
    throw e instanceof Error && e.message.startsWith(what) ? e : dockerError(e, what);
  } finally {
    await removeQuietly(container);
  }
}

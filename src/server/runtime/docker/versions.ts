// Docker calls of safe re-creates (image updates, env changes): the health probe, renaming the
// new container into the old one's place, the tags of an image repository, and why a container
// that stopped early stopped.
import type Docker from "dockerode";
import type { LocalImageTag } from "../port";
import { dockerError, engineMessage, isEngineUnreachable } from "./client";
import { demuxText } from "./frames";

export type { LocalImageTag };

/** "repo" of "repo:tag" / "host:5000/ns/repo:tag" / "repo@sha256:..." (tag and digest stripped). */
export function imageRepository(image: string): string {
  const at = image.indexOf("@");
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref;
}

/** Every local tag of the repository (`armory-agent` -> armory-agent:2.1.330-r1, ...), newest first. */
export async function listRepositoryTags(docker: Docker, repository: string): Promise<LocalImageTag[]> {
  let images: Docker.ImageInfo[];
  try {
    images = await docker.listImages({ filters: { reference: [repository] } });
  } catch (err) {
    throw dockerError(err, `list the images of ${repository}`);
  }
  const tags: LocalImageTag[] = [];
  for (const img of images) {
    for (const ref of img.RepoTags ?? []) {
      if (ref === "<none>:<none>" || imageRepository(ref) !== repository) continue;
      tags.push({ image: ref, tag: ref.slice(repository.length + 1), imageId: img.Id, createdAt: new Date(img.Created * 1000), sizeBytes: img.Size });
    }
  }
  return tags.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.tag.localeCompare(a.tag));
}

export interface ProbeResult {
  ok: boolean;
  exitCode: number | null;
  /** The probe's output (trimmed, at most 500 characters) or why it could not run. */
  output: string;
}

/** Runs `armory-supervisor health` in the container (as its user); ok when it exits 0. */
export async function probeSupervisorHealth(docker: Docker, containerId: string): Promise<ProbeResult> {
  const container = docker.getContainer(containerId);
  let exec: Docker.Exec;
  try {
    exec = await container.exec({ Cmd: ["armory-supervisor", "health"], AttachStdout: true, AttachStderr: true });
  } catch (err) {
    // Not running (yet or any more: 409, or 500 "cannot exec in a stopped container"): the
    // caller looks at the container's state. Only an unreachable engine is an error here.
    if (isEngineUnreachable(err)) throw dockerError(err, "run the health probe");
    return { ok: false, exitCode: null, output: engineMessage(err) };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = await exec.start({});
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => {
        if (size < 4096) {
          chunks.push(chunk);
          size += chunk.length;
        }
      });
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", reject);
    });
  } catch (err) {
    if (isEngineUnreachable(err)) throw dockerError(err, "run the health probe");
    return { ok: false, exitCode: null, output: engineMessage(err) };
  }
  // The exit code is known once the exec is no longer running (a moment after its output ends).
  let info: Docker.ExecInspectInfo;
  try {
    info = await exec.inspect();
    for (let i = 0; info.Running && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 10 * (i + 1)));
      info = await exec.inspect();
    }
  } catch (err) {
    if (isEngineUnreachable(err)) throw dockerError(err, "inspect the health probe");
    return { ok: false, exitCode: null, output: engineMessage(err) };
  }
  const exitCode = info.Running ? null : info.ExitCode;
  return { ok: exitCode === 0, exitCode, output: demuxText(Buffer.concat(chunks)).trim().slice(0, 500) };
}

export async function renameContainer(docker: Docker, id: string, name: string): Promise<void> {
  try {
    await docker.getContainer(id).rename({ name });
  } catch (err) {
    throw dockerError(err, `rename the container to ${name}`);
  }
}

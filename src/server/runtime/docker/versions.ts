// Docker calls of safe re-creates (image updates, env changes): the health probe, renaming the
// new container into the old one's place, the tags of an image repository, and why a container
// that stopped early stopped.
import type Docker from "dockerode";
import { dockerError, engineMessage, isEngineUnreachable } from "./client";

/** "repo" of "repo:tag" / "host:5000/ns/repo:tag" / "repo@sha256:..." (tag and digest stripped). */
export function imageRepository(image: string): string {
  const at = image.indexOf("@");
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref;
}

export interface LocalImageTag {
  image: string;
  tag: string;
  imageId: string;
  createdAt: Date;
  sizeBytes: number;
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

function demuxText(chunk: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= chunk.length && (chunk[i] === 1 || chunk[i] === 2) && chunk[i + 1] === 0 && chunk[i + 2] === 0 && chunk[i + 3] === 0) {
    const len = chunk.readUInt32BE(i + 4);
    out += chunk.subarray(i + 8, i + 8 + len).toString("utf8");
    i += 8 + len;
  }
  return i === 0 ? chunk.toString("utf8") : out;
}

export async function renameContainer(docker: Docker, id: string, name: string): Promise<void> {
  try {
    await docker.getContainer(id).rename({ name });
  } catch (err) {
    throw dockerError(err, `rename the container to ${name}`);
  }
}

/** The last lines a container wrote (stdout and stderr), for saying why it stopped. */
export async function containerLogTail(docker: Docker, id: string, lines = 5): Promise<string> {
  try {
    const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demuxText(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))).trim().slice(-800);
  } catch {
    return "";
  }
}

/** The networks a container is attached to (names). */
export async function containerNetworks(docker: Docker, id: string): Promise<string[]> {
  try {
    const info = await docker.getContainer(id).inspect();
    return Object.keys(info.NetworkSettings?.Networks ?? {});
  } catch (err) {
    throw dockerError(err, "inspect the container");
  }
}

// Docker calls of safe re-creates (image updates, env changes): renaming the new container into
// the old one's place and the tags of an image repository.
import type Docker from "dockerode";
import type { LocalImageTag } from "../port";
import { dockerError } from "./client";

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

export async function renameContainer(docker: Docker, id: string, name: string): Promise<void> {
  try {
    await docker.getContainer(id).rename({ name });
  } catch (err) {
    throw dockerError(err, `rename the container to ${name}`);
  }
}

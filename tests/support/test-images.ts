// Tiny images built FROM the agent image for update tests (a label and a file change each), and
// their removal. Builds go through the engine API with no network.
import tar from "tar-stream";
import type Docker from "dockerode";

/** Builds `tag` from a Dockerfile text (the build context holds only the Dockerfile). */
export async function buildTestImage(docker: Docker, tag: string, dockerfile: string): Promise<void> {
  const pack = tar.pack();
  pack.entry({ name: "Dockerfile", mode: 0o644 }, dockerfile);
  pack.finalize();
  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, networkmode: "none", rm: true, forcerm: true, pull: false });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failed = err ?? output.find((o) => o.error);
      if (failed) reject(new Error(`building ${tag} failed: ${err?.message ?? (failed as { error?: string }).error}`));
      else resolve();
    });
  });
}

/** Removes only the given tags (never other images). */
export async function removeTestImages(docker: Docker, tags: string[]): Promise<void> {
  for (const tag of tags) await docker.getImage(tag).remove({ noprune: false }).catch(() => {});
}

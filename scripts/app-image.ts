// `tsx scripts/app-image.ts [--force]`: the images docker-compose.yml runs, built on this machine
// with no container registry (the compose end-to-end test uses it; so can anyone without one):
//   armory-debian-base:bookworm  Debian bookworm by debootstrap: the agent image's own code
//                                (ensureDebianBaseImage in src/server/runtime/docker/agent-image.ts)
//   armory-node:<v>-bookworm     that base + this host's Node.js and npm (docker/app/Dockerfile.node)
//   armory-postgres:15-bookworm  that base + Debian's PostgreSQL 15 (docker/postgres/)
//   armory:local                 the app image: the repository's Dockerfile with NODE_IMAGE set to
//                                the local Node base (the Docker layer cache makes a rebuild of
//                                unchanged sources take seconds)
// Each base is built only when the engine lacks it (--force rebuilds them). Prints the images
// and their sizes; the last line is the app image's tag.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDockerClient } from "../src/server/runtime/docker/client";
import { agentImageProgressPrinter, ensureDebianBaseImage } from "../src/server/runtime/docker/agent-image";

export const DEBIAN_BASE_IMAGE = "armory-debian-base:bookworm";
export const NODE_BASE_IMAGE = `armory-node:${process.versions.node}-bookworm`;
export const POSTGRES_IMAGE = "armory-postgres:15-bookworm";
export const APP_IMAGE = process.env.ARMORY_IMAGE ?? "armory:local";

const root = path.resolve(import.meta.dirname, "..");
const docker = createDockerClient();
const force = process.argv.includes("--force");
const log = (line: string) => console.log(line);

/** `docker build` (the engine's own CLI, classic builder: it reads .dockerignore). */
function dockerBuild(args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    log(`==> docker build ${what}`);
    const child = spawn("docker", ["build", "--force-rm", ...args], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) {
        log(`==> ${what} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        resolve();
      } else reject(new Error(`docker build ${what} exited with ${code}`));
    });
  });
}

async function exists(image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

async function size(image: string): Promise<string> {
  const info = await docker.getImage(image).inspect();
  return `${(info.Size / 1e6).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const base = await ensureDebianBaseImage({
    docker,
    image: DEBIAN_BASE_IMAGE,
    packages: ["ca-certificates"],
    rebuild: force,
    onProgress: agentImageProgressPrinter(log),
  });
  if (base !== "cached") log(`==> ${DEBIAN_BASE_IMAGE} built in ${(base / 1000).toFixed(1)} s`);

  // The CAs this host trusts: npm in the image then reaches the registry the way npm here does.
  const caFile = [process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"].find((f) => f && fs.existsSync(f));
  if (!caFile) throw new Error("found no CA bundle (NODE_EXTRA_CA_CERTS or /etc/ssl/certs/ca-certificates.crt) for the Node base");
  const nodeInputs = createHash("sha256")
    .update(fs.readFileSync(path.join(root, "docker", "app", "Dockerfile.node")))
    .update(fs.readFileSync(caFile))
    .digest("hex")
    .slice(0, 16);
  const nodeLabel = "dev.armory.node-base-inputs";
  const nodeCurrent = (await exists(NODE_BASE_IMAGE)) && (await docker.getImage(NODE_BASE_IMAGE).inspect()).Config.Labels?.[nodeLabel] === nodeInputs;
  if (force || base !== "cached" || !nodeCurrent) {
    // Context: the Dockerfile, this host's node binary, its npm and CAs (the image runs what runs here).
    const npmDir = path.resolve(path.dirname(fs.realpathSync(process.execPath)), "..", "lib", "node_modules", "npm");
    if (!fs.existsSync(path.join(npmDir, "bin", "npm-cli.js"))) throw new Error(`npm is not at ${npmDir}: cannot assemble ${NODE_BASE_IMAGE}`);
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "armory-node-base-"));
    try {
      fs.copyFileSync(path.join(root, "docker", "app", "Dockerfile.node"), path.join(ctx, "Dockerfile"));
      fs.copyFileSync(fs.realpathSync(process.execPath), path.join(ctx, "node"));
      fs.chmodSync(path.join(ctx, "node"), 0o755);
      fs.cpSync(npmDir, path.join(ctx, "npm"), { recursive: true, verbatimSymlinks: true });
      fs.copyFileSync(caFile, path.join(ctx, "host-ca.crt"));
      await dockerBuild(
        ["--network", "none", "--build-arg", `BASE_IMAGE=${DEBIAN_BASE_IMAGE}`, "--label", `${nodeLabel}=${nodeInputs}`, "-t", NODE_BASE_IMAGE, ctx],
        NODE_BASE_IMAGE,
      );
    } finally {
      fs.rmSync(ctx, { recursive: true, force: true });
    }
  }

  if (force || base !== "cached" || !(await exists(POSTGRES_IMAGE))) {
    await dockerBuild(
      ["--network", "host", "--build-arg", `BASE_IMAGE=${DEBIAN_BASE_IMAGE}`, "-t", POSTGRES_IMAGE, path.join(root, "docker", "postgres")],
      POSTGRES_IMAGE,
    );
  }

  // npm ci in the build stage needs the npm registry: the host's network.
  await dockerBuild(["--network", "host", "--build-arg", `NODE_IMAGE=${NODE_BASE_IMAGE}`, "-t", APP_IMAGE, root], APP_IMAGE);

  for (const image of [DEBIAN_BASE_IMAGE, NODE_BASE_IMAGE, POSTGRES_IMAGE, APP_IMAGE]) log(`${image.padEnd(36)} ${await size(image)}`);
  log(APP_IMAGE);
}

main().catch((err: unknown) => {
  console.error(`Error: ${(err as Error).message}`);
  process.exit(1);
});

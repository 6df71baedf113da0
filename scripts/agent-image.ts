// `npm run agent-image [-- --force] [-- --rebuild-base]`: builds the default agent image
// (docker/agent/) with no registry access, unless the engine already has it. --force rebuilds
// the image; --rebuild-base also re-creates the Debian base (debootstrap).
import { createDockerClient, describeEngine, engineMessage, isEngineUnreachable } from "../src/server/runtime/docker/client";
import {
  AgentImageBuildError,
  agentImageProgressPrinter,
  agentImageStatus,
  agentImageTag,
  buildAgentImage,
} from "../src/server/runtime/docker/agent-image";

const USAGE = "usage: npm run agent-image [-- --force] [-- --rebuild-base]";

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const secs = (ms: number | "cached") => (ms === "cached" ? "cached" : `${(ms / 1000).toFixed(1)}s`);

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !["--force", "--rebuild-base", "-h", "--help"].includes(a));
  if (argv.includes("-h") || argv.includes("--help") || unknown.length) {
    console.log(unknown.length ? `unknown argument: ${unknown.join(" ")}\n${USAGE}` : USAGE);
    return unknown.length ? 2 : 0;
  }
  const rebuildBase = argv.includes("--rebuild-base");
  const force = argv.includes("--force") || rebuildBase;
  const docker = createDockerClient();
  const tag = agentImageTag();

  let status;
  try {
    status = await agentImageStatus(docker, { tag });
  } catch (err) {
    if (isEngineUnreachable(err)) {
      console.error(`Error: the Docker engine is not reachable at ${describeEngine()}: ${engineMessage(err)}`);
      return 1;
    }
    throw err;
  }
  if (status === "current" && !force) {
    const { Size } = await docker.getImage(tag).inspect();
    console.log(`Agent image ${tag} is present (${mb(Size)}); nothing to do (--force rebuilds it).`);
    return 0;
  }

  const why = status === "stale" ? " (it was built from other docker/agent files)" : "";
  console.log(`${status === "missing" ? "Building" : "Rebuilding"} agent image ${tag}${why} on ${describeEngine()}`);
  const result = await buildAgentImage({
    docker,
    tag,
    rebuildBase,
    // Without --force, a build another process finished while we waited for its lock is enough.
    skipIfCurrent: !force,
    onProgress: agentImageProgressPrinter((line) => console.log(line)),
  });
  const { base, cli, daemon, image } = result.steps;
  if (image === "cached") {
    console.log(`Agent image ${result.tag} is present (${mb(result.sizeBytes)}): another process built it meanwhile.`);
    return 0;
  }
  console.log(
    `Agent image ${result.tag} built in ${secs(result.durationMs)} (base ${secs(base)}, cli ${secs(cli)}, armoryd ${secs(daemon)}, image ${secs(image)}); size ${mb(result.sizeBytes)}`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A failed build step says what and why; anything else is unexpected and keeps its stack.
    console.error(err instanceof AgentImageBuildError ? `Error: ${err.message}` : err);
    process.exit(1);
  },
);

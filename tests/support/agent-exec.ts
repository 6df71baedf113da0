// Running commands inside an agent's container from tests (as the agent user, like its own processes).
import { docker } from "./docker";

/** Runs a bash script in the container; resolves with its output when it ends (or at once with detach). */
export async function execIn(containerId: string, script: string, detach = false): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: ["bash", "-c", script],
    User: "1000:1000",
    AttachStdout: !detach,
    AttachStderr: !detach,
  });
  if (detach) {
    await exec.start({ Detach: true });
    return "";
  }
  const stream = await exec.start({});
  return new Promise<string>((resolve) => {
    let out = "";
    stream.on("data", (d: Buffer) => (out += d.toString("utf8")));
    stream.on("end", () => resolve(out));
  });
}

/** Writes to the container's own stdout/stderr (what `docker logs` shows), as the agent's main process would. */
export const writeContainerLog = (containerId: string, script: string) =>
  execIn(containerId, `exec 1>/proc/1/fd/1 2>/proc/1/fd/2; ${script}`);

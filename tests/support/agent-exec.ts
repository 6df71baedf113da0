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

/**
 * A script that gets the container OOM-killed: it makes the container's own processes (init and
 * the supervisor) the OOM killer's first choice, then fills memory with `hogs` × `mb` MB.
 */
export const oomScript = (hogs = 4, mb = 60) =>
  `echo 1000 > /proc/$(cat /tmp/armory-supervisor.pid)/oom_score_adj; echo 1000 > /proc/1/oom_score_adj;
for i in $(seq 1 ${hogs}); do (x=$(head -c ${mb}m /dev/zero | tr "\\0" a); sleep 30) & done; wait`;

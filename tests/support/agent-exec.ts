// Running commands inside an agent's container from tests (as the agent user, like its own processes).
import { PassThrough } from "node:stream";
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

/**
 * Runs a shell command in the container as the agent user (or as root: uid 0 without capabilities,
 * like every process in an agent container); returns stdout.
 */
export async function sh(containerId: string, script: string, user: "agent" | "root" = "agent"): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ["bash", "-c", script], AttachStdout: true, AttachStderr: true, User: user === "root" ? "0:0" : "1000:1000" });
  const stream = await exec.start({});
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise((resolve) => stream.on("end", resolve));
  const info = await exec.inspect();
  if (info.ExitCode !== 0) throw new Error(`${script} exited ${info.ExitCode}: ${Buffer.concat(err).toString()}`);
  return Buffer.concat(out).toString("utf8");
}

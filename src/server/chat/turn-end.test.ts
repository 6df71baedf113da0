// Issue 12, item 8: a turn whose Docker engine went away is reported as such, not as a removed
// container. The inspect error comes from a real client pointed at an engine socket that does
// not answer (the shared engine is never stopped for this).
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createDockerClient } from "../runtime/docker/client";
import { inspectContainer } from "../runtime/docker/containers";
import { classifyLostTurn, engineWentAway } from "./turn-end";

describe("why a turn ended without a result", () => {
  it("says the engine connection was lost when the engine cannot be reached", async () => {
    const gone = createDockerClient(`unix://${path.join(os.tmpdir(), `armory-no-engine-${process.pid}.sock`)}`);
    const inspectError = await inspectContainer(gone, "0123456789ab").then(
      () => {
        throw new Error("inspect against a missing engine succeeded");
      },
      (err: unknown) => err,
    );
    expect(engineWentAway(inspectError)).toBe(true);
    const lost = classifyLostTurn({ after: null, inspectError, exitCode: null, memoryMb: 512, stderrTail: [] });
    expect(lost.reason).toBe("engine_unreachable");
    expect(lost.message).toMatch(/lost the connection to the Docker engine/);
    expect(lost.message).not.toMatch(/removed/);
  });

  it("still says removed when the engine answers that the container is gone", () => {
    const lost = classifyLostTurn({ after: null, exitCode: null, memoryMb: 512, stderrTail: [] });
    expect(lost).toMatchObject({ reason: "container_stopped" });
    expect(lost.message).toMatch(/it was removed/);
  });

  it("keeps the other causes (OOM, killed process, CLI exit)", () => {
    const running = { state: "running", oomKilled: false, detail: null } as never;
    expect(classifyLostTurn({ after: { state: "exited", oomKilled: true, detail: null } as never, exitCode: 137, memoryMb: 256, stderrTail: [] }).reason).toBe("container_oom");
    expect(classifyLostTurn({ after: running, exitCode: 137, memoryMb: 256, stderrTail: [] }).reason).toBe("process_killed");
    expect(classifyLostTurn({ after: running, exitCode: 1, memoryMb: 256, stderrTail: ["boom"] }).message).toMatch(/code 1 .*boom/);
  });
});

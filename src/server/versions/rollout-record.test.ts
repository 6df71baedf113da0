// Stored updates stay readable: rows written when the first step was called "pulling" (Armory
// never pulled; it checks the image is on the engine) read as "checking-image".
import { describe, expect, it } from "vitest";
import { updateRecord } from "../api/routers/version/schemas";
import { toRecord } from "./rollout";

const row = {
  id: "u1",
  agentId: "a1",
  kind: "image",
  fromImage: "armory-agent:1",
  toImage: "armory-agent:2",
  envKeys: [],
  status: "rolled_back",
  error: "The image armory-agent:2 is not on the Docker engine",
  oldContainerId: "a".repeat(64),
  newContainerId: null,
  byName: "Owner",
  startedAt: new Date("2026-11-01T10:00:00Z"),
  finishedAt: new Date("2026-11-01T10:00:01Z"),
  durationMs: 1000,
};

describe("toRecord", () => {
  it('reads an old "pulling" step as "checking-image", and the record passes the output schema', () => {
    const record = toRecord({
      ...row,
      steps: [
        { step: "pulling", message: "checking the image armory-agent:2", at: "2026-11-01T10:00:00.000Z" },
        { step: "rolled-back", message: "not on the engine", at: "2026-11-01T10:00:01.000Z" },
      ],
    });
    expect(record.steps.map((s) => s.step)).toEqual(["checking-image", "rolled-back"]);
    expect(record).toMatchObject({ oldContainerId: "a".repeat(64), newContainerId: null });
    expect(updateRecord.parse(record).steps[0]!.step).toBe("checking-image");
  });
});

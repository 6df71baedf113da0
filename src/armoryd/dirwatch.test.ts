// The directory watch's debounce (Burst): due after the quiet time, at the latest the maximum
// after the first change, each name once, capped with `truncated`; armoryd's temp files ignored.
import { describe, expect, it } from "vitest";
import { WATCH_MAX_MS, WATCH_MAX_PATHS, WATCH_QUIET_MS } from "../contracts/armoryd";
import { Burst, OWN_TEMP_NAME } from "./dirwatch";

describe("Burst", () => {
  it("is due the quiet time after the last change while changes keep coming, never later than the maximum after the first", () => {
    const b = new Burst(100, 500);
    expect(b.empty).toBe(true);
    expect(b.dueAt()).toBeNull();
    expect(b.note("a", 1000)).toBe(1100);
    expect(b.note("b", 1050)).toBe(1150);
    expect(b.note("a", 1380)).toBe(1480);
    // 1450 + 100 would pass 1000 + 500.
    expect(b.note("c", 1450)).toBe(1500);
    expect(b.note("d", 1499)).toBe(1500);
    expect(b.take()).toEqual({ names: ["a", "b", "c", "d"], truncated: false });
    expect(b.empty).toBe(true);
    // A new burst starts its own clock.
    expect(b.note("e", 2000)).toBe(2100);
  });

  it("keeps at most maxNames names and says more changed; a change without a name marks it truncated", () => {
    const b = new Burst(100, 500, 3);
    for (const n of ["a", "b", "c", "d", "a"]) b.note(n, 0);
    expect(b.take()).toEqual({ names: ["a", "b", "c"], truncated: true });
    b.note(null, 10);
    expect(b.empty).toBe(false);
    expect(b.take()).toEqual({ names: [], truncated: true });
    expect(b.empty).toBe(true);
  });

  it("uses the protocol's defaults", () => {
    const b = new Burst();
    expect(b.note("x", 0)).toBe(WATCH_QUIET_MS);
    for (let i = 0; i < WATCH_MAX_PATHS + 10; i++) b.note(`f${i}`, WATCH_MAX_MS - 1);
    expect(b.dueAt()).toBe(WATCH_MAX_MS);
    const { names, truncated } = b.take();
    expect(names).toHaveLength(WATCH_MAX_PATHS);
    expect(truncated).toBe(true);
  });

  it("recognises armoryd's own temp file names only", () => {
    expect(OWN_TEMP_NAME.test(".armory-write-12-0a1b2c3d.tmp")).toBe(true);
    expect(OWN_TEMP_NAME.test("notes.tmp")).toBe(false);
    expect(OWN_TEMP_NAME.test(".armory-write-12-0a1b2c3d.tmp.bak")).toBe(false);
  });
});

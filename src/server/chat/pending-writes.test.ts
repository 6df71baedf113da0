import { describe, expect, it } from "vitest";
import { PendingWrites } from "./bus";

describe("PendingWrites", () => {
  it("settles once every write added so far has ended, stored or failed, each counted once", async () => {
    const w = new PendingWrites();
    let settled = false;
    await w.settled(); // nothing pending: at once
    const a = w.add();
    const b = w.add();
    let fail!: (e: Error) => void;
    w.track(new Promise((_, reject) => (fail = reject)));
    const waiting = w.settled().then(() => (settled = true));
    a();
    a(); // twice: still one
    b();
    await Promise.resolve();
    expect(settled).toBe(false);
    fail(new Error("write failed"));
    await waiting;
    expect(settled).toBe(true);
  });
});

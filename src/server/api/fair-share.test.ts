import { describe, expect, it } from "vitest";
import { FairShare } from "./fair-share";

describe("FairShare", () => {
  it("runs at most perCaller calls of one caller at once, queues the rest in order, and refuses beyond the queue", async () => {
    const gate = new FairShare(2, 2);
    const a1 = await gate.acquire("a");
    const a2 = await gate.acquire("a");
    expect(gate.running("a")).toBe(2);
    const order: string[] = [];
    const w1 = gate.acquire("a").then((r) => (order.push("w1"), r));
    const w2 = gate.acquire("a").then((r) => (order.push("w2"), r));
    expect(await gate.acquire("a")).toBeNull(); // queue full
    // Another caller is not held up by a's burst.
    const b = await gate.acquire("b");
    expect(b).not.toBeNull();
    a1!();
    const r1 = await w1;
    a2!();
    const r2 = await w2;
    expect(order).toEqual(["w1", "w2"]);
    expect(gate.running("a")).toBe(2);
    r1!();
    r2!();
    b!();
    expect(gate.running("a")).toBe(0);
    expect(gate.running("b")).toBe(0);
  });

  it("releases a slot once, however often release is called", async () => {
    const gate = new FairShare(1, 0);
    const r = await gate.acquire("a");
    r!();
    r!();
    expect(gate.running("a")).toBe(0);
    const again = await gate.acquire("a");
    expect(again).not.toBeNull();
    expect(await gate.acquire("a")).toBeNull();
  });
});

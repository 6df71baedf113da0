import { describe, expect, it } from "vitest";
import { demuxText, FrameDemuxer, MultiplexedLineSplitter } from "./frames";

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A small seeded PRNG (mulberry32): deterministic "random" numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("Docker's multiplexed stream", () => {
  const input = Buffer.concat([
    frame(1, "first line\nsecond "),
    frame(2, "an error ✗\n"),
    frame(1, "line\n"),
    frame(2, ""),
    frame(1, "no newline at the end"),
  ]);
  const expected = [
    { stream: "stdout", line: "first line" },
    { stream: "stderr", line: "an error ✗" },
    { stream: "stdout", line: "second line" },
    { stream: "stdout", line: "no newline at the end" },
  ];

  it("splits frames into lines per stream, whatever the chunk boundaries", () => {
    // Every split point (headers, payloads and multi-byte characters cut in two), every pair of
    // split points, and 200 seeded pseudo-random chunkings of up to 8 cuts (the same every run, so
    // a failure names its cuts and reproduces).
    const chunkings: number[][] = [];
    for (let at = 1; at < input.length; at++) chunkings.push([at]);
    for (let a = 1; a < input.length; a++) for (let b = a + 1; b < input.length; b++) chunkings.push([a, b]);
    const random = mulberry32(0x5eed21);
    for (let n = 0; n < 200; n++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => 1 + Math.floor(random() * (input.length - 1)));
      chunkings.push([...new Set(cuts)].sort((a, b) => a - b));
    }
    expect(chunkings.length).toBe(input.length - 1 + ((input.length - 1) * (input.length - 2)) / 2 + 200);
    for (const cuts of chunkings) {
      const s = new MultiplexedLineSplitter();
      const out: { stream: string; line: string }[] = [];
      let from = 0;
      for (const to of [...cuts, input.length]) {
        out.push(...s.push(input.subarray(from, to)));
        from = to;
      }
      out.push(...s.end());
      expect(out, `cut at ${cuts.join(",")}`).toEqual(expected);
    }
  });

  it("keeps an incomplete frame until the rest arrives", () => {
    const d = new FrameDemuxer();
    const f = frame(2, "hello");
    expect(d.push(f.subarray(0, 6))).toEqual([]);
    expect(d.push(f.subarray(6, 10))).toEqual([]);
    const [got] = d.push(f.subarray(10));
    expect(got!.stream).toBe("stderr");
    expect(got!.payload.toString()).toBe("hello");
  });
});

describe("demuxText", () => {
  it("joins the payloads of a complete multiplexed buffer in order", () => {
    expect(demuxText(Buffer.concat([frame(1, "ok "), frame(2, "warn "), frame(1, "done")]))).toBe("ok warn done");
  });

  it("takes raw (TTY) output as it is", () => {
    expect(demuxText(Buffer.from("plain text\r\n"))).toBe("plain text\r\n");
    expect(demuxText(Buffer.alloc(0))).toBe("");
  });
});

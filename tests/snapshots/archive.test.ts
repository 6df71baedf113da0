// The snapshot archive's checks on restore (src/server/snapshots/archive.ts): an archive is
// Armory's own file, but nothing in it is trusted. Hand-made tar.gz files with each kind of bad
// entry are refused with a 400 naming the entry; a good one passes with owners made the agent's
// and set-id bits dropped.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import * as tarStream from "tar-stream";
import { readArchive, verifyArchive } from "@/server/snapshots/archive";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-archive-test-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Entry = Parameters<tarStream.Pack["entry"]>[0] & { body?: string };

async function archive(entries: Entry[]): Promise<string> {
  const pack = tarStream.pack();
  for (const { body, ...h } of entries) pack.entry(h, body ?? "");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  const file = path.join(dir, `${crypto.randomUUID()}.tar.gz`);
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(chunks)));
  return file;
}

const ok: Entry[] = [
  { name: "workspace/", type: "directory", mode: 0o755 },
  { name: "workspace/a.txt", type: "file", mode: 0o644, body: "hello" },
  { name: "claude/", type: "directory", mode: 0o700 },
];

describe("snapshot archive checks", () => {
  it("passes a good archive, owners become the agent user, set-id bits are dropped", async () => {
    const file = await archive([
      ...ok,
      { name: "workspace/tool", type: "file", mode: 0o6755, uid: 0, gid: 0, body: "#!/bin/sh" },
      { name: "workspace/link", type: "symlink", linkname: "a.txt" },
      { name: "workspace/abs", type: "symlink", linkname: "/home/agent/.claude/settings.json" },
      { name: "workspace/hard", type: "link", linkname: "workspace/a.txt" },
    ]);
    const { tar, done } = readArchive(file);
    const seen: tarStream.Header[] = [];
    const extract = tarStream.extract();
    extract.on("entry", (h, s, next) => {
      seen.push(h);
      s.resume();
      s.on("end", next);
    });
    tar.pipe(extract);
    await Promise.all([done, new Promise<void>((r) => extract.on("finish", () => r()))]);
    expect(await done).toEqual({ fileCount: 3 });
    const tool = seen.find((h) => h.name === "workspace/tool")!;
    expect(tool).toMatchObject({ uid: 1000, gid: 1000 });
    expect(tool.mode & 0o7777).toBe(0o755);
  });

  const bad: [string, Entry[], RegExp][] = [
    ["an entry outside the roots", [{ name: "etc/passwd", type: "file", body: "x" }], /outside the archive's roots/],
    ["a .. segment", [{ name: "workspace/../../etc/passwd", type: "file", body: "x" }], /\.\. path segment/],
    ["an absolute name", [{ name: "/workspace/a", type: "file", body: "x" }], /absolute path/],
    ["a symlink pointing outside", [{ name: "workspace/evil", type: "symlink", linkname: "../../etc" }], /pointing outside/],
    ["an absolute symlink outside", [{ name: "claude/evil", type: "symlink", linkname: "/etc/shadow" }], /pointing outside/],
    [
      "a file written through a symlink",
      [
        { name: "workspace/inside", type: "symlink", linkname: "." },
        { name: "workspace/inside/x", type: "file", body: "x" },
      ],
      /through a symbolic link/,
    ],
    ["a hard link to something outside", [{ name: "workspace/h", type: "link", linkname: "../etc/passwd" }], /\.\. path segment/],
    ["a character device", [{ name: "workspace/null", type: "character-device", devmajor: 1, devminor: 3 }], /character-device/],
    ["a fifo", [{ name: "workspace/pipe", type: "fifo" }], /fifo/],
  ];
  it.each(bad)("refuses %s with 400", async (_what, entries, message) => {
    const file = await archive([...ok, ...entries]);
    await expect(verifyArchive(file)).rejects.toMatchObject({ code: "BAD_REQUEST", message });
  });

  it("refuses a file that is not a gzip archive", async () => {
    const file = path.join(dir, "garbage.tar.gz");
    fs.writeFileSync(file, "not an archive");
    await expect(verifyArchive(file)).rejects.toMatchObject({ code: "BAD_REQUEST", message: /cannot be read/ });
  });
});

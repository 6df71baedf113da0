import { describe, expect, it } from "vitest";
import { parseUnifiedDiff, toolDiff } from "./tool-diff";

describe("toolDiff", () => {
  it("shows an Edit as removed and added lines with context", () => {
    const d = toolDiff("Edit", { file_path: "/workspace/app.ts", old_string: "const a = 1;\nconst b = 2;\n", new_string: "const a = 1;\nconst b = 3;\n" })!;
    expect(d.path).toBe("/workspace/app.ts");
    expect(d.lines[0]!.kind).toBe("hunk");
    expect(d.lines.filter((l) => l.kind === "del").map((l) => l.text)).toEqual(["const b = 2;"]);
    expect(d.lines.filter((l) => l.kind === "add").map((l) => l.text)).toEqual(["const b = 3;"]);
    expect(d.lines.filter((l) => l.kind === "ctx").map((l) => l.text)).toEqual(["const a = 1;"]);
    expect([d.added, d.removed]).toEqual([1, 1]);
  });

  it("shows a Write of a new file as all added lines, and an overwrite against the original file", () => {
    const created = toolDiff("Write", { file_path: "/workspace/hello.txt", content: "hello\nworld\n" })!;
    expect(created.lines.filter((l) => l.kind === "add").map((l) => l.text)).toEqual(["hello", "world"]);
    expect(created.removed).toBe(0);
    const overwritten = toolDiff("Write", { file_path: "/workspace/hello.txt", content: "hello\nthere\n" }, { type: "update", originalFile: "hello\nworld\n" })!;
    expect([overwritten.added, overwritten.removed]).toEqual([1, 1]);
  });

  it("shows every edit of a MultiEdit, labelled", () => {
    const d = toolDiff("MultiEdit", { file_path: "/w/x.py", edits: [{ old_string: "a", new_string: "b" }, { old_string: "c", new_string: "d" }] })!;
    expect(d.lines.filter((l) => l.kind === "hunk").map((l) => l.text)).toEqual([expect.stringContaining("edit 1 of 2"), expect.stringContaining("edit 2 of 2")]);
    expect([d.added, d.removed]).toEqual([2, 2]);
  });

  it("is null for other tools and malformed inputs; caps very long diffs", () => {
    expect(toolDiff("Bash", { command: "ls" })).toBeNull();
    expect(toolDiff("Edit", { file_path: "/x" })).toBeNull();
    expect(toolDiff("Write", "nope")).toBeNull();
    const big = toolDiff("Write", { file_path: "/big", content: Array.from({ length: 2000 }, (_, i) => `line ${i}`).join("\n") })!;
    expect(big.truncated).toBe(true);
    expect(big.lines.length).toBe(500);
    expect(big.added).toBe(2000);
  });
});

describe("parseUnifiedDiff", () => {
  it("reads a unified diff (as the approvals API sends it) into lines, counting changes", async () => {
    const { createTwoFilesPatch } = await import("diff");
    const text = createTwoFilesPatch("/workspace/a.txt", "/workspace/a.txt", "one\ntwo\nthree\n", "one\n2\nthree\nfour\n");
    const d = parseUnifiedDiff(text, "/fallback")!;
    expect(d.path).toBe("/workspace/a.txt");
    expect(d.lines[0]!.kind).toBe("hunk");
    expect(d.lines.filter((l) => l.kind === "del").map((l) => l.text)).toEqual(["two"]);
    expect(d.lines.filter((l) => l.kind === "add").map((l) => l.text)).toEqual(["2", "four"]);
    expect([d.added, d.removed]).toEqual([2, 1]);
  });

  it("keeps the fallback path for relative names and is null without a hunk", () => {
    const d = parseUnifiedDiff("--- a/x.txt\n+++ b/x.txt\n@@ -0,0 +1 @@\n+hi\n\\ No newline at end of file\n", "/workspace/x.txt")!;
    expect(d.path).toBe("/workspace/x.txt");
    expect(d.lines.map((l) => l.kind)).toEqual(["hunk", "add"]);
    expect(parseUnifiedDiff("nothing here")).toBeNull();
  });
});

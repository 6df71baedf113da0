import { describe, expect, it } from "vitest";
import { renderDiff } from "./diff";

const file = (text: string | null) => async () => text;

describe("approval diffs", () => {
  it("Write: the new content against the file as it is now", async () => {
    const d = await renderDiff("Write", { file_path: "/workspace/a.txt", content: "one\nTWO\nthree\n" }, file("one\ntwo\nthree\n"));
    expect(d).toContain("--- /workspace/a.txt\tcurrent");
    expect(d).toContain("-two\n+TWO\n");
  });

  it("Write of a new file diffs against nothing", async () => {
    const d = await renderDiff("Write", { file_path: "/workspace/new.txt", content: "hello\n" }, file(null));
    expect(d).toContain("@@ -0,0 +1,1 @@\n+hello\n");
  });

  it("Edit: the replacement in context of the current file", async () => {
    const text = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const d = (await renderDiff("Edit", { file_path: "/workspace/f", old_string: "line 10", new_string: "line ten" }, file(text)))!;
    expect(d).toContain("-line 10\n+line ten\n");
    expect(d).toContain(" line 9\n"); // context around it
    expect(d).not.toContain("line 1\n"); // but not the whole file
  });

  it("MultiEdit applies every edit; an unreadable file falls back to the edit's own strings", async () => {
    const d = (await renderDiff("MultiEdit", { file_path: "/workspace/f", edits: [{ old_string: "a", new_string: "b" }, { old_string: "c", new_string: "d", replace_all: true }] }, file("a\nc\nc\n")))!;
    expect(d).toContain("-a\n-c\n-c\n+b\n+d\n+d\n");
    const unreadable = async () => {
      throw new Error("agent not running");
    };
    const f = (await renderDiff("Edit", { file_path: "/workspace/f", old_string: "x = 1", new_string: "x = 2" }, unreadable))!;
    expect(f).toContain("-x = 1\n");
    expect(f).toContain("+x = 2\n");
  });

  it("other tools and malformed input have no diff", async () => {
    expect(await renderDiff("Bash", { command: "ls" }, file(""))).toBeNull();
    expect(await renderDiff("Write", { file_path: "/workspace/f" }, file(""))).toBeNull();
    expect(await renderDiff("Edit", { old_string: "a", new_string: "b" }, file(""))).toBeNull();
  });
});

// The path rules, by example and by fuzzing: whatever string comes in, the result is either a
// clear 4xx DomainError or a normalized absolute path inside the roots.
import { describe, expect, it } from "vitest";
import { DomainError } from "../domain/errors";
import { checkAgentPath, DEFAULT_FILE_ROOTS, isWithinRoots, normalizeAgentPath, pathMatchesGlobs } from "./paths";

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return err.code;
  }
}

describe("path rules", () => {
  it("normalizes duplicate slashes, dot segments and trailing slashes", () => {
    expect(normalizeAgentPath("/workspace//a/./b/")).toBe("/workspace/a/b");
    expect(normalizeAgentPath("/")).toBe("/");
    expect(checkAgentPath("/home/agent/.claude/CLAUDE.md")).toBe("/home/agent/.claude/CLAUDE.md");
  });

  it("refuses NUL bytes, `..`, relative and over-long paths with 400, outside the roots with 403", () => {
    expect(codeOf(() => checkAgentPath("/workspace/a\0b"))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath("/workspace/../etc/passwd"))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath("/workspace/a/.."))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath("workspace/a"))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath(""))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath(`/workspace/${"a".repeat(256)}`))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath(`/workspace/${"a/".repeat(2100)}`))).toBe("BAD_REQUEST");
    expect(codeOf(() => checkAgentPath("/etc/passwd"))).toBe("FORBIDDEN");
    expect(codeOf(() => checkAgentPath("/workspace-other/x"))).toBe("FORBIDDEN");
    expect(codeOf(() => checkAgentPath("/home/agent/.claudex"))).toBe("FORBIDDEN");
    expect(codeOf(() => checkAgentPath("/home/agent"))).toBe("FORBIDDEN");
    expect(codeOf(() => checkAgentPath(42))).toBe("BAD_REQUEST");
  });

  it("fuzz: every input is refused with a 4xx or becomes a clean path inside the roots", () => {
    // Deterministic PRNG (mulberry32) so a failure reproduces.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces = ["/", "//", ".", "..", "...", "workspace", "/workspace", "/home/agent/.claude", "home", "agent", ".claude", "a", "é", "\0", "\\", "%2e%2e", " ", "\n", "CLAUDE.md", "~", "*", "x".repeat(300), "../", "/./", "\u202e", "\uffff"];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(rand() * 8);
      let s = "";
      for (let j = 0; j < n; j++) s += pieces[Math.floor(rand() * pieces.length)];
      let out: string | null = null;
      try {
        out = checkAgentPath(s);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        expect(["BAD_REQUEST", "FORBIDDEN"]).toContain((err as DomainError).code);
        continue;
      }
      accepted++;
      expect(out.startsWith("/")).toBe(true);
      expect(out).not.toContain("\0");
      expect(out).not.toMatch(/\/\//);
      expect(out.split("/")).not.toContain("..");
      expect(out.split("/").slice(1)).not.toContain(".");
      expect(out === "/" || !out.endsWith("/")).toBe(true);
      expect(isWithinRoots(out, DEFAULT_FILE_ROOTS)).toBe(true);
      expect(checkAgentPath(out)).toBe(out); // idempotent
      expect(s.includes("\0")).toBe(false);
      expect(s.split("/")).not.toContain("..");
    }
    expect(accepted).toBeGreaterThan(100); // the fuzzer reaches the accepting side too
  });

  it("matches grant globs (for the trust layer)", () => {
    expect(pathMatchesGlobs("/workspace/docs/a.md", ["/workspace/docs/**"])).toBe(true);
    expect(pathMatchesGlobs("/workspace/docs/.hidden", ["/workspace/docs/**"])).toBe(true);
    expect(pathMatchesGlobs("/workspace/src/a.ts", ["/workspace/docs/**"])).toBe(false);
    expect(pathMatchesGlobs("/workspace/docs/x/y.md", ["/workspace/docs"])).toBe(true);
    expect(pathMatchesGlobs("/workspace/CLAUDE.md", ["/workspace/*.md"])).toBe(true);
    expect(pathMatchesGlobs("/workspace/a.md", [])).toBe(false);
  });
});

// The rule matcher Armory answers remembered rules with (Claude Code's rule syntax).
import { describe, expect, it } from "vitest";
import { bashMatches, defaultRuleFor, firstMatch, parseRule, ruleMatches, summarize } from "./rules";

describe("permission rules", () => {
  it("parses tool names and specifiers, and refuses what is not a rule", () => {
    expect(parseRule("Bash")).toEqual({ tool: "Bash", specifier: null });
    expect(parseRule("Bash(git status:*)")).toEqual({ tool: "Bash", specifier: "git status:*" });
    expect(parseRule("Bash((")).toBeNull();
    expect(parseRule("rm -rf /")).toBeNull();
  });

  it("a bare tool name matches every call of that tool, and only that tool", () => {
    expect(ruleMatches("Bash", "Bash", { command: "anything at all" })).toBe(true);
    expect(ruleMatches("Bash", "Write", { file_path: "/workspace/a" })).toBe(false);
    expect(ruleMatches("WebFetch", "WebFetch", { url: "https://example.com" })).toBe(true);
  });

  it("Bash(prefix:*) matches commands starting with the prefix at a word boundary", () => {
    expect(bashMatches("git status:*", "git status")).toBe(true);
    expect(bashMatches("git status:*", "git status --short")).toBe(true);
    expect(bashMatches("git:*", "git push origin main")).toBe(true);
    expect(bashMatches("git:*", "gitx --evil")).toBe(false);
    expect(bashMatches("ls:*", "lsblk")).toBe(false);
    expect(bashMatches("touch:*", "  touch /workspace/x")).toBe(true);
    expect(bashMatches("npm run test:*", "npm run test:unit")).toBe(false); // "test:unit" is another word
    expect(bashMatches("npm run test:*", "npm run test -- --watch")).toBe(true);
  });

  it("Bash(exact) matches only that command; * is a wildcard", () => {
    expect(ruleMatches("Bash(git status)", "Bash", { command: "git status" })).toBe(true);
    expect(ruleMatches("Bash(git status)", "Bash", { command: "git status --short" })).toBe(false);
    expect(ruleMatches("Bash(rm -rf /*)", "Bash", { command: "rm -rf /home" })).toBe(true);
    expect(ruleMatches("Bash(rm -rf /*)", "Bash", { command: "rm -r /home" })).toBe(false);
    expect(ruleMatches("Bash(npm * --dry-run)", "Bash", { command: "npm publish --dry-run" })).toBe(true);
    // Regex characters are literal.
    expect(ruleMatches("Bash(echo a.b)", "Bash", { command: "echo aXb" })).toBe(false);
    expect(ruleMatches("Bash(touch:*)", "Bash", {})).toBe(false);
  });

  it("file rules match the absolute file path against a glob; Edit covers every file edit", () => {
    expect(ruleMatches("Edit(/workspace/src/**)", "Edit", { file_path: "/workspace/src/a/b.ts" })).toBe(true);
    expect(ruleMatches("Edit(/workspace/src/**)", "Write", { file_path: "/workspace/src/new.ts" })).toBe(true);
    expect(ruleMatches("Edit(/workspace/src/**)", "MultiEdit", { file_path: "/workspace/src/x.ts" })).toBe(true);
    expect(ruleMatches("Edit(/workspace/src/**)", "NotebookEdit", { notebook_path: "/workspace/src/n.ipynb" })).toBe(true);
    expect(ruleMatches("Edit(/workspace/src/**)", "Edit", { file_path: "/workspace/srcx/a.ts" })).toBe(false);
    expect(ruleMatches("Edit(/workspace/src/**)", "Edit", { file_path: "/workspace/src/../../etc/passwd" })).toBe(false);
    // Relative paths (the CLI's cwd is /workspace) and relative globs are under /workspace.
    expect(ruleMatches("Edit(src/**)", "Edit", { file_path: "src/a.ts" })).toBe(true);
    expect(ruleMatches("Write(//tmp/*.log)", "Write", { file_path: "/tmp/x.log" })).toBe(true);
    expect(ruleMatches("Write(/tmp/*.log)", "Write", { file_path: "/tmp/sub/x.log" })).toBe(false);
    expect(ruleMatches("Read(/etc/**)", "Read", { file_path: "/etc/hosts" })).toBe(true);
    expect(ruleMatches("Read(/etc/**)", "Edit", { file_path: "/etc/hosts" })).toBe(false);
    expect(ruleMatches("Edit(/workspace/**)", "Edit", { file_path: 42 })).toBe(false);
  });

  it("WebFetch(domain:host) matches URLs on that host (and *.host subdomains)", () => {
    expect(ruleMatches("WebFetch(domain:example.com)", "WebFetch", { url: "https://example.com/a" })).toBe(true);
    expect(ruleMatches("WebFetch(domain:example.com)", "WebFetch", { url: "https://evil-example.com/a" })).toBe(false);
    expect(ruleMatches("WebFetch(domain:example.com)", "WebFetch", { url: "https://api.example.com/a" })).toBe(false);
    expect(ruleMatches("WebFetch(domain:*.example.com)", "WebFetch", { url: "https://api.example.com/a" })).toBe(true);
    expect(ruleMatches("WebFetch(domain:example.com)", "WebFetch", { url: "not a url" })).toBe(false);
  });

  it("MCP rules: a server name covers its tools, a tool name only itself", () => {
    expect(ruleMatches("mcp__github", "mcp__github__get_issue", {})).toBe(true);
    expect(ruleMatches("mcp__github", "mcp__githubx__get_issue", {})).toBe(false);
    expect(ruleMatches("mcp__github__get_issue", "mcp__github__get_issue", {})).toBe(true);
    expect(ruleMatches("mcp__github__get_issue", "mcp__github__create_issue", {})).toBe(false);
  });

  it("firstMatch finds the rule that covers a call", () => {
    expect(firstMatch(["Read", "Bash(ls:*)", "Bash"], "Bash", { command: "ls /" })).toBe("Bash(ls:*)");
    expect(firstMatch(["Read"], "Bash", { command: "ls /" })).toBeNull();
  });

  it("suggests a rule to remember for each kind of tool", () => {
    expect(defaultRuleFor("Bash", { command: "touch /workspace/x" })).toBe("Bash(touch:*)");
    expect(defaultRuleFor("Bash", { command: "(cd /x && ls)" })).toBe("Bash");
    expect(defaultRuleFor("Write", { file_path: "/workspace/src/a.ts" })).toBe("Edit(/workspace/src/**)");
    expect(defaultRuleFor("Edit", { file_path: "notes.md" })).toBe("Edit(/workspace/**)");
    expect(defaultRuleFor("Read", { file_path: "/etc/hosts" })).toBe("Read(/etc/**)");
    expect(defaultRuleFor("WebFetch", { url: "https://docs.example.com/x" })).toBe("WebFetch(domain:docs.example.com)");
    expect(defaultRuleFor("mcp__github__get_issue", {})).toBe("mcp__github__get_issue");
    // A suggested rule always covers the call it was made for.
    for (const [tool, input] of [
      ["Bash", { command: "git push origin main" }],
      ["Write", { file_path: "/workspace/a/b.txt" }],
      ["WebFetch", { url: "https://example.com/" }],
    ] as const) {
      expect(ruleMatches(defaultRuleFor(tool, input), tool, input)).toBe(true);
    }
  });

  it("summarizes a call in one line", () => {
    expect(summarize("Bash", { command: "ls\n  -la /" })).toBe("ls -la /");
    expect(summarize("Write", { file_path: "/workspace/a.txt", content: "x" })).toBe("/workspace/a.txt");
    expect(summarize("WebFetch", { url: "https://example.com" })).toBe("https://example.com");
    expect(summarize("Bash", { command: "x".repeat(400) })).toHaveLength(301);
    expect(summarize("mcp__a__b", { q: 1 })).toBe('{"q":1}');
  });
});

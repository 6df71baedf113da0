// Claude Code permission rules, matched by Armory itself: a tool call that a remembered rule
// ("Always allow" for the conversation or the agent) covers is answered at once, without asking
// anyone. The rule forms are Claude Code's:
//   Tool                      every call of the tool (mcp__server: every tool of that MCP server)
//   Bash(npm run test:*)      a command starting with the prefix (then a word boundary)
//   Bash(git status)          exactly that command; `*` in it matches any characters
//   Edit(/workspace/src/**)   a file tool's file_path against a glob (Edit also covers Write,
//                             MultiEdit and NotebookEdit; Read covers Read); relative globs are
//                             taken relative to /workspace
//   WebFetch(domain:host)     a URL on that host (`*.example.com` for subdomains)
//   mcp__server__tool         that MCP tool
import path from "node:path";
import picomatch from "picomatch";
import { PERMISSION_RULE } from "../../contracts/approvals";
import { WORKSPACE_DIR } from "../../contracts/armoryd";

export interface ParsedRule {
  tool: string;
  /** What is inside the parentheses; null for a bare tool name. */
  specifier: string | null;
}

export function parseRule(rule: string): ParsedRule | null {
  const r = rule.trim();
  if (!PERMISSION_RULE.test(r)) return null;
  const open = r.indexOf("(");
  if (open < 0) return { tool: r, specifier: null };
  return { tool: r.slice(0, open), specifier: r.slice(open + 1, -1) };
}

export function formatRule(tool: string, specifier: string | null): string {
  return specifier === null ? tool : `${tool}(${specifier})`;
}

/** Tools whose input names a file (and the input key that holds it). */
const FILE_KEYS: Record<string, string> = {
  Read: "file_path",
  Edit: "file_path",
  Write: "file_path",
  MultiEdit: "file_path",
  NotebookEdit: "notebook_path",
  NotebookRead: "notebook_path",
};
/** A rule for the first tool also covers calls of these (Claude Code's Edit rules cover every file edit). */
const RULE_FAMILY: Record<string, string[]> = {
  Edit: ["Edit", "Write", "MultiEdit", "NotebookEdit"],
  Read: ["Read", "NotebookRead"],
};

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function field(input: unknown, key: string): string | null {
  return input && typeof input === "object" && !Array.isArray(input) ? str((input as Record<string, unknown>)[key]) : null;
}

/** `*` matches any run of characters; everything else literally. */
function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*")}$`);
}

export function bashMatches(specifier: string, command: string): boolean {
  const cmd = command.trim();
  if (specifier.endsWith(":*")) {
    const prefix = specifier.slice(0, -2).trim();
    if (!prefix) return true;
    // A prefix ending inside a word would let `git:*` allow `gitx`: the next character must end the word.
    return cmd === prefix || (cmd.startsWith(prefix) && /^[\s;&|]/.test(cmd.slice(prefix.length)));
  }
  if (specifier.includes("*")) return wildcard(specifier).test(cmd);
  return cmd === specifier.trim();
}

/** A file path as rules see it: absolute and normalized (relative ones are under /workspace). */
export function absolutePath(p: string): string {
  return path.posix.resolve(WORKSPACE_DIR, p);
}

function globFor(specifier: string): string {
  // Claude Code writes absolute paths as //abs/path; a single leading slash is absolute here too.
  const g = specifier.startsWith("//") ? specifier.slice(1) : specifier;
  return g.startsWith("/") ? g : path.posix.join(WORKSPACE_DIR, g);
}

export function pathMatches(specifier: string, filePath: string): boolean {
  const glob = globFor(specifier);
  const abs = absolutePath(filePath);
  if (picomatch.isMatch(abs, glob, { dot: true })) return true;
  // `dir/**` also covers the directory's own path.
  return glob.endsWith("/**") && abs === glob.slice(0, -3);
}

export function domainMatches(specifier: string, url: string): boolean {
  if (!specifier.startsWith("domain:")) return false;
  const want = specifier.slice("domain:".length).trim().toLowerCase();
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (want.startsWith("*.")) return host.endsWith(want.slice(1));
  return host === want;
}

/** Does `rule` cover this call of `toolName` with `input`? Unparseable rules match nothing. */
export function ruleMatches(rule: string, toolName: string, input: unknown): boolean {
  const parsed = parseRule(rule);
  if (!parsed) return false;
  const { tool, specifier } = parsed;
  if (tool.startsWith("mcp__")) {
    // mcp__server covers mcp__server__anything; mcp__server__tool only itself.
    if (specifier !== null) return false;
    return toolName === tool || (tool.split("__").length === 2 && toolName.startsWith(`${tool}__`));
  }
  const family = RULE_FAMILY[tool] ?? [tool];
  if (!family.includes(toolName)) return false;
  if (specifier === null) return true;
  if (toolName === "Bash") {
    const command = field(input, "command");
    return command !== null && bashMatches(specifier, command);
  }
  const key = FILE_KEYS[toolName];
  if (key) {
    const file = field(input, key);
    return file !== null && pathMatches(specifier, file);
  }
  if (toolName === "WebFetch") {
    const url = field(input, "url");
    return url !== null && domainMatches(specifier, url);
  }
  // Any other tool with a specifier: the specifier must equal one of its string inputs (e.g. WebSearch(query)).
  if (input && typeof input === "object") return Object.values(input as Record<string, unknown>).some((v) => v === specifier);
  return false;
}

/** The first of `rules` that covers the call, or null. */
export function firstMatch(rules: readonly string[], toolName: string, input: unknown): string | null {
  return rules.find((r) => ruleMatches(r, toolName, input)) ?? null;
}

/**
 * The rule "Always allow" adds when Claude Code suggested none: `Bash(<first word>:*)` for a
 * command, `Edit(<dir>/**)` for a file edit, `WebFetch(domain:<host>)`, else the tool's name.
 */
export function defaultRuleFor(toolName: string, input: unknown): string {
  if (toolName === "Bash") {
    const first = (field(input, "command") ?? "").trim().split(/\s+/)[0] ?? "";
    // A first word with characters a rule cannot hold (parentheses, newlines): the whole tool.
    return first && /^[^()\s]+$/.test(first) ? `Bash(${first}:*)` : "Bash";
  }
  const key = FILE_KEYS[toolName];
  if (key) {
    const file = field(input, key);
    if (file) {
      const dir = path.posix.dirname(absolutePath(file));
      const tool = RULE_FAMILY.Read!.includes(toolName) ? "Read" : "Edit";
      const rule = `${tool}(${dir === "/" ? "/**" : `${dir}/**`})`;
      if (PERMISSION_RULE.test(rule)) return rule;
    }
    return toolName;
  }
  if (toolName === "WebFetch") {
    const url = field(input, "url");
    try {
      if (url) return `WebFetch(domain:${new URL(url).hostname})`;
    } catch {
      // not a URL: the whole tool
    }
  }
  return toolName;
}

/** One line describing the call: the command, the file, the URL, else the input as JSON. */
export function summarize(toolName: string, input: unknown): string {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);
  const command = toolName === "Bash" ? field(input, "command") : null;
  if (command !== null) return cut(command.replace(/\s+/g, " ").trim());
  const key = FILE_KEYS[toolName];
  const file = key ? field(input, key) : null;
  if (file !== null) return cut(file);
  const url = field(input, "url");
  if (url !== null) return cut(url);
  const pattern = field(input, "pattern");
  if (pattern !== null) return cut(pattern);
  let json: string;
  try {
    json = JSON.stringify(input) ?? "";
  } catch {
    json = "";
  }
  return cut(json || toolName);
}

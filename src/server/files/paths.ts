// The path rules for agent files, in one place: every path a files procedure receives goes
// through normalizeAgentPath (syntax: absolute, no NUL, no `..`), then confineToRoots (the
// agent's allowed roots), and — once the container has resolved its symlinks — confineToRoots
// again on the resolved path. Pure functions: the router, the Docker layer and tests share them.
import picomatch from "picomatch";
import { DomainError } from "../domain/errors";

/** The agent's working directory: its project, including the project's CLAUDE.md. */
export const WORKSPACE_ROOT = "/workspace";
/**
 * Claude Code's user config directory: the user-level CLAUDE.md, settings.json, commands/ and
 * agents/. (Project-level instructions — /workspace/CLAUDE.md, /workspace/.claude/ — are inside
 * the workspace root.)
 */
export const CONFIG_ROOT = "/home/agent/.claude";
/** The roots files procedures may touch by default. */
export const DEFAULT_FILE_ROOTS: readonly string[] = [WORKSPACE_ROOT, CONFIG_ROOT];

export const MAX_PATH_LENGTH = 4096;
export const MAX_NAME_LENGTH = 255;

const badPath = (message: string) => new DomainError("BAD_REQUEST", message);

/**
 * Normalizes a path given by a client: must be a string, absolute, without NUL bytes, without
 * `..` segments (refused rather than resolved: `link/..` means something else in the container
 * than on paper), at most 4096 characters with names of at most 255 bytes. Duplicate slashes,
 * `.` segments and a trailing slash are removed. Throws a BAD_REQUEST DomainError.
 */
export function normalizeAgentPath(input: unknown): string {
  if (typeof input !== "string") throw badPath("path: must be a string.");
  if (input.length === 0) throw badPath("path: is empty.");
  if (input.includes("\0")) throw badPath("path: contains a NUL byte.");
  if (input.length > MAX_PATH_LENGTH) throw badPath(`path: is longer than ${MAX_PATH_LENGTH} characters.`);
  if (!input.startsWith("/")) throw badPath(`path: must be absolute (start with /), e.g. ${WORKSPACE_ROOT}/${input.replace(/^\.?\/*/, "")}.`);
  const parts: string[] = [];
  for (const seg of input.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") throw badPath("path: `..` is not allowed; give the path without it.");
    if (Buffer.byteLength(seg, "utf8") > MAX_NAME_LENGTH) throw badPath(`path: the name "${seg.slice(0, 40)}…" is longer than ${MAX_NAME_LENGTH} bytes.`);
    parts.push(seg);
  }
  return "/" + parts.join("/");
}

/** Whether a normalized path is one of the roots or inside one. */
export function isWithinRoots(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root === "/" ? "/" : `${root}/`));
}

/** Throws a FORBIDDEN DomainError unless the normalized path lies within the roots. */
export function confineToRoots(path: string, roots: readonly string[], what = "path"): void {
  if (!isWithinRoots(path, roots)) {
    throw new DomainError("FORBIDDEN", `${what} ${path} is outside the agent's files (allowed: ${roots.join(", ")}).`);
  }
}

/**
 * After the container resolved symlinks: `requested` must still lead inside the roots. The
 * message names both so a person sees where the link goes.
 */
export function confineResolved(requested: string, resolved: string, roots: readonly string[]): void {
  if (!isWithinRoots(resolved, roots)) {
    throw new DomainError(
      "FORBIDDEN",
      `${requested} leads to ${resolved} through a symbolic link, which is outside the agent's files (allowed: ${roots.join(", ")}).`,
    );
  }
}

/** normalizeAgentPath + confineToRoots: the syntactic check every files procedure starts with. */
export function checkAgentPath(input: unknown, roots: readonly string[] = DEFAULT_FILE_ROOTS): string {
  const path = normalizeAgentPath(input);
  confineToRoots(path, roots);
  return path;
}

/** The parent directory of a normalized absolute path ("/" for top-level names). */
export function parentOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Whether a normalized path matches any of the glob patterns (picomatch; `**` crosses
 * directories, dotfiles match). The trust layer's path-glob grants use this: a grant for
 * `/workspace/docs/**` matches /workspace/docs/a.md. A pattern naming a directory exactly also
 * covers everything below it.
 */
export function pathMatchesGlobs(path: string, globs: readonly string[]): boolean {
  if (!globs.length) return false;
  const expanded = globs.flatMap((g) => (/[*?[\]{}()!]/.test(g) ? [g] : [g, `${g.replace(/\/+$/, "")}/**`]));
  return picomatch(expanded, { dot: true })(path);
}

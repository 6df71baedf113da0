// The one path check of every files procedure: `filePathGuard(access)` is called once per
// procedure (router), and the service runs the guard on the requested path and again on the
// path symlinks resolve to. It enforces the path rules and the agent's roots; the routers then
// ask the trust layer (authorizeAgentPath) whether a grant's path globs cover the path.
import type { AgentAccess } from "../api/middleware/agent-access";
import { checkAgentPath, DEFAULT_FILE_ROOTS } from "./paths";
import type { PathGuard } from "./service";

export type FileAccessMode = "read" | "write";

/** The guard for one call: throws a 4xx DomainError for a path the caller may not touch. */
export function filePathGuard(access: AgentAccess, roots: readonly string[] = DEFAULT_FILE_ROOTS): PathGuard {
  void access; // the permission (file_read / file_write) was checked by agentProcedure
  return (path: string) => checkAgentPath(path, roots);
}

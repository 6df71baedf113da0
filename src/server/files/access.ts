// The one path check of every files procedure: `filePathGuard(ctx, permission)` is made once per
// procedure (router), and the service runs it on the requested path and again on the path
// symlinks resolve to. Each run enforces the path rules and the agent's roots, then asks the
// trust layer whether the caller may touch that path (a grant's path globs; audited). So a link
// inside a granted directory cannot lead a grant holder to a file outside its globs.
import { authorizeAgentPath, type AgentAccessContext } from "../api/middleware/agent-access";
import { checkAgentPath, DEFAULT_FILE_ROOTS } from "./paths";
import type { PathGuard } from "./service";

export type FileAccessMode = "file_read" | "file_write";

/** The guard for one call: resolves to the normalized path, or throws a 4xx DomainError (403 audited). */
export function filePathGuard(ctx: AgentAccessContext, permission: FileAccessMode, roots: readonly string[] = DEFAULT_FILE_ROOTS): PathGuard {
  return (path: string) => authorizeAgentPath(ctx, permission, checkAgentPath(path, roots));
}

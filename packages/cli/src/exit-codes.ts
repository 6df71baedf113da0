// What `armory` exits with. Scripts can rely on these.
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Anything else that went wrong (a server error, a failed turn, a refused request). */
  error: 1,
  /** Bad command line: unknown command or option, missing argument, not logged in. */
  usage: 2,
  /** The project, agent, file, approval or session named does not exist (or is not visible to the token). */
  notFound: 3,
  /** Authentication failed: the token is wrong, revoked or expired. */
  auth: 4,
  /** The token is valid but not allowed to do this (role, agent permission, scope or project limit). */
  forbidden: 5,
  /** The request conflicts with the current state (e.g. a name already taken, a file changed meanwhile). */
  conflict: 6,
  /** Armory could not be reached (connection refused, DNS, timeout). */
  unreachable: 7,
  /** Interrupted with Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code = "ERROR",
  ) {
    super(message);
  }
}

// Access changes: whenever something narrows what a caller may do (a member removed or demoted,
// a token revoked, a user disabled, a grant deleted or changed), the code that changed it
// publishes one event here, after its transaction committed. Open subscriptions listen and
// re-check their caller's permission (stream-guard), so a stream never outlives the permission
// it was opened with. In-process: one Armory process (several processes would relay these
// through PostgreSQL LISTEN/NOTIFY).

export type AccessChange =
  /** A user's account changed (disabled, sessions revoked): every stream of theirs re-checks. */
  | { kind: "user"; userId: string }
  /** A machine token was revoked, rotated or deleted. */
  | { kind: "token"; tokenId: string; userId: string }
  /** A member of a project was removed or their role changed. */
  | { kind: "member"; projectId: string; userId: string }
  /** A trust grant of a project was created, changed or deleted (any caller of the project may be affected). */
  | { kind: "grant"; projectId: string };

type Listener = (change: AccessChange) => void;

const listeners = new Set<Listener>();

/** Tells every open stream that some access changed. Never throws. */
export function publishAccessChange(change: AccessChange): void {
  for (const l of [...listeners]) {
    try {
      l(change);
    } catch {
      // one failing listener must not keep the change from the others
    }
  }
}

/** Calls `listener` for every access change; returns the function that stops it. */
export function onAccessChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** True when `change` may concern a caller (user, optional token) looking at `projectId`. */
export function concerns(change: AccessChange, caller: { userId: string; tokenId: string | null; projectId: string | null }): boolean {
  switch (change.kind) {
    case "user":
      return change.userId === caller.userId;
    case "token":
      return change.tokenId === caller.tokenId;
    case "member":
      return change.userId === caller.userId && (caller.projectId === null || change.projectId === caller.projectId);
    case "grant":
      return caller.projectId === null || change.projectId === caller.projectId;
  }
}

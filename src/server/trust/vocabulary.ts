// Names shared by the trust server code and the browser (no Node imports here).
export const TOKEN_SCOPES = ["read", "write"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const TRUST_CALLER_TYPES = ["user", "token", "role"] as const;
export type TrustCallerType = (typeof TRUST_CALLER_TYPES)[number];
export const TRUST_TARGET_TYPES = ["agent", "agent_glob", "project"] as const;
export type TrustTargetType = (typeof TRUST_TARGET_TYPES)[number];

/**
 * The permission booleans of a grant (file access is given by its path globs): SPEC D4's ten, and
 * exec (a terminal in the container, and deciding the agent's tool approvals).
 */
export const GRANT_FLAGS = ["inspect", "start", "stop", "restart", "remove", "chat", "logs", "stats", "update_env", "update_image", "exec"] as const;
export type GrantFlag = (typeof GRANT_FLAGS)[number];

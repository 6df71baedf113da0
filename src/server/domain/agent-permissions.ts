// What can be done to an agent, and which project role may do it when no trust grant says
// otherwise. Agent-targeted procedures name one of these; the agent-access middleware decides.
import { roleAtLeast, type ProjectRole } from "./roles";

/**
 * SPEC D4's ten permissions, file access (which trust grants narrow with path globs), and exec (a
 * terminal in the container, and deciding the agent's tool approvals; by role or a grant's exec flag).
 */
export const AGENT_PERMISSIONS = [
  "inspect",
  "start",
  "stop",
  "restart",
  "remove",
  "chat",
  "logs",
  "stats",
  "update_env",
  "update_image",
  "file_read",
  "file_write",
  "exec",
] as const;
export type AgentPermission = (typeof AGENT_PERMISSIONS)[number];

/** The weakest project role that has each permission by default (the README's role table). */
export const DEFAULT_ROLE_FOR: Record<AgentPermission, ProjectRole> = {
  inspect: "viewer",
  logs: "viewer",
  stats: "viewer",
  file_read: "viewer",
  start: "operator",
  stop: "operator",
  restart: "operator",
  chat: "operator",
  file_write: "operator",
  // A shell in the container (the Terminal tab), and allowing or denying the agent's tool calls
  // (approvals): no more than an operator's chat turns can do.
  exec: "operator",
  remove: "admin",
  update_env: "admin",
  update_image: "admin",
};

export function roleAllows(role: ProjectRole, permission: AgentPermission): boolean {
  return roleAtLeast(role, DEFAULT_ROLE_FOR[permission]);
}

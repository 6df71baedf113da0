// Project roles, strongest first. What each may do is written down in the README.
export const PROJECT_ROLES = ["owner", "admin", "operator", "viewer"] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

const RANK: Record<ProjectRole, number> = { owner: 4, admin: 3, operator: 2, viewer: 1 };

export function roleAtLeast(role: ProjectRole, min: ProjectRole): boolean {
  return RANK[role] >= RANK[min];
}

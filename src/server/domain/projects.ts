// Project logic shared by the API, the UI's server components and tests. Plain async functions
// over Prisma; authorization has already happened in the procedure's middleware.
import type { PrismaClient } from "../db";
import { publishAccessChange } from "../trust/access-events";
import { forbidden, notFound } from "./errors";
import { roleAtLeast, type ProjectRole } from "./roles";

export interface ProjectSummary {
  id: string;
  name: string;
  description: string;
  role: ProjectRole;
  memberCount: number;
  createdAt: Date;
  updatedAt: Date;
}

type ProjectRow = {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  _count: { members: number };
};

function summarize(p: ProjectRow, role: ProjectRole): ProjectSummary {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    role,
    memberCount: p._count.members,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

const projectSelect = {
  id: true,
  name: true,
  description: true,
  createdAt: true,
  updatedAt: true,
  _count: { select: { members: true } },
} as const;

export async function listProjects(prisma: PrismaClient, userId: string): Promise<ProjectSummary[]> {
  const memberships = await prisma.projectMember.findMany({
    where: { userId },
    select: { role: true, project: { select: projectSelect } },
    orderBy: { project: { createdAt: "desc" } },
  });
  return memberships.map((m) => summarize(m.project, m.role));
}

/**
 * The caller's role in a project. Unknown project: NOT_FOUND; not a member: FORBIDDEN;
 * a weaker role than needed: FORBIDDEN naming the role required.
 */
export async function requireProjectRole(
  prisma: PrismaClient,
  projectId: string,
  userId: string,
  minRole: ProjectRole,
): Promise<ProjectRole> {
  const project = await prisma.project.findUnique({
    where: { id: projectId },
    select: { members: { where: { userId }, select: { role: true } } },
  });
  if (!project) throw notFound("Project");
  const role = project.members[0]?.role;
  if (!role) throw forbidden("You are not a member of this project.");
  if (!roleAtLeast(role, minRole)) {
    throw forbidden(`This needs the ${minRole} role or higher in this project; you are ${role}.`);
  }
  return role;
}

export async function getProject(prisma: PrismaClient, projectId: string, role: ProjectRole): Promise<ProjectSummary> {
  const p = await prisma.project.findUnique({ where: { id: projectId }, select: projectSelect });
  if (!p) throw notFound("Project");
  return summarize(p, role);
}

export async function createProject(
  prisma: PrismaClient,
  userId: string,
  input: { name: string; description?: string },
): Promise<ProjectSummary> {
  const p = await prisma.project.create({
    data: {
      name: input.name,
      description: input.description ?? "",
      createdById: userId,
      members: { create: { userId, role: "owner" } },
    },
    select: projectSelect,
  });
  return summarize(p, "owner");
}

export async function updateProject(
  prisma: PrismaClient,
  projectId: string,
  role: ProjectRole,
  input: { name?: string; description?: string },
): Promise<ProjectSummary> {
  const p = await prisma.project.update({
    where: { id: projectId },
    data: { name: input.name, description: input.description },
    select: projectSelect,
  });
  return summarize(p, role);
}

export async function deleteProject(prisma: PrismaClient, projectId: string): Promise<void> {
  const members = await prisma.projectMember.findMany({ where: { projectId }, select: { userId: true } });
  await prisma.project.delete({ where: { id: projectId } });
  // Every member lost the project: their open streams of it end.
  for (const m of members) publishAccessChange({ kind: "member", projectId, userId: m.userId });
}

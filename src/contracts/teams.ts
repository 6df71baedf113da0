// Teams: a set of a project's agents and a router that picks one of them for each message
// (keyword rules, a model choosing from the members' descriptions, or keyword first then the
// model). Shared by the API (team.*), the teams service (src/server/teams/) and the UI.
import { z } from "zod";

export const TEAM_ROUTERS = ["keyword", "llm", "hybrid"] as const;
export type TeamRouterKind = (typeof TEAM_ROUTERS)[number];
export const TEAM_ROUTE_METHODS = ["keyword", "llm", "fallback"] as const;
export type TeamRouteMethod = (typeof TEAM_ROUTE_METHODS)[number];
export const TEAM_SOURCES = ["ui", "yaml"] as const;

/** The model the llm and hybrid routers ask when a team names none (a small, cheap Claude model). */
export const DEFAULT_TEAM_MODEL = "claude-haiku-4-5";

export const TEAM_LIMITS = {
  name: 100,
  description: 2000,
  memberDescription: 1000,
  members: 50,
  keywords: 50,
  keyword: 200,
  model: 200,
  /** A team message: the same bound as a chat message. */
  message: 100_000,
  reason: 1000,
  yaml: 256 * 1024,
} as const;

/** A keyword rule: a word or phrase (matched case-insensitively on word boundaries) or /regex/flags. */
export const keywordRule = z
  .string()
  .trim()
  .min(1, "A keyword rule cannot be empty")
  .max(TEAM_LIMITS.keyword, `Keyword rules are at most ${TEAM_LIMITS.keyword} characters`);

const REGEX_RULE = /^\/(.+)\/([a-z]*)$/s;

/** The RegExp a rule stands for, or an error message (an invalid /regex/ or flags). */
export function compileRule(rule: string): { re: RegExp; regex: boolean } | { error: string } {
  const m = REGEX_RULE.exec(rule);
  if (m) {
    const flags = m[2]!;
    if (!/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) return { error: `the rule ${rule} has flags other than i, m, s, u` };
    try {
      return { re: new RegExp(m[1]!, flags.includes("u") ? flags : `${flags}u`), regex: true };
    } catch (err) {
      return { error: `the rule ${rule} is not a valid regular expression (${(err as Error).message})` };
    }
  }
  const escaped = rule.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+");
  // Word boundaries that know letters beyond ASCII: no letter, digit or underscore on either side.
  return { re: new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "iu"), regex: false };
}

export const teamMemberInput = z.object({
  agentId: z.uuid({ error: "agentId must be an agent id (a UUID)" }),
  description: z.string().trim().max(TEAM_LIMITS.memberDescription, `Member descriptions are at most ${TEAM_LIMITS.memberDescription} characters`).default(""),
  keywords: z
    .array(keywordRule)
    .max(TEAM_LIMITS.keywords, `At most ${TEAM_LIMITS.keywords} keyword rules per member`)
    .default([])
    .superRefine((rules, ctx) => {
      for (const r of rules) {
        const c = compileRule(r);
        if ("error" in c) ctx.addIssue({ code: "custom", message: c.error });
      }
    }),
});
export type TeamMemberInput = z.input<typeof teamMemberInput>;

export const teamFields = {
  name: z.string({ error: "A team needs a name" }).trim().min(1, "A team needs a name").max(TEAM_LIMITS.name, `Team names are at most ${TEAM_LIMITS.name} characters`),
  description: z.string().trim().max(TEAM_LIMITS.description, `Team descriptions are at most ${TEAM_LIMITS.description} characters`),
  router: z.enum(TEAM_ROUTERS, { error: `router must be one of ${TEAM_ROUTERS.join(", ")}` }),
  model: z.string().trim().min(1, "model cannot be empty").max(TEAM_LIMITS.model, `model is at most ${TEAM_LIMITS.model} characters`),
  fallbackAgentId: z.uuid({ error: "fallbackAgentId must be an agent id (a UUID)" }).nullable(),
  members: z
    .array(teamMemberInput)
    .min(1, "A team needs at least one member")
    .max(TEAM_LIMITS.members, `A team has at most ${TEAM_LIMITS.members} members`),
};

export const teamCreateInput = z.object({
  name: teamFields.name,
  description: teamFields.description.default(""),
  router: teamFields.router.default("keyword"),
  model: teamFields.model.default(DEFAULT_TEAM_MODEL),
  fallbackAgentId: teamFields.fallbackAgentId.default(null),
  members: teamFields.members,
});
export type TeamCreateInput = z.input<typeof teamCreateInput>;
export type TeamCreate = z.output<typeof teamCreateInput>;

export const teamPatchInput = z.object({
  name: teamFields.name.optional(),
  description: teamFields.description.optional(),
  router: teamFields.router.optional(),
  model: teamFields.model.optional(),
  fallbackAgentId: teamFields.fallbackAgentId.optional(),
  members: teamFields.members.optional(),
});
export type TeamPatch = z.output<typeof teamPatchInput>;

export const teamMemberView = z.object({
  agentId: z.string(),
  agentName: z.string(),
  description: z.string(),
  keywords: z.array(z.string()),
  order: z.number().int(),
});

export const teamView = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  description: z.string(),
  router: z.enum(TEAM_ROUTERS),
  model: z.string(),
  fallbackAgentId: z.string().nullable(),
  fallbackAgentName: z.string().nullable(),
  source: z.enum(TEAM_SOURCES),
  createdAt: z.date(),
  updatedAt: z.date(),
  members: z.array(teamMemberView),
});
export type TeamView = z.infer<typeof teamView>;

/** Why a message went to an agent. */
export const routeDecision = z.object({
  agentId: z.string(),
  agentName: z.string(),
  method: z.enum(TEAM_ROUTE_METHODS),
  reason: z.string(),
});
export type RouteDecision = z.infer<typeof routeDecision>;

export const teamMessageView = z.object({
  id: z.string(),
  teamId: z.string(),
  message: z.string(),
  agentId: z.string(),
  /** null when the agent has since been removed. */
  agentName: z.string().nullable(),
  method: z.enum(TEAM_ROUTE_METHODS),
  reason: z.string(),
  sessionId: z.string(),
  runId: z.string(),
  createdById: z.string().nullable(),
  createdAt: z.date(),
});
export type TeamMessageView = z.infer<typeof teamMessageView>;

// Teams: a set of a project's agents and a router that picks one per message.
// - keyword: each member's rules (words/phrases on word boundaries, or /regex/) are matched
//   against the message; the member with the most matching rules wins, ties go to the earlier
//   member; nothing matched: the fallback agent, or a 422 when the team has none.
// - llm: a model (through the gateway's own Messages API call, ModelGateway.complete) reads the
//   members' names and descriptions and the message and answers {"agent", "reason"}; an answer
//   that is not JSON or names no member sends the message to the fallback, saying so.
// - hybrid: keyword first; the model when no rule matched or several members tie.
// Sending goes through services.turns (the chat service, as the chat page does): a team keeps
// one chat session per member agent and sender, so a follow-up to the same agent continues it.
// Authorization (the caller needs `chat` on the chosen agent) is the API's, between route and deliver.
import fs from "node:fs/promises";
import path from "node:path";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db/generated/client";
import { DomainError, notFound } from "../domain/errors";
import type { Logger } from "../logger";
import type { AutomationTurns } from "../automation/turns";
import { ModelCallError, type ModelGateway } from "../gateway/gateway";
import type { TokenUsage } from "../gateway/pricing";
import {
  compileRule,
  TEAM_LIMITS,
  type RouteDecision,
  type TeamCreate,
  type TeamMessageView,
  type TeamPatch,
  type TeamRouterKind,
  type TeamView,
} from "../../contracts/teams";
import { parseTeamFile, type TeamFile } from "./yaml";

const teamInclude = {
  members: { orderBy: { order: "asc" }, include: { agent: { select: { id: true, name: true } } } },
  fallbackAgent: { select: { id: true, name: true } },
} satisfies Prisma.TeamInclude;
type TeamRow = Prisma.TeamGetPayload<{ include: typeof teamInclude }>;

/** The part of a team routing needs (a TeamView fits). */
export interface RoutableTeam {
  id: string;
  projectId: string;
  router: TeamRouterKind;
  model: string;
  fallbackAgentId: string | null;
  fallbackAgentName: string | null;
  members: { agentId: string; agentName: string; description: string; keywords: string[] }[];
}

/** A routing decision and, when a model was asked, what that call used (recorded on the chosen agent). */
export interface Routed extends RouteDecision {
  modelUsage: { model: string; usage: TokenUsage } | null;
}

/** How much of the message the router model reads. */
const ROUTER_MESSAGE_CHARS = 8_000;
const ROUTER_MAX_TOKENS = 300;
const ROUTER_TIMEOUT_MS = 30_000;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function view(row: TeamRow): TeamView {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    description: row.description,
    router: row.router,
    model: row.model,
    fallbackAgentId: row.fallbackAgentId,
    fallbackAgentName: row.fallbackAgent?.name ?? null,
    source: row.source,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    members: row.members.map((m) => ({ agentId: m.agentId, agentName: m.agent.name, description: m.description, keywords: m.keywords, order: m.order })),
  };
}

/** Scores each member by its matching rules; the best (ties: the earlier member) and how it matched. */
export function keywordMatches(team: Pick<RoutableTeam, "members">, message: string) {
  const scored = team.members.map((m, index) => {
    const matched: string[] = [];
    for (const rule of m.keywords) {
      const c = compileRule(rule);
      if ("re" in c && c.re.test(message)) matched.push(c.regex ? `rule ${rule}` : `keyword '${rule}'`);
    }
    return { member: m, index, matched };
  });
  const hits = scored.filter((s) => s.matched.length > 0).sort((a, b) => b.matched.length - a.matched.length || a.index - b.index);
  const top = hits[0]?.matched.length ?? 0;
  return { hits, tied: hits.filter((h) => h.matched.length === top) };
}

function keywordReason(matched: string[], tiedWith: string[] = []): string {
  const what = matched.length === 1 ? `matched ${matched[0]}` : `matched ${matched.length} rules: ${matched.join(", ")}`;
  return tiedWith.length ? `${what} (tied with ${tiedWith.join(", ")}; the earlier member wins)` : what;
}

/** The model's answer as {agent, reason}, or why it is unusable. */
export function parseRouterAnswer(text: string, candidates: { agentId: string; agentName: string }[]) {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  let json: unknown;
  try {
    if (start < 0 || end < start) throw new Error("no JSON object");
    json = JSON.parse(text.slice(start, end + 1));
  } catch {
    return { error: `the router model's answer was not JSON: "${clip(text.trim().replace(/\s+/g, " "), 120)}"` };
  }
  const { agent, reason } = (json ?? {}) as { agent?: unknown; reason?: unknown };
  if (typeof agent !== "string" || !agent.trim()) return { error: "the router model's answer named no agent" };
  const chosen = candidates.find((c) => c.agentName.toLowerCase() === agent.trim().toLowerCase());
  if (!chosen) return { error: `the router model chose "${clip(agent, 100)}", which is not ${candidates.length > 1 ? "one of the candidates" : "the candidate"} (${candidates.map((c) => c.agentName).join(", ")})` };
  return { agentId: chosen.agentId, agentName: chosen.agentName, reason: typeof reason === "string" && reason.trim() ? clip(reason.trim(), TEAM_LIMITS.reason) : "the router model gave no reason" };
}

export interface TeamServiceOptions {
  prisma: PrismaClient;
  gateway: Pick<ModelGateway, "complete" | "budgets">;
  turns: Pick<AutomationTurns, "send">;
  log: Logger;
}

export class TeamService {
  constructor(private readonly opts: TeamServiceOptions) {}

  private get prisma() {
    return this.opts.prisma;
  }

  async list(projectId: string): Promise<TeamView[]> {
    const rows = await this.prisma.team.findMany({ where: { projectId }, include: teamInclude, orderBy: { name: "asc" } });
    return rows.map(view);
  }

  async get(projectId: string, teamId: string): Promise<TeamView> {
    const row = await this.prisma.team.findFirst({ where: { id: teamId, projectId }, include: teamInclude });
    if (!row) throw notFound("Team");
    return view(row);
  }

  /** Members and fallback must be agents of the project; each agent once. */
  private async checkAgents(projectId: string, members: { agentId: string }[], fallbackAgentId: string | null): Promise<void> {
    const ids = members.map((m) => m.agentId);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new DomainError("BAD_REQUEST", "members: an agent is in the team twice.");
    const wanted = [...new Set([...ids, ...(fallbackAgentId ? [fallbackAgentId] : [])])];
    const found = await this.prisma.agent.findMany({ where: { id: { in: wanted }, projectId }, select: { id: true } });
    const missing = wanted.filter((id) => !found.some((a) => a.id === id));
    if (missing.length) throw new DomainError("BAD_REQUEST", `No agent ${missing.join(", ")} in this project.`);
  }

  private async nameFree(projectId: string, name: string, except?: string) {
    const other = await this.prisma.team.findFirst({ where: { projectId, name, ...(except ? { id: { not: except } } : {}) }, select: { id: true } });
    if (other) throw new DomainError("CONFLICT", `A team named ${name} already exists in this project.`);
  }

  async create(projectId: string, input: TeamCreate, source: "ui" | "yaml" = "ui"): Promise<TeamView> {
    await this.checkAgents(projectId, input.members, input.fallbackAgentId);
    await this.nameFree(projectId, input.name);
    const row = await this.prisma.team.create({
      data: {
        projectId,
        name: input.name,
        description: input.description,
        router: input.router,
        model: input.model,
        fallbackAgentId: input.fallbackAgentId,
        source,
        members: { create: input.members.map((m, order) => ({ agentId: m.agentId, description: m.description, keywords: m.keywords, order })) },
      },
      include: teamInclude,
    });
    return view(row);
  }

  async update(projectId: string, teamId: string, patch: TeamPatch): Promise<TeamView> {
    const current = await this.get(projectId, teamId);
    const members = patch.members ?? current.members;
    const fallbackAgentId = patch.fallbackAgentId !== undefined ? patch.fallbackAgentId : current.fallbackAgentId;
    await this.checkAgents(projectId, members, fallbackAgentId);
    if (patch.name && patch.name !== current.name) await this.nameFree(projectId, patch.name, teamId);
    const row = await this.prisma.$transaction(async (tx) => {
      if (patch.members) await tx.teamMember.deleteMany({ where: { teamId } });
      return tx.team.update({
        where: { id: teamId },
        data: {
          name: patch.name,
          description: patch.description,
          router: patch.router,
          model: patch.model,
          fallbackAgentId,
          ...(patch.members
            ? { members: { create: patch.members.map((m, order) => ({ agentId: m.agentId, description: m.description, keywords: m.keywords, order })) } }
            : {}),
        },
        include: teamInclude,
      });
    });
    return view(row);
  }

  async remove(projectId: string, teamId: string): Promise<void> {
    const { count } = await this.prisma.team.deleteMany({ where: { id: teamId, projectId } });
    if (!count) throw notFound("Team");
  }

  // ------------------------------------------------------------------ routing

  /** Which member gets `message`, and why. Throws 422 when nobody does and there is no fallback. */
  async route(team: RoutableTeam, message: string): Promise<Routed> {
    if (!team.members.length) throw new DomainError("UNPROCESSABLE_CONTENT", "The team has no members.");
    if (team.router !== "llm") {
      const { hits, tied } = keywordMatches(team, message);
      if (hits.length && (team.router === "keyword" || tied.length === 1)) {
        const best = hits[0]!;
        const tiedWith = tied.slice(1).map((t) => t.member.agentName);
        return { agentId: best.member.agentId, agentName: best.member.agentName, method: "keyword", reason: keywordReason(best.matched, tiedWith), modelUsage: null };
      }
      if (team.router === "keyword") return this.fallback(team, "no keyword rule matched");
      // hybrid: the model decides, among the tied members when several matched.
      if (tied.length > 1) {
        const names = tied.map((t) => t.member.agentName).join(", ");
        return this.askModel(team, message, tied.map((t) => t.member), `keyword rules tied between ${names}`);
      }
      return this.askModel(team, message, team.members, "no keyword rule matched");
    }
    return this.askModel(team, message, team.members, null);
  }

  private fallback(team: RoutableTeam, why: string, modelUsage: Routed["modelUsage"] = null): Routed {
    if (!team.fallbackAgentId || !team.fallbackAgentName) {
      throw new DomainError("UNPROCESSABLE_CONTENT", `No agent matched and the team has no fallback (${why}).`);
    }
    return { agentId: team.fallbackAgentId, agentName: team.fallbackAgentName, method: "fallback", reason: clip(`${why}: sent to the fallback agent`, TEAM_LIMITS.reason), modelUsage };
  }

  private async askModel(team: RoutableTeam, message: string, candidates: RoutableTeam["members"], before: string | null): Promise<Routed> {
    const prefix = before ? `${before}; ` : "";
    const roster = candidates.map((m) => `- ${m.agentName}: ${m.description || "(no description)"}`).join("\n");
    const system =
      "You route a message to the one team member best suited to handle it. Read the members and the message, " +
      'then answer with only a JSON object, no other text: {"agent": "<the member\'s name exactly as listed>", "reason": "<one short sentence>"}.';
    const user = `Team members:\n${roster}\n\nMessage:\n<<<\n${clip(message, ROUTER_MESSAGE_CHARS)}\n>>>`;
    let answer: Awaited<ReturnType<ModelGateway["complete"]>>;
    try {
      answer = await this.opts.gateway.complete(
        { model: team.model, system, messages: [{ role: "user", content: user }], maxTokens: ROUTER_MAX_TOKENS },
        { timeoutMs: ROUTER_TIMEOUT_MS, maxResponseBytes: 256 * 1024 },
      );
    } catch (err) {
      if (!(err instanceof ModelCallError)) throw err;
      this.opts.log.warn({ teamId: team.id, err: err.message }, "team router model call failed");
      return this.fallback(team, `${prefix}the router model could not be asked: ${err.message}`);
    }
    const modelUsage = answer.demo ? null : { model: team.model, usage: answer.usage };
    const parsed = parseRouterAnswer(answer.text, candidates);
    if ("error" in parsed) return this.fallback(team, `${prefix}${parsed.error}`, modelUsage);
    return { agentId: parsed.agentId, agentName: parsed.agentName, method: "llm", reason: clip(`${prefix ? `${before}; the model chose: ` : ""}${parsed.reason}`, TEAM_LIMITS.reason), modelUsage };
  }

  /**
   * Sends the routed message to its agent (continuing this sender's session with that agent in
   * this team) and records it. Call after the caller's `chat` permission on the agent was checked.
   */
  async deliver(team: { id: string; projectId: string }, routed: Routed, message: string, userId: string | null): Promise<TeamMessageView> {
    if (routed.modelUsage) {
      // The routing call's tokens count as the chosen agent's usage (they served its message).
      await this.opts.gateway.budgets.record(routed.agentId, routed.modelUsage.model, routed.modelUsage.usage).catch((err: unknown) => {
        this.opts.log.warn({ err: (err as Error).message, teamId: team.id }, "could not record the team router's usage");
      });
    }
    const previous = await this.prisma.teamMessage.findFirst({
      where: { teamId: team.id, agentId: routed.agentId, createdById: userId },
      orderBy: { createdAt: "desc" },
      select: { sessionId: true },
    });
    const sent = await this.opts.turns.send({ projectId: team.projectId, agentId: routed.agentId, sessionId: previous?.sessionId, message, userId });
    const row = await this.prisma.teamMessage.create({
      data: { teamId: team.id, message, agentId: routed.agentId, method: routed.method, reason: routed.reason, sessionId: sent.sessionId, runId: sent.runId, createdById: userId },
    });
    return { ...row, agentName: routed.agentName };
  }

  /** The team's messages, newest first (`nextCursor` pages back). */
  async messages(projectId: string, teamId: string, cursor: string | null, limit: number): Promise<{ items: TeamMessageView[]; nextCursor: string | null }> {
    await this.get(projectId, teamId);
    const rows = await this.prisma.teamMessage.findMany({
      where: { teamId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit + 1,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    const page = rows.slice(0, limit);
    const agents = await this.prisma.agent.findMany({ where: { id: { in: [...new Set(page.map((r) => r.agentId))] } }, select: { id: true, name: true } });
    const names = new Map(agents.map((a) => [a.id, a.name]));
    return { items: page.map((r) => ({ ...r, agentName: names.get(r.agentId) ?? null })), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
  }

  // ------------------------------------------------------------------ YAML

  /** A team file's members and fallback, from agent names to the project's agent ids. */
  private async resolveFile(projectId: string, file: TeamFile): Promise<TeamCreate> {
    const names = [...file.members.map((m) => m.agent), ...(file.fallback ? [file.fallback] : [])];
    const agents = await this.prisma.agent.findMany({ where: { projectId, name: { in: names } }, select: { id: true, name: true } });
    const idOf = (name: string) => {
      const a = agents.find((x) => x.name === name);
      if (!a) throw new DomainError("BAD_REQUEST", `The project has no agent named ${name}.`);
      return a.id;
    };
    return {
      name: file.name,
      description: file.description,
      router: file.router,
      model: file.model,
      fallbackAgentId: file.fallback ? idOf(file.fallback) : null,
      members: file.members.map((m) => ({ agentId: idOf(m.agent), description: m.description, keywords: m.keywords })),
    };
  }

  /** Creates the file's team, or replaces the team of that name. */
  private async upsertFromFile(projectId: string, file: TeamFile): Promise<{ team: TeamView; created: boolean }> {
    const input = await this.resolveFile(projectId, file);
    const existing = await this.prisma.team.findFirst({ where: { projectId, name: input.name }, select: { id: true } });
    if (!existing) return { team: await this.create(projectId, input, "yaml"), created: true };
    const team = await this.update(projectId, existing.id, input);
    await this.prisma.team.update({ where: { id: existing.id }, data: { source: "yaml" } });
    return { team: { ...team, source: "yaml" }, created: false };
  }

  /** team.import: a pasted team file for this project (400 naming the line of an error). */
  async importYaml(projectId: string, text: string): Promise<TeamView> {
    const parsed = parseTeamFile(text);
    if (!parsed.ok) throw new DomainError("BAD_REQUEST", `The team file is not valid: ${parsed.message}`);
    if (parsed.team.project) {
      const project = await this.prisma.project.findUnique({ where: { id: projectId }, select: { id: true, name: true } });
      if (project && parsed.team.project !== project.id && parsed.team.project !== project.name) {
        throw new DomainError("BAD_REQUEST", `The team file names the project ${parsed.team.project}, not this one (${project.name}).`);
      }
    }
    return (await this.upsertFromFile(projectId, parsed.team)).team;
  }

  /** Loads `<dir>/*.yaml` at start: each names its project; invalid files are skipped with a warning. */
  async syncFiles(dir: string): Promise<{ created: string[]; updated: string[]; skipped: string[] }> {
    const result = { created: [] as string[], updated: [] as string[], skipped: [] as string[] };
    let names: string[];
    try {
      names = (await fs.readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.opts.log.warn({ dir, err: (err as Error).message }, "team files could not be read");
      return result;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      const skip = (why: string, level: "warn" | "info" = "warn") => {
        this.opts.log[level]({ file }, `Skipped team file ${name}: ${why}`);
        result.skipped.push(name);
      };
      try {
        const text = await fs.readFile(file, "utf8");
        const parsed = parseTeamFile(text);
        if (!parsed.ok) {
          skip(parsed.message);
          continue;
        }
        if (!parsed.team.project) {
          skip("it names no project (project: <name or id>)");
          continue;
        }
        const ref = parsed.team.project;
        const projects = await this.prisma.project.findMany({ where: { OR: [{ id: ref }, { name: ref }] }, select: { id: true } });
        if (projects.length !== 1) {
          // A project that does not exist yet is normal (the file is loaded again at the next start).
          if (projects.length) skip(`several projects are named ${ref}; name it by id`);
          else skip(`no project ${ref} (yet)`, "info");
          continue;
        }
        const { team, created } = await this.upsertFromFile(projects[0]!.id, parsed.team);
        (created ? result.created : result.updated).push(team.name);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        skip(err.message);
      }
    }
    if (result.created.length || result.updated.length) this.opts.log.info({ created: result.created, updated: result.updated }, "team files loaded");
    return result;
  }
}

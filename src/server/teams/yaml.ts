// Team files: `<templates dir>/teams/*.yaml` (loaded at every start) and pasted files
// (team.import). A file names its project (by name or id, optional for an import), the team's
// router, and its members by agent name. Errors say the line they are on.
//
//   name: triage
//   project: Demo
//   router: hybrid            # keyword | llm | hybrid
//   model: claude-haiku-4-5   # the model the llm/hybrid router asks
//   fallback: generalist      # an agent name; omitted: unmatched messages are refused
//   members:
//     - agent: reviewer
//       description: Reviews pull requests and diffs
//       keywords: [review, pull request, "/PR-\\d+/"]
import { LineCounter, parseDocument, isNode } from "yaml";
import { z } from "zod";
import { DEFAULT_TEAM_MODEL, TEAM_LIMITS, teamFields, teamMemberInput } from "../../contracts/teams";

const agentName = z.string({ error: "must be an agent name" }).trim().min(1, "must be an agent name").max(200, "is at most 200 characters");

const teamFileSchema = z.strictObject({
  name: teamFields.name,
  project: z.string().trim().min(1).max(200).optional(),
  description: teamFields.description.default(""),
  router: teamFields.router.default("keyword"),
  model: teamFields.model.default(DEFAULT_TEAM_MODEL),
  fallback: agentName.nullable().optional(),
  members: z
    .array(
      z.strictObject({
        agent: agentName,
        description: teamMemberInput.shape.description,
        keywords: teamMemberInput.shape.keywords,
      }),
      { error: "members must be a list of { agent, description, keywords }" },
    )
    .min(1, "A team needs at least one member")
    .max(TEAM_LIMITS.members, `A team has at most ${TEAM_LIMITS.members} members`),
});
export type TeamFile = z.output<typeof teamFileSchema>;

export type ParsedTeamFile = { ok: true; team: TeamFile } | { ok: false; message: string; line: number | null };

/** Parses one team file's text; throws nothing, answers the team or a message with its line. */
export function parseTeamFile(text: string): ParsedTeamFile {
  if (Buffer.byteLength(text) > TEAM_LIMITS.yaml) return { ok: false, message: `the file is larger than ${TEAM_LIMITS.yaml / 1024} KiB`, line: null };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? null;
    const what = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    return { ok: false, message: `line ${line ?? "?"}: not valid YAML: ${what}`, line };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, message: `not valid YAML: ${(err as Error).message}`, line: null };
  }
  if (data === null || data === undefined) return { ok: false, message: "the file is empty", line: null };
  const parsed = teamFileSchema.safeParse(data);
  if (parsed.success) return { ok: true, team: parsed.data };
  const issue = parsed.error.issues[0]!;
  // The deepest node of the issue's path that exists in the document says the line.
  let line: number | null = null;
  for (let n = issue.path.length; n >= 0 && line === null; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
  }
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  const message = issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : issue.message;
  return { ok: false, message: `line ${line ?? "?"}: ${where}${message}`, line };
}

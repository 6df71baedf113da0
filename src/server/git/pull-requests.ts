// Pull requests (GitHub) and merge requests (GitLab) for a session's branch: push the branch with
// the repository's credential, then ask the provider (src/server/git/providers, on the hosts the
// instance allows: ARMORY_GIT_PROVIDERS) to open one, and store its link on the session.
import type { PrismaClient } from "../db";
import { DomainError } from "../domain/errors";
import { detectProvider, openPullRequest, ProviderError, type GitProviderHost, type PullRequestView } from "./providers";
import type { GitService } from "./service";

export interface OpenPullRequestInput {
  projectId: string;
  agentId: string;
  sessionId: string;
  title?: string;
  body?: string;
  draft?: boolean;
}

/** The session's last answer from the agent (its summary), bounded. */
async function lastAnswer(prisma: PrismaClient, sessionId: string): Promise<string | null> {
  const ev = await prisma.chatEvent.findFirst({ where: { sessionId, type: "result" }, orderBy: { seq: "desc" }, select: { data: true } });
  const text = (ev?.data as { result?: unknown } | null)?.result;
  return typeof text === "string" && text.trim() ? text.trim().slice(0, 20_000) : null;
}

export async function openSessionPullRequest(
  deps: { prisma: PrismaClient; git: GitService; hosts: readonly GitProviderHost[] },
  input: OpenPullRequestInput,
): Promise<PullRequestView & { branch: string; base: string }> {
  const { repo, session, credential } = await deps.git.pullRequestContext(input);
  const provider = detectProvider(repo.url, deps.hosts);
  if (!provider) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      `${repo.url} is not on a git host Armory opens pull requests on (github.com, gitlab.com, or one added to ARMORY_GIT_PROVIDERS, e.g. gitlab=git.example.com=https://git.example.com/api/v4).`,
    );
  }
  if (!credential) throw new DomainError("PRECONDITION_FAILED", "The repository has no credential secret: a token is needed to open a pull request.");
  if (credential.kind !== "token") {
    throw new DomainError("PRECONDITION_FAILED", "The repository is reached over ssh with a deploy key, which cannot call the provider's API: use its https URL with a token to open pull requests.");
  }
  await deps.git.push(input);
  const title = input.title ?? session.title;
  const summary = await lastAnswer(deps.prisma, session.id);
  const body = input.body ?? [summary ?? "", `Opened by Armory from the session "${session.title}" (branch ${session.gitBranch}).`].filter(Boolean).join("\n\n");
  let pr: PullRequestView;
  try {
    pr = await openPullRequest({
      kind: provider.kind,
      apiUrl: provider.apiUrl,
      repository: provider.repository,
      token: credential.password,
      head: session.gitBranch!,
      base: session.gitBase!,
      title,
      body,
      draft: input.draft ?? false,
    });
  } catch (err) {
    if (err instanceof ProviderError) {
      const what = provider.kind === "gitlab" ? "GitLab" : "GitHub";
      throw new DomainError(err.status === 404 ? "NOT_FOUND" : "PRECONDITION_FAILED", `${what} refused the pull request: ${err.message}`);
    }
    throw err;
  }
  await deps.prisma.chatSession.update({ where: { id: session.id }, data: { pullRequestUrl: pr.url, pullRequestNumber: pr.number } });
  return { ...pr, branch: session.gitBranch!, base: session.gitBase! };
}

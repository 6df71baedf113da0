// GitHub's REST API (github.com and GitHub Enterprise Server, whose API lives under /api/v3):
// https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request
import { ProviderError } from "./errors";
import { providerMessage, providerRefusal, providerRequest } from "./http";
import type { ProviderCallOptions, PullRequestInput, PullRequestView } from "./types";

const NAME = "GitHub";

interface GithubPull {
  number: number;
  html_url: string;
  title: string;
  state: string;
  draft?: boolean;
  merged_at?: string | null;
}

function isPull(value: unknown): value is GithubPull {
  const v = value as Partial<GithubPull> | null;
  return !!v && typeof v.number === "number" && typeof v.html_url === "string" && typeof v.title === "string" && typeof v.state === "string";
}

function view(pull: GithubPull, created: boolean): PullRequestView {
  return {
    kind: "github",
    number: pull.number,
    url: pull.html_url,
    title: pull.title,
    state: pull.merged_at ? "merged" : pull.state === "closed" ? "closed" : "open",
    draft: pull.draft === true,
    created,
  };
}

function headers(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" };
}

function refusal(status: number, body: unknown, repository: string): ProviderError {
  return providerRefusal(NAME, status, body, {
    forbidden: "the token needs pull-request write access to the repository",
    notFound: `GitHub has no repository ${repository} that this token can see`,
  });
}

export async function openGithubPullRequest(input: PullRequestInput, opts: ProviderCallOptions = {}): Promise<PullRequestView> {
  const repoPath = input.repository.split("/").map(encodeURIComponent).join("/");
  const base = `${input.apiUrl.replace(/\/+$/, "")}/repos/${repoPath}/pulls`;
  const created = await providerRequest(
    NAME,
    "POST",
    base,
    headers(input.token),
    { title: input.title, head: input.head, base: input.base, body: input.body, draft: input.draft },
    opts,
  );
  if (created.status === 201 && isPull(created.body)) return view(created.body, true);
  // 422 "A pull request already exists for owner:branch": return that one.
  const said = providerMessage(created.body) ?? "";
  if (created.status === 422 && /already exists/i.test(said)) {
    const owner = input.repository.split("/")[0]!;
    const query = new URLSearchParams({ head: `${owner}:${input.head}`, base: input.base, state: "open" });
    const existing = await providerRequest(NAME, "GET", `${base}?${query}`, headers(input.token), undefined, opts);
    if (existing.status === 200 && Array.isArray(existing.body)) {
      const pull = existing.body.find(isPull);
      if (pull) return view(pull, false);
    }
  }
  if (created.status === 201) throw new ProviderError(502, "GitHub created the pull request but its answer could not be read");
  throw refusal(created.status, created.body, input.repository);
}

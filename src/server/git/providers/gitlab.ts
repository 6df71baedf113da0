// GitLab's REST API v4 (gitlab.com and self-managed):
// https://docs.gitlab.com/api/merge_requests/#create-mr
import { ProviderError } from "./errors";
import { providerRefusal, providerRequest } from "./http";
import type { ProviderCallOptions, PullRequestInput, PullRequestView } from "./types";

const NAME = "GitLab";

interface GitlabMergeRequest {
  iid: number;
  web_url: string;
  title: string;
  state: string;
  draft?: boolean;
  work_in_progress?: boolean;
}

function isMergeRequest(value: unknown): value is GitlabMergeRequest {
  const v = value as Partial<GitlabMergeRequest> | null;
  return !!v && typeof v.iid === "number" && typeof v.web_url === "string" && typeof v.title === "string" && typeof v.state === "string";
}

function view(mr: GitlabMergeRequest, created: boolean): PullRequestView {
  return {
    kind: "gitlab",
    number: mr.iid,
    url: mr.web_url,
    title: mr.title,
    state: mr.state === "merged" ? "merged" : mr.state === "opened" ? "open" : "closed",
    draft: mr.draft === true || mr.work_in_progress === true,
    created,
  };
}

function refusal(status: number, body: unknown, repository: string): ProviderError {
  return providerRefusal(NAME, status, body, {
    forbidden: "the token needs the api scope and Developer access to the project",
    notFound: `GitLab has no project ${repository} that this token can see`,
  });
}

export async function openGitlabMergeRequest(input: PullRequestInput, opts: ProviderCallOptions = {}): Promise<PullRequestView> {
  const base = `${input.apiUrl.replace(/\/+$/, "")}/projects/${encodeURIComponent(input.repository)}/merge_requests`;
  const headers = { "private-token": input.token };
  // `draft` is not a create parameter; GitLab marks a merge request draft by its title prefix.
  const title = input.draft && !/^(draft:|\[draft\]|\(draft\))/i.test(input.title) ? `Draft: ${input.title}` : input.title;
  const created = await providerRequest(
    NAME,
    "POST",
    base,
    headers,
    { source_branch: input.head, target_branch: input.base, title, description: input.body, remove_source_branch: false },
    opts,
  );
  if (created.status === 201 && isMergeRequest(created.body)) return view(created.body, true);
  // 409 "Another open merge request already exists for this source branch": return that one.
  if (created.status === 409) {
    const query = new URLSearchParams({ source_branch: input.head, target_branch: input.base, state: "opened" });
    const existing = await providerRequest(NAME, "GET", `${base}?${query}`, headers, undefined, opts);
    if (existing.status === 200 && Array.isArray(existing.body)) {
      const mr = existing.body.find(isMergeRequest);
      if (mr) return view(mr, false);
    }
  }
  if (created.status === 201) throw new ProviderError(502, "GitLab created the merge request but its answer could not be read");
  throw refusal(created.status, created.body, input.repository);
}

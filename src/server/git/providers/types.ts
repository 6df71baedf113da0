import type { GitProviderKind } from "./hosts";
import type { FetchLike } from "./http";

export interface PullRequestInput {
  kind: GitProviderKind;
  /** The provider's REST API base URL (from the instance's allowed hosts: see hosts.ts). */
  apiUrl: string;
  /** `owner/name` (GitHub) or the project's full path (GitLab). */
  repository: string;
  token: string;
  /** The branch with the changes (already pushed). */
  head: string;
  /** The branch to merge into. */
  base: string;
  title: string;
  body: string;
  draft: boolean;
}

export interface PullRequestView {
  kind: GitProviderKind;
  /** GitHub's pull request number, GitLab's merge request iid. */
  number: number;
  /** The page a person opens. */
  url: string;
  title: string;
  state: "open" | "closed" | "merged";
  draft: boolean;
  /** False when the provider already had an open request for this branch and Armory returned it. */
  created: boolean;
}

export interface ProviderCallOptions {
  fetch?: FetchLike;
  signal?: AbortSignal;
}

// Opening pull requests (GitHub) and merge requests (GitLab) for a pushed branch. Plain functions
// over fetch; the git service decides which branch, token and host (see hosts.ts for why the
// API URL is instance configuration).
import { openGithubPullRequest } from "./github";
import { openGitlabMergeRequest } from "./gitlab";
import type { ProviderCallOptions, PullRequestInput, PullRequestView } from "./types";

export { ProviderError } from "./errors";
export {
  DEFAULT_GIT_PROVIDER_HOSTS,
  GitProviderConfigError,
  detectProvider,
  parseGitProviderHosts,
  parseRemoteUrl,
  type DetectedProvider,
  type GitProviderHost,
  type GitProviderKind,
  type ParsedRemote,
} from "./hosts";
export type { ProviderCallOptions, PullRequestInput, PullRequestView } from "./types";

/** Opens the request, or returns the open one the provider already has for this branch. */
export function openPullRequest(input: PullRequestInput, opts: ProviderCallOptions = {}): Promise<PullRequestView> {
  return input.kind === "github" ? openGithubPullRequest(input, opts) : openGitlabMergeRequest(input, opts);
}

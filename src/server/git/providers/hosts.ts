// Which git hosts Armory may open pull requests on, and how a remote URL maps to one of them.
// The list is instance configuration (ARMORY_GIT_PROVIDERS), never a member's input: Armory sends a
// project's token to the provider API, so a member must not be able to point that request at an
// arbitrary address (the same rule as model providers, which only an admin registers).
export type GitProviderKind = "github" | "gitlab";

export interface GitProviderHost {
  kind: GitProviderKind;
  /** The host name in clone URLs (`github.com`, `gitlab.example.com`), lower case, with a port if any. */
  host: string;
  /** The REST API's base URL: `https://api.github.com`, `https://ghe.example.com/api/v3`, `https://gitlab.example.com/api/v4`. */
  apiUrl: string;
}

export const DEFAULT_GIT_PROVIDER_HOSTS: readonly GitProviderHost[] = [
  { kind: "github", host: "github.com", apiUrl: "https://api.github.com" },
  { kind: "gitlab", host: "gitlab.com", apiUrl: "https://gitlab.com/api/v4" },
];

export class GitProviderConfigError extends Error {}

/**
 * Parses ARMORY_GIT_PROVIDERS: comma-separated `kind=host=apiUrl` entries, e.g.
 * `github=ghe.example.com=https://ghe.example.com/api/v3,gitlab=git.example.com=https://git.example.com/api/v4`.
 * They are added to github.com and gitlab.com (an entry for the same host replaces the default).
 */
export function parseGitProviderHosts(value: string | undefined): GitProviderHost[] {
  const hosts = new Map<string, GitProviderHost>(DEFAULT_GIT_PROVIDER_HOSTS.map((h) => [h.host, h]));
  for (const raw of (value ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [kind, host, apiUrl, ...rest] = raw.split("=");
    if (rest.length || !kind || !host || !apiUrl) {
      throw new GitProviderConfigError(`ARMORY_GIT_PROVIDERS entry "${raw}" is not kind=host=apiUrl`);
    }
    if (kind !== "github" && kind !== "gitlab") {
      throw new GitProviderConfigError(`ARMORY_GIT_PROVIDERS entry "${raw}": the kind must be github or gitlab`);
    }
    let url: URL;
    try {
      url = new URL(apiUrl);
    } catch {
      throw new GitProviderConfigError(`ARMORY_GIT_PROVIDERS entry "${raw}": "${apiUrl}" is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new GitProviderConfigError(`ARMORY_GIT_PROVIDERS entry "${raw}": the API URL must be http(s)`);
    }
    if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) {
      throw new GitProviderConfigError(`ARMORY_GIT_PROVIDERS entry "${raw}": "${host}" is not a host name`);
    }
    const normalized = host.toLowerCase();
    hosts.set(normalized, { kind, host: normalized, apiUrl: url.toString().replace(/\/+$/, "") });
  }
  return [...hosts.values()];
}

export interface ParsedRemote {
  /** Lower-case host, with the port for http(s) URLs that name one. */
  host: string;
  /** The repository's path without `.git`: `owner/name`, or `group/subgroup/name` on GitLab. */
  repository: string;
}

/**
 * Reads a clone URL: `https://host[:port]/owner/name(.git)`, `ssh://git@host[:port]/owner/name.git`
 * or the scp-like `git@host:owner/name.git`. Null when it is none of these.
 */
export function parseRemoteUrl(remoteUrl: string): ParsedRemote | null {
  const text = remoteUrl.trim();
  let host: string;
  let path: string;
  const scp = /^[a-z0-9._-]+@([a-z0-9.-]+):(?!\/)(.+)$/i.exec(text);
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    if (!["https:", "http:", "ssh:"].includes(url.protocol)) return null;
    // An ssh port is the ssh server's, not the web/API host's: keep it only for http(s).
    host = url.protocol === "ssh:" ? url.hostname : url.host;
    path = decodeURIComponent(url.pathname);
  }
  const repository = path.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\.git$/, "");
  const parts = repository.split("/");
  if (parts.length < 2 || parts.some((p) => !p || p === "." || p === ".." || !/^[\w.-]+$/.test(p))) return null;
  return { host: host.toLowerCase(), repository };
}

export interface DetectedProvider {
  kind: GitProviderKind;
  apiUrl: string;
  repository: string;
  host: string;
}

/**
 * The provider a remote belongs to, among the hosts the instance allows; null when the remote's
 * host is not one of them (the UI then says which setting adds it). A GitHub repository is exactly
 * `owner/name`; GitLab allows nested groups.
 */
export function detectProvider(
  remoteUrl: string,
  hosts: readonly GitProviderHost[] = DEFAULT_GIT_PROVIDER_HOSTS,
): DetectedProvider | null {
  const remote = parseRemoteUrl(remoteUrl);
  if (!remote) return null;
  const match =
    hosts.find((h) => h.host === remote.host) ??
    // A clone URL with an explicit default port, or an ssh URL, names the bare host.
    hosts.find((h) => h.host.replace(/:\d+$/, "") === remote.host.replace(/:\d+$/, ""));
  if (!match) return null;
  if (match.kind === "github" && remote.repository.split("/").length !== 2) return null;
  return { kind: match.kind, apiUrl: match.apiUrl, repository: remote.repository, host: match.host };
}

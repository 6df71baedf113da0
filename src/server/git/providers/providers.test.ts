import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitProviderServer, type GitProviderServer } from "../../../../tests/support/git-provider-server";
import { DEFAULT_GIT_PROVIDER_HOSTS, GitProviderConfigError, ProviderError, detectProvider, openPullRequest, parseGitProviderHosts, parseRemoteUrl } from ".";

const TOKEN = "ghp_test_token_0123456789";

describe("remote URLs and allowed hosts", () => {
  it("reads https, ssh and scp-like clone URLs", () => {
    expect(parseRemoteUrl("https://github.com/acme/widgets.git")).toEqual({ host: "github.com", repository: "acme/widgets" });
    expect(parseRemoteUrl("https://gitlab.example.com:8443/group/sub/app")).toEqual({ host: "gitlab.example.com:8443", repository: "group/sub/app" });
    expect(parseRemoteUrl("git@github.com:acme/widgets.git")).toEqual({ host: "github.com", repository: "acme/widgets" });
    expect(parseRemoteUrl("ssh://git@gitlab.com:2222/group/app.git")).toEqual({ host: "gitlab.com", repository: "group/app" });
    expect(parseRemoteUrl("file:///srv/repo.git")).toBeNull();
    expect(parseRemoteUrl("https://github.com/only-owner")).toBeNull();
    expect(parseRemoteUrl("https://github.com/acme/../etc")).toBeNull();
    expect(parseRemoteUrl("not a url")).toBeNull();
  });

  it("maps a remote to an allowed provider only", () => {
    expect(detectProvider("https://github.com/acme/widgets.git")).toEqual({ kind: "github", apiUrl: "https://api.github.com", repository: "acme/widgets", host: "github.com" });
    expect(detectProvider("git@gitlab.com:group/sub/app.git")?.kind).toBe("gitlab");
    // GitHub repositories are exactly owner/name.
    expect(detectProvider("https://github.com/a/b/c")).toBeNull();
    // A host the instance has not allowed: no provider (and so no request carrying the token).
    expect(detectProvider("https://ghe.example.com/acme/widgets")).toBeNull();
    const hosts = parseGitProviderHosts("github=ghe.example.com=https://ghe.example.com/api/v3/,gitlab=git.example.com=https://git.example.com/api/v4");
    expect(hosts).toHaveLength(DEFAULT_GIT_PROVIDER_HOSTS.length + 2);
    expect(detectProvider("https://ghe.example.com/acme/widgets", hosts)).toEqual({
      kind: "github",
      apiUrl: "https://ghe.example.com/api/v3",
      repository: "acme/widgets",
      host: "ghe.example.com",
    });
    expect(detectProvider("git@git.example.com:team/app.git", hosts)?.apiUrl).toBe("https://git.example.com/api/v4");
  });

  it("refuses malformed ARMORY_GIT_PROVIDERS entries with the entry named", () => {
    expect(() => parseGitProviderHosts("bitbucket=b.example=https://b.example/api")).toThrow(GitProviderConfigError);
    expect(() => parseGitProviderHosts("github=ghe.example.com")).toThrow(/kind=host=apiUrl/);
    expect(() => parseGitProviderHosts("github=ghe.example.com=ftp://x")).toThrow(/http\(s\)/);
    expect(() => parseGitProviderHosts("github=bad host=https://x")).toThrow(/not a host name/);
    expect(parseGitProviderHosts("")).toEqual([...DEFAULT_GIT_PROVIDER_HOSTS]);
  });
});

describe("opening pull requests against a scripted provider", () => {
  let server: GitProviderServer;
  beforeAll(async () => {
    server = await startGitProviderServer({ token: TOKEN, repositories: ["acme/widgets", "group/sub/app"] });
  });
  afterAll(() => server.close());

  const base = { token: TOKEN, base: "main", body: "What changed and why.", draft: false };

  it("GitHub: creates the pull request with the token as a bearer and the branch names", async () => {
    const pr = await openPullRequest({ ...base, kind: "github", apiUrl: server.apiUrl("github"), repository: "acme/widgets", head: "armory/fix-login", title: "Fix login" });
    expect(pr).toMatchObject({ kind: "github", number: 1, title: "Fix login", state: "open", draft: false, created: true });
    expect(pr.url).toMatch(/\/acme\/widgets\/pull\/1$/);
    const sent = server.requests.at(-1)!;
    expect(sent.method).toBe("POST");
    expect(sent.path).toBe("/api/v3/repos/acme/widgets/pulls");
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(sent.body).toEqual({ title: "Fix login", head: "armory/fix-login", base: "main", body: "What changed and why.", draft: false });
  });

  it("GitHub: a second request for the same branch returns the open one", async () => {
    const before = server.requests.length;
    const pr = await openPullRequest({ ...base, kind: "github", apiUrl: server.apiUrl("github"), repository: "acme/widgets", head: "armory/fix-login", title: "Fix login again" });
    expect(pr).toMatchObject({ number: 1, created: false, title: "Fix login" });
    const [post, get] = server.requests.slice(before);
    expect(post?.method).toBe("POST");
    expect(get).toMatchObject({ method: "GET", query: { head: "acme:armory/fix-login", base: "main", state: "open" } });
  });

  it("GitLab: creates a draft merge request with PRIVATE-TOKEN and the project path encoded", async () => {
    const pr = await openPullRequest({ ...base, draft: true, kind: "gitlab", apiUrl: server.apiUrl("gitlab"), repository: "group/sub/app", head: "armory/tidy", title: "Tidy up" });
    expect(pr).toMatchObject({ kind: "gitlab", title: "Draft: Tidy up", state: "open", draft: true, created: true });
    expect(pr.url).toMatch(/\/group\/sub\/app\/-\/merge_requests\/\d+$/);
    const sent = server.requests.at(-1)!;
    expect(sent.path).toBe("/api/v4/projects/group%2Fsub%2Fapp/merge_requests");
    expect(sent.headers["private-token"]).toBe(TOKEN);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({ source_branch: "armory/tidy", target_branch: "main", title: "Draft: Tidy up", description: "What changed and why." });
    const again = await openPullRequest({ ...base, kind: "gitlab", apiUrl: server.apiUrl("gitlab"), repository: "group/sub/app", head: "armory/tidy", title: "x" });
    expect(again).toMatchObject({ number: pr.number, created: false });
  });

  it("refusals become ProviderErrors with the provider's status and words, never the token", async () => {
    const wrong = openPullRequest({ ...base, token: "wrong-token-123", kind: "github", apiUrl: server.apiUrl("github"), repository: "acme/widgets", head: "b", title: "t" });
    await expect(wrong).rejects.toThrow(ProviderError);
    await expect(wrong).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/refused the credential.*Bad credentials/) });
    const missing = openPullRequest({ ...base, kind: "gitlab", apiUrl: server.apiUrl("gitlab"), repository: "nobody/here", head: "b", title: "t" });
    await expect(missing).rejects.toMatchObject({ status: 404, message: expect.stringContaining("GitLab has no project nobody/here") });
    const err: unknown = await missing.catch((e: unknown) => e);
    expect(err instanceof Error && err.message).not.toContain(TOKEN);
  });

  it("does not follow redirects, gives up on silence, and bounds the answer", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const odd = http.createServer((req, res) => {
      if (req.url?.includes("redirect")) {
        res.writeHead(302, { location: "http://169.254.169.254/latest" });
        res.end();
      } else if (req.url?.includes("huge")) {
        res.writeHead(201, { "content-type": "application/json" });
        res.end(`{"x":"${"a".repeat(1024 * 1024 + 10)}"}`);
      }
      // "silent": never answers.
    });
    odd.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => odd.listen(0, "127.0.0.1", r));
    const port = (odd.address() as AddressInfo).port;
    try {
      const input = { ...base, kind: "github" as const, repository: "acme/widgets", head: "b", title: "t" };
      await expect(openPullRequest({ ...input, apiUrl: `http://127.0.0.1:${port}/redirect` })).rejects.toMatchObject({ status: 502, message: expect.stringContaining("redirect") });
      await expect(openPullRequest({ ...input, apiUrl: `http://127.0.0.1:${port}/huge` })).rejects.toMatchObject({ status: 502, message: expect.stringContaining("larger than 1 MiB") });
      const ac = new AbortController();
      const silent = openPullRequest({ ...input, apiUrl: `http://127.0.0.1:${port}/silent` }, { signal: ac.signal });
      ac.abort();
      await expect(silent).rejects.toMatchObject({ status: 504 });
      await expect(openPullRequest({ ...input, apiUrl: "http://127.0.0.1:1" })).rejects.toMatchObject({ status: 504, message: expect.stringContaining("could not be reached") });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => odd.close(() => r()));
    }
  });
});

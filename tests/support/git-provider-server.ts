// A scripted GitHub / GitLab REST API for tests: the pull-request APIs cannot exist here, so this
// server answers the few calls Armory makes the way the real ones do (status codes and the fields
// Armory reads) and records every request so a test can check what Armory sent.
//   GitHub (Enterprise-style base):  <url>/api/v3   POST/GET /repos/:owner/:repo/pulls
//   GitLab:                          <url>/api/v4   POST/GET /projects/:id/merge_requests
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedProviderRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface GitProviderServer {
  url: string;
  apiUrl(kind: "github" | "gitlab"): string;
  /** Every request received, in order. */
  requests: RecordedProviderRequest[];
  /** Repositories (GitHub `owner/name`, GitLab full path) the server knows; others answer 404. */
  repositories: Set<string>;
  close(): Promise<void>;
}

interface Opened {
  repository: string;
  number: number;
  head: string;
  base: string;
  title: string;
  draft: boolean;
}

export async function startGitProviderServer(opts: { token: string; repositories: string[]; host?: string; webBase?: string }): Promise<GitProviderServer> {
  const requests: RecordedProviderRequest[] = [];
  const repositories = new Set(opts.repositories);
  const opened: Opened[] = [];
  const webBase = opts.webBase ?? "https://git.example.test";

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const githubPull = (o: Opened) => ({
    number: o.number,
    html_url: `${webBase}/${o.repository}/pull/${o.number}`,
    title: o.title,
    state: "open",
    draft: o.draft,
    merged_at: null,
    head: { ref: o.head },
    base: { ref: o.base },
  });
  const gitlabMr = (o: Opened) => ({
    iid: o.number,
    web_url: `${webBase}/${o.repository}/-/merge_requests/${o.number}`,
    title: o.title,
    state: "opened",
    draft: o.draft,
    source_branch: o.head,
    target_branch: o.base,
  });

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://x");
    let body: unknown = null;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : null;
    } catch {
      body = null;
    }
    requests.push({ method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });

    const github = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname);
    if (github) {
      if (req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { message: "Bad credentials" });
      const repository = `${decodeURIComponent(github[1]!)}/${decodeURIComponent(github[2]!)}`;
      if (!repositories.has(repository)) return send(res, 404, { message: "Not Found" });
      const mine = opened.filter((o) => o.repository === repository);
      if (req.method === "GET") {
        const head = url.searchParams.get("head")?.split(":").pop();
        return send(res, 200, mine.filter((o) => !head || o.head === head).map(githubPull));
      }
      const b = body as { title?: string; head?: string; base?: string; draft?: boolean } | null;
      if (!b?.title || !b.head || !b.base) return send(res, 422, { message: "Validation Failed", errors: [{ message: "title, head and base are required" }] });
      if (mine.some((o) => o.head === b.head)) {
        return send(res, 422, { message: "Validation Failed", errors: [{ message: `A pull request already exists for ${repository.split("/")[0]}:${b.head}.` }] });
      }
      const o: Opened = { repository, number: opened.length + 1, head: b.head, base: b.base, title: b.title, draft: b.draft === true };
      opened.push(o);
      return send(res, 201, githubPull(o));
    }

    const gitlab = /^\/api\/v4\/projects\/([^/]+)\/merge_requests$/.exec(url.pathname);
    if (gitlab) {
      if (req.headers["private-token"] !== opts.token) return send(res, 401, { message: "401 Unauthorized" });
      const repository = decodeURIComponent(gitlab[1]!);
      if (!repositories.has(repository)) return send(res, 404, { message: "404 Project Not Found" });
      const mine = opened.filter((o) => o.repository === repository);
      if (req.method === "GET") {
        const source = url.searchParams.get("source_branch");
        return send(res, 200, mine.filter((o) => !source || o.head === source).map(gitlabMr));
      }
      const b = body as { title?: string; source_branch?: string; target_branch?: string } | null;
      if (!b?.title || !b.source_branch || !b.target_branch) return send(res, 400, { message: "title, source_branch and target_branch are missing" });
      const existing = mine.find((o) => o.head === b.source_branch);
      if (existing) return send(res, 409, { message: [`Another open merge request already exists for this source branch: !${existing.number}`] });
      const o: Opened = { repository, number: opened.length + 1, head: b.source_branch, base: b.target_branch, title: b.title, draft: /^draft:/i.test(b.title) };
      opened.push(o);
      return send(res, 201, gitlabMr(o));
    }
    send(res, 404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    apiUrl: (kind) => `${url}/api/${kind === "github" ? "v3" : "v4"}`,
    requests,
    repositories,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// `BENCH_ONLY=approvals npm run bench`: how fast a tool approval round-trips, with the real Claude
// Code CLI in a real agent container (Armory's demo model upstream) and an agent whose tool policy
// puts Bash in `ask`. Each measured turn asks for one Bash command; the bench decides "allow" over
// HTTP (approval.decide, as the web app's button does) as soon as the approval is visible, and
// reads approval.onRequest and chat.stream over the live WebSocket connection, as the browser does.
//  (a) decision -> CLI answered: approval.decide sent -> the control_response line handed to the
//      agent's daemon (Armory's write on the daemon's socket; the issue's "a decision resumes the
//      turn within 100 ms"), beside approval.get over HTTP (the same session, role check and read
//      that come before the service); the profile adds decide() returning, the mutation returning
//      and Armory handling the daemon's ack of the write (that waits for Armory's own event loop);
//  (b) decision -> the tool's result event on the chat stream (what a user sees: the turn went
//      on), beside a baseline from the same run: the same command with Bash allowed, the CLI's
//      tool_use line -> its tool_result line (the daemon's timestamps: the CLI's own time to run
//      it; also taken as both events reached the stream);
//  (c) request raised by the CLI (the daemon read its control_request line; the daemon's own
//      timestamp) -> the approval on an approval.onRequest subscriber.
// Points inside Armory are observed without changing it: hub.onEvent (the daemon's lines and their
// timestamps), approvals.changes (the request announced), and a wrapper around hub.request (the
// answer written; the same hook tests/docker/approvals.test.ts uses).
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import superjson from "superjson";
import WebSocket from "ws";
import type { ApprovalStreamEvent } from "../../src/contracts/approvals";
import type { AppRouter } from "../../src/server/api/root";
import type { ChatStreamEvent } from "../../src/server/api/routers/chat/schemas";
import { LIVE_ENDPOINT } from "../../src/server/api/ws";
import { startDemoModelServer } from "../../src/server/gateway/demo-model";
import { removeProjectDockerObjects } from "../../tests/support/docker";
import { signedUpClient, startBenchArmory } from "./client";
import type { BenchGoal, BenchSection, BenchSectionResult } from "./sections";
import { stats, type Stats } from "./stats";

const TURNS = Number(process.env.BENCH_APPROVAL_TURNS ?? 20);
/** How long one awaited step may take before the section fails (a turn is about a second). */
const STEP_LIMIT_MS = 60_000;

const mono = () => performance.now();
const fmt = (s: Stats) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} ms`;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** The browser's live connection: tRPC's WebSocket client with the session cookie. */
function liveClient(httpUrl: string, cookie: string) {
  class CookieSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  }
  const wsc = createWSClient({ url: `${httpUrl.replace(/^http/, "ws")}${LIVE_ENDPOINT}`, WebSocket: CookieSocket as unknown as typeof globalThis.WebSocket });
  return { client: createTRPCClient<AppRouter>({ links: [wsLink<AppRouter>({ client: wsc, transformer: superjson })] }), close: () => wsc.close() };
}

/** Items as they arrive, each with its arrival time; `when` resolves with the first match, seen or to come. */
class Arrivals<T> {
  private readonly seen: { item: T; mono: number; wall: number }[] = [];
  private waiting: { match: (t: T) => boolean; resolve: (a: { item: T; mono: number; wall: number }) => void }[] = [];
  push(item: T): void {
    const a = { item, mono: mono(), wall: Date.now() };
    this.seen.push(a);
    const hit = this.waiting.filter((w) => w.match(item));
    this.waiting = this.waiting.filter((w) => !hit.includes(w));
    for (const w of hit) w.resolve(a);
  }
  seenCount(match: (t: T) => boolean): number {
    return this.seen.filter((a) => match(a.item)).length;
  }
  when(match: (t: T) => boolean, what: string): Promise<{ item: T; mono: number; wall: number }> {
    const found = this.seen.find((a) => match(a.item));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`approvals bench: no ${what} within ${STEP_LIMIT_MS / 1000} s`)), STEP_LIMIT_MS);
      this.waiting.push({ match, resolve: (a) => (clearTimeout(timer), resolve(a)) });
    });
  }
}

type Content = { type?: string; id?: string; tool_use_id?: string; is_error?: boolean };
/** The content blocks of an assistant or user event of the chat stream (a CLI message). */
const contentOf = (e: ChatStreamEvent): Content[] => {
  const c = (e.data as { message?: { content?: unknown } } | null)?.message?.content;
  return Array.isArray(c) ? (c as Content[]) : [];
};
const isEnd = (e: ChatStreamEvent) => e.type === "run_completed" || e.type === "run_failed" || e.type === "run_interrupted";

async function run(): Promise<BenchSectionResult> {
  const model = await startDemoModelServer();
  const { services, http } = await startBenchArmory({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "bench-upstream-key" });
  let projectId = "";
  let live: ReturnType<typeof liveClient> | null = null;
  const hub = services.hub;
  const hubRequest = hub.request.bind(hub);
  const decide = services.approvals.decide.bind(services.approvals);
  const offs: (() => void)[] = [];
  try {
    const { trpc, cookie } = await signedUpClient(http.url, `approvals-${Date.now()}@example.test`);
    projectId = (await trpc.project.create.mutate({ name: "Bench approvals" })).id;
    const pid = projectId;
    const coder = (await trpc.template.list.query({ projectId })).find((t) => t.name === "claude-coder")!;
    const template = await trpc.template.create.mutate({ projectId, copyFrom: coder.id, name: "asking-coder", toolPolicy: { allow: [], ask: ["Bash"], deny: [] } });
    const agent = await trpc.agent.create.mutate({ projectId, templateId: template.id, name: "bench-approvals", start: true });
    const agentId = agent.id;
    await hub.waitFor(agentId, { timeoutMs: 30_000 });

    // ------------------------------------------------------------ observation points inside Armory
    /** The CLI's lines as the daemon read them: its timestamp (wall clock ms) and Armory's arrival. */
    const cliRequests = new Arrivals<{ requestId: string; daemonAt: number }>();
    const cliToolResults = new Map<string, number>(); // tool_use_id -> daemon timestamp of the tool_result line
    const cliToolUses = new Map<string, number>(); // tool_use_id -> daemon timestamp of the assistant tool_use line
    offs.push(
      hub.onEvent(agentId, (e, meta) => {
        if (e.type !== "proc.line" || !e.line.startsWith("{")) return;
        let v: { type?: string; request_id?: string; request?: { subtype?: string }; message?: { content?: unknown } };
        try {
          v = JSON.parse(e.line) as typeof v;
        } catch {
          return;
        }
        if (v.type === "control_request" && v.request?.subtype === "can_use_tool" && v.request_id) cliRequests.push({ requestId: v.request_id, daemonAt: meta.at });
        const content = Array.isArray(v.message?.content) ? (v.message.content as Content[]) : [];
        for (const c of content) {
          if (v.type === "assistant" && c.type === "tool_use" && c.id) cliToolUses.set(c.id, meta.at);
          if (v.type === "user" && c.type === "tool_result" && c.tool_use_id) cliToolResults.set(c.tool_use_id, meta.at);
        }
      }),
    );
    /** approval requested -> announced (approval.onRequest's source), by the CLI's request id. */
    const announced = new Arrivals<{ requestId: string; approvalId: string }>();
    offs.push(services.approvals.changes.on((c) => c.kind === "requested" && announced.push({ requestId: c.approval.requestId, approvalId: c.approval.id })));
    /** The service's decide() entered (the HTTP request, tRPC, session and permission checks are before it). */
    const serviceDecide = new Arrivals<string>();
    const serviceDecided = new Arrivals<string>();
    services.approvals.decide = ((...a: Parameters<typeof decide>) => {
      serviceDecide.push(a[1]);
      return decide(...a).then((row) => (serviceDecided.push(a[1]), row));
    }) as typeof decide;
    /** control_response lines written on the agent's daemon socket, and Armory handling the daemon's answer (the line is in the CLI's stdin). */
    const answers = new Arrivals<{ requestId: string; behavior: string }>();
    const acks = new Arrivals<string>();
    hub.request = ((id: string, method: string, params: { data?: string }, opts?: { timeoutMs?: number }) => {
      const p = (hubRequest as (...a: unknown[]) => Promise<unknown>)(id, method, params, opts);
      if (method === "proc.write" && params.data?.includes(`"control_response"`)) {
        const r = (JSON.parse(params.data) as { response: { request_id: string; response?: { behavior?: string } } }).response;
        answers.push({ requestId: r.request_id, behavior: r.response?.behavior ?? "error" });
        void p.then(() => acks.push(r.request_id)).catch(() => {});
      }
      return p;
    }) as typeof hub.request;

    // ------------------------------------------------------------ the browser's live subscriptions
    live = liveClient(http.url, cookie);
    const approvalEvents = new Arrivals<ApprovalStreamEvent>();
    await new Promise<void>((resolve, reject) => {
      const sub = live!.client.approval.onRequest.subscribe(
        { projectId },
        { onStarted: () => resolve(), onData: (d) => approvalEvents.push(d), onError: (err) => reject(new Error(`approval.onRequest: ${err.message}`)) },
      );
      offs.push(() => sub.unsubscribe());
    });
    const chatEvents = new Arrivals<ChatStreamEvent>();
    const followSession = (sessionId: string) =>
      new Promise<void>((resolve, reject) => {
        const sub = live!.client.chat.stream.subscribe(
          { projectId: pid, agentId, sessionId, afterSeq: 0 },
          { onStarted: () => resolve(), onData: (d) => chatEvents.push(d.data), onError: (err) => reject(new Error(`chat.stream: ${err.message}`)) },
        );
        offs.push(() => sub.unsubscribe());
      });

    let sessionId: string | undefined;
    const turn = async (message: string) => {
      const sent = await trpc.chat.send.mutate({ projectId: pid, agentId, sessionId, message });
      if (!sessionId) {
        sessionId = sent.sessionId;
        await followSession(sessionId);
      }
      return sent;
    };
    const ended = async (runId: string) => {
      const { item } = await chatEvents.when((e) => e.runId === runId && isEnd(e), `end of run ${runId}`);
      if (item.type !== "run_completed") throw new Error(`approvals bench: run ${runId} ended with ${item.type}: ${JSON.stringify(item.data)}`);
    };
    const toolResultOnStream = (toolUseId: string) =>
      chatEvents.when((e) => e.type === "user" && contentOf(e).some((c) => c.type === "tool_result" && c.tool_use_id === toolUseId), `tool_result for ${toolUseId}`);
    const toolUseOnStream = (runId: string) =>
      chatEvents.when((e) => e.runId === runId && e.type === "assistant" && contentOf(e).some((c) => c.type === "tool_use"), `tool_use of run ${runId}`);

    // ------------------------------------------------------------ turns that ask (Bash in `ask`)
    const s = {
      decideToAnswer: [] as number[],
      decideToDaemonAck: [] as number[],
      decideReturned: [] as number[],
      httpToService: [] as number[],
      serviceToAnswer: [] as number[],
      decideToToolResult: [] as number[],
      serviceDone: [] as number[],
      getRoundTrip: [] as number[],
      answerToResultLine: [] as number[],
      resultLineToStream: [] as number[],
      requestToOnRequest: [] as number[],
      requestLineToArmory: [] as number[],
      armoryToAnnounced: [] as number[],
      announcedToSubscriber: [] as number[],
    };
    let answeredBeforeReturn = 0;
    const askTurn = async (i: number, measured: boolean) => {
      const command = `touch /workspace/approved-${i}.txt`;
      const sent = await turn(`run \`${command}\``);
      const seen = await approvalEvents.when((e) => e.kind === "requested" && e.approval.runId === sent.runId, `approval of run ${sent.runId}`);
      const approval = (seen.item as Extract<ApprovalStreamEvent, { kind: "requested" }>).approval;
      if (approval.summary !== command || !approval.toolUseId) throw new Error(`approvals bench: unexpected approval ${JSON.stringify(approval)}`);
      const ann = await announced.when((a) => a.approvalId === approval.id, `announcement of ${approval.id}`);
      const requestId = ann.item.requestId;
      const raised = await cliRequests.when((r) => r.requestId === requestId, `control_request ${requestId}`);

      const t0 = mono();
      const decided = await trpc.approval.decide.mutate({ projectId: pid, approvalId: approval.id, decision: "allow" });
      const returned = mono();
      if (decided.status !== "allowed") throw new Error(`approvals bench: decide returned ${decided.status}`);
      const answer = await answers.when((a) => a.requestId === requestId, `control_response for ${requestId}`);
      if (answer.item.behavior !== "allow") throw new Error(`approvals bench: the CLI was answered ${answer.item.behavior}`);
      const ack = await acks.when((r) => r === requestId, `daemon ack for ${requestId}`);
      const entered = await serviceDecide.when((id) => id === approval.id, `decide() of ${approval.id}`);
      const done = await serviceDecided.when((id) => id === approval.id, `decide() of ${approval.id} returning`);
      const result = await toolResultOnStream(approval.toolUseId);
      const isError = contentOf(result.item).find((c) => c.tool_use_id === approval.toolUseId)?.is_error;
      if (isError !== false) throw new Error(`approvals bench: the allowed command failed: ${JSON.stringify(result.item.data)}`);
      await ended(sent.runId);
      if (!measured) return;
      // Baseline for the part before the service: the same HTTP path, session, role check and approval read.
      const g0 = mono();
      await trpc.approval.get.query({ projectId: pid, approvalId: approval.id });
      s.getRoundTrip.push(mono() - g0);
      if (answer.mono <= returned) answeredBeforeReturn++;
      const resultLineAt = cliToolResults.get(approval.toolUseId)!;
      s.decideToAnswer.push(answer.mono - t0);
      s.decideToDaemonAck.push(ack.mono - t0);
      s.decideReturned.push(returned - t0);
      s.httpToService.push(entered.mono - t0);
      s.serviceToAnswer.push(answer.mono - entered.mono);
      s.decideToToolResult.push(result.mono - t0);
      s.serviceDone.push(done.mono - t0);
      // Across the container boundary: wall clocks (the daemon's timestamps are whole milliseconds).
      s.answerToResultLine.push(resultLineAt - answer.wall);
      s.resultLineToStream.push(result.wall - resultLineAt);
      s.requestToOnRequest.push(seen.wall - raised.item.daemonAt);
      s.requestLineToArmory.push(raised.wall - raised.item.daemonAt);
      s.armoryToAnnounced.push(ann.mono - raised.mono);
      s.announcedToSubscriber.push(seen.mono - ann.mono);
    };
    await askTurn(0, false); // the session's first turn starts the CLI: not measured
    for (let i = 1; i <= TURNS; i++) await askTurn(i, true);

    // ------------------------------------------------------------ baseline: the same command, Bash allowed
    await trpc.agent.update.mutate({ projectId: pid, agentId, toolPolicy: { allow: ["Bash"], ask: [], deny: [] } });
    const base = { useToResultOnStream: [] as number[], useToResultLines: [] as number[] };
    const allowedTurn = async (i: number, measured: boolean) => {
      const sent = await turn(`run \`touch /workspace/allowed-${i}.txt\``);
      const use = await toolUseOnStream(sent.runId);
      const toolUseId = contentOf(use.item).find((c) => c.type === "tool_use")!.id!;
      const result = await toolResultOnStream(toolUseId);
      await ended(sent.runId);
      if (approvalEvents.seenCount((e) => e.kind === "requested" && e.approval.runId === sent.runId)) throw new Error("approvals bench: an allowed Bash call asked");
      if (!measured) return;
      base.useToResultOnStream.push(result.mono - use.mono);
      base.useToResultLines.push(cliToolResults.get(toolUseId)! - cliToolUses.get(toolUseId)!);
    };
    await allowedTurn(0, false); // the policy changed: a new process, not measured
    for (let i = 1; i <= TURNS; i++) await allowedTurn(i, true);

    const st = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, stats(v)])) as Record<keyof typeof s, Stats>;
    const baseStream = stats(base.useToResultOnStream);
    const baseLines = stats(base.useToResultLines);
    // The turn resumes within 100 ms: what the user waits for beyond the CLI's own time to run the
    // command (its tool_use line -> its tool_result line when Bash is allowed, in the same run).
    const resumeGoalMs = r1(baseLines.p50 + 100);
    const report = {
      cli: "the real Claude Code CLI with Armory's demo model; decisions over HTTP (approval.decide), approval.onRequest and chat.stream over the live WebSocket",
      database: "PGlite (in memory, in Armory's process)",
      turns: TURNS,
      decisionToCliAnswered: {
        toControlResponseWrittenToDaemonMs: st.decideToAnswer,
        answeredBeforeDecideReturned: `${answeredBeforeReturn}/${TURNS}`,
        baselineApprovalGetOverHttpMs: st.getRoundTrip,
        profile: {
          httpTrpcSessionRoleAndReadToServiceMs: st.httpToService,
          serviceToControlResponseMs: st.serviceToAnswer,
          serviceDecideReturnsMs: st.serviceDone,
          decideMutationReturnsMs: st.decideReturned,
          daemonAckOfTheWriteHandledMs: st.decideToDaemonAck,
        },
        goal: "p50 and p99 < 100 ms",
      },
      decisionToToolResultOnStream: {
        ms: st.decideToToolResult,
        baselineBashAllowedToolUseToToolResultOnStreamMs: baseStream,
        baselineBashAllowedCliToolUseLineToToolResultLineMs: baseLines,
        profile: { answerWrittenToCliToolResultLineMs: st.answerToResultLine, toolResultLineToSubscriberMs: st.resultLineToStream },
        goal: `p50 < the CLI's own tool_use line -> tool_result line (Bash allowed) p50 + 100 ms (${resumeGoalMs} ms)`,
      },
      requestToOnRequest: {
        ms: st.requestToOnRequest,
        profile: { daemonReadLineToArmoryMs: st.requestLineToArmory, armoryToAnnouncedMs: st.armoryToAnnounced, announcedToSubscriberMs: st.announcedToSubscriber },
        goal: "none in the issue",
      },
    };
    const goals: BenchGoal[] = [
      { name: "approvals: decision -> CLI answered (control_response written to the agent's daemon), p99", value: st.decideToAnswer.p99, unit: "ms", goal: "p99 < 100 ms", met: st.decideToAnswer.p99 < 100 },
      { name: "approvals: decision -> CLI answered (control_response written to the agent's daemon), p50", value: st.decideToAnswer.p50, unit: "ms", goal: "p50 < 100 ms", met: st.decideToAnswer.p50 < 100 },
      {
        name: "approvals: decision -> tool result on the chat stream (p50)",
        value: st.decideToToolResult.p50,
        unit: "ms",
        goal: `p50 < ${resumeGoalMs} ms (the CLI's own time for the same Bash call allowed without asking, its tool_use line -> tool_result line ${baseLines.p50.toFixed(1)} ms, + 100 ms)`,
        met: st.decideToToolResult.p50 < resumeGoalMs,
      },
    ];
    const rows = [
      { measure: `approval.decide (HTTP) -> control_response written to the daemon (${TURNS} turns)`, "p50 / p99": fmt(st.decideToAnswer), baseline: `approval.get over HTTP ${fmt(st.getRoundTrip)}`, "ratio/goal": `goal < 100 ms; before decide returned: ${answeredBeforeReturn}/${TURNS}` },
      { measure: "  HTTP + tRPC + session + role + read -> service | service -> written", "p50 / p99": `${fmt(st.httpToService)} | ${fmt(st.serviceToAnswer)}`, baseline: "", "ratio/goal": "" },
      { measure: "  service decide() returns | decide returns | daemon's ack handled", "p50 / p99": `${fmt(st.serviceDone)} | ${fmt(st.decideReturned)}`, baseline: fmt(st.decideToDaemonAck), "ratio/goal": "" },
      { measure: "approval.decide -> tool_result on the chat stream (WebSocket)", "p50 / p99": fmt(st.decideToToolResult), baseline: `Bash allowed, CLI's tool_use line -> tool_result line ${fmt(baseLines)}`, "ratio/goal": `goal p50 < ${resumeGoalMs} ms (baseline + 100)` },
      { measure: "  answer written -> CLI's tool_result line | line -> subscriber", "p50 / p99": `${fmt(st.answerToResultLine)} | ${fmt(st.resultLineToStream)}`, baseline: `Bash allowed, tool_use -> tool_result on the stream ${fmt(baseStream)}`, "ratio/goal": "" },
      { measure: "CLI's control_request -> approval on approval.onRequest (WebSocket)", "p50 / p99": fmt(st.requestToOnRequest), baseline: "", "ratio/goal": "no goal in the issue" },
      { measure: "  daemon -> Armory | -> announced | -> subscriber", "p50 / p99": `${fmt(st.requestLineToArmory)} | ${fmt(st.armoryToAnnounced)}`, baseline: fmt(st.announcedToSubscriber), "ratio/goal": "" },
    ];
    return { report, rows, goals };
  } finally {
    hub.request = hubRequest;
    services.approvals.decide = decide;
    for (const off of offs) off();
    live?.close();
    await http.close();
    await services.close();
    await removeProjectDockerObjects(projectId || undefined);
    await model.close();
  }
}

export const approvalsBench: BenchSection = { name: "approvals", run };

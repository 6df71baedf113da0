// The fan-out's subscribers, in a process of their own (as browsers are): the chat bench forks
// this with `node --import tsx`, sends it { url, cookie, projectId, agentId, sessions } over
// IPC, and gets back "ready" once every chat.stream (SSE) is open, then "done" with what each
// stream received once every session has seen the end of its turn. Each stream_event carries
// the fake CLI's write time `t` (microseconds since the epoch): latency = arrival - t.
import type { ChatStreamEvent } from "../../src/server/api/routers/chat/schemas";
import { httpClient } from "../../tests/support/http-server";

export interface StreamClientsRequest {
  url: string;
  cookie: string;
  projectId: string;
  agentId: string;
  /** Each session's stream starts after `afterSeq` (the events of earlier turns are not followed). */
  sessions: { id: string; afterSeq: number }[];
}

export interface StreamClientsResult {
  /** Per session: the seqs received in order, and the fake CLI's event indexes `i`. */
  sessions: Record<string, { seqs: number[]; indexes: number[]; completed: boolean }>;
  latenciesMs: number[];
  /** This process's wall time from the first event to the last end event. */
  firstEventAt: number;
  lastEndAt: number;
}

const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;
const isEnd = (e: ChatStreamEvent) => e.type === "run_completed" || e.type === "run_failed" || e.type === "run_interrupted";

process.once("message", (msg: StreamClientsRequest) => {
  const client = httpClient(msg.url, msg.cookie);
  const result: StreamClientsResult = { sessions: {}, latenciesMs: [], firstEventAt: 0, lastEndAt: 0 };
  let open = 0;
  let ended = 0;
  const subs: { unsubscribe(): void }[] = [];
  for (const { id: sessionId, afterSeq } of msg.sessions) {
    const got: StreamClientsResult["sessions"][string] = (result.sessions[sessionId] = { seqs: [], indexes: [], completed: false });
    subs.push(
      client.chat.stream.subscribe(
        { projectId: msg.projectId, agentId: msg.agentId, sessionId, afterSeq },
        {
          onStarted: () => {
            if (++open === msg.sessions.length) process.send!({ kind: "ready" });
          },
          onData: ({ data: e }) => {
            const at = nowUs();
            result.firstEventAt ||= at;
            got.seqs.push(e.seq);
            const d = e.data as { t?: number; i?: number } | null;
            if (e.type === "stream_event" && typeof d?.t === "number") {
              result.latenciesMs.push((at - d.t) / 1000);
              got.indexes.push(d.i ?? -1);
            }
            if (isEnd(e)) {
              got.completed = e.type === "run_completed";
              result.lastEndAt = at;
              if (++ended === msg.sessions.length) {
                for (const s of subs) s.unsubscribe();
                process.send!({ kind: "done", result }, () => process.exit(0));
              }
            }
          },
          onError: (err) => {
            process.send!({ kind: "error", message: `chat.stream ${sessionId}: ${err.message}` }, () => process.exit(1));
          },
        },
      ),
    );
  }
});

// Bench section "files": agent files against a real agent container, each figure beside the
// previous design's path measured in the same run and container:
//  1. write + read of 1 MiB through the real API (HTTP + tRPC + superjson) -> Armory's services ->
//     the agent's daemon (armoryd) over its WebSocket, vs a docker exec'd `cat > file` fed on stdin
//     plus an exec'd `cat` (the exec path Armory used before armoryd);
//  2. files.list of a 10,000-entry directory, vs an exec'd `find -maxdepth 1 -printf` of it;
//  3. change (a file written in the container) -> agent-config-reloaded received by Armory;
//  4. a file the agent writes -> a files.onChange subscriber; 5. a line on the container's stdout
//     -> a logs.follow subscriber (the Docker tests only bound those waits).
// Figures 1 and 2 are also taken one layer down — the tRPC caller in-process (no HTTP) and a bare
// daemon request (hub.request: WebSocket + JSON + base64 + armoryd's own file work) — so the table
// shows where the time goes.
import superjson, { type SuperJSONResult } from "superjson";
import { createCaller } from "../../src/server/api/root";
import { createContext } from "../../src/server/api/trpc";
import { AGENT_UID } from "../../src/server/runtime/docker/containers";
import { runExec, startExec } from "../../tests/support/agent-exec";
import { removeProjectDockerObjects } from "../../tests/support/docker";
import type { BenchGoal, BenchSection } from "./sections";
import { stats, type Stats } from "./stats";
import { signedUpClient, startBenchArmory } from "./client";

const ms = (s: Stats) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} ms`;
const ratio = (a: Stats, b: Stats) => Math.round((a.p50 / b.p50) * 100) / 100;

/** Runs `n` measured rounds (after one unmeasured warm-up); each round returns its named parts in ms. */
async function rounds<K extends string>(n: number, fn: () => Promise<Record<K, number>>): Promise<Record<K, Stats>> {
  await fn();
  const all: Partial<Record<K, number[]>> = {};
  for (let i = 0; i < n; i++) {
    const r = await fn();
    for (const k of Object.keys(r) as K[]) (all[k] ??= []).push(r[k]);
  }
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, stats(v as number[])])) as Record<K, Stats>;
}

/** Milliseconds taken by `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export const filesBench: BenchSection = {
  name: "files",
  async run() {
    const { docker, db, services, http } = await startBenchArmory();
    let projectId = "";
    try {
      const { trpc, cookie } = await signedUpClient(http.url, `files-${Date.now()}@example.test`);
      const caller = createCaller(await createContext({ services, headers: new Headers({ cookie }) }));
      projectId = (await trpc.project.create.mutate({ name: "Bench files" })).id;
      const template = (await trpc.template.list.query({ projectId })).find((t) => t.name === "claude-coder")!;
      const agent = await trpc.agent.create.mutate({ projectId, templateId: template.id, name: "bench-files", start: true });
      const agentId = agent.id;
      const ref = { projectId, agentId };
      await services.hub.waitFor(agentId, { timeoutMs: 30_000 });
      const containerId = (await db.prisma.agent.findUniqueOrThrow({ where: { id: agentId } })).containerId!;
      const user = `${AGENT_UID}:${AGENT_UID}`;
      const exec = async (script: string) => {
        const r = await runExec(docker, containerId, { cmd: ["bash", "-c", script], user });
        if (r.exitCode !== 0) throw new Error(`${script}: exited ${r.exitCode}: ${r.stderr}`);
        return r.stdout;
      };
      /** The previous design's read: an exec'd `cat`, its output demultiplexed; resolves with the byte count. */
      const execRead = async (file: string) => {
        const p = await startExec(docker, containerId, { cmd: ["cat", file], user });
        let bytes = 0;
        p.stdout.on("data", (d: Buffer) => (bytes += d.length));
        p.stderr.resume();
        const { exitCode } = await p.exited;
        if (exitCode !== 0) throw new Error(`exec cat ${file} exited ${exitCode}`);
        return bytes;
      };
      const RUNS = Number(process.env.BENCH_FILES_RUNS ?? 30);
      await exec("mkdir -p /workspace/bench");

      // ---------------------------------------------------------------- 1. write + read 1 MiB
      const content = "0123456789abcdef".repeat(65_536); // 1 MiB of text
      const bytes = Buffer.from(content);
      const apiFile = "/workspace/bench/api-1mib.txt";
      const api = await rounds(RUNS, async () => {
        const write = await timed(() => trpc.files.write.mutate({ ...ref, path: apiFile, content, createDirs: true }));
        let size = 0;
        const read = await timed(async () => (size = (await trpc.files.read.query({ ...ref, path: apiFile })).size));
        if (size !== content.length) throw new Error(`files.read returned ${size} bytes`);
        return { write, read, total: write + read };
      });
      const callerFile = "/workspace/bench/caller-1mib.txt";
      const inProcess = await rounds(RUNS, async () => {
        const write = await timed(() => caller.files.write({ ...ref, path: callerFile, content, createDirs: true }));
        let size = 0;
        const read = await timed(async () => (size = (await caller.files.read({ ...ref, path: callerFile })).size));
        if (size !== content.length) throw new Error(`files.read (in-process) returned ${size} bytes`);
        return { write, read, total: write + read };
      });
      const hubFile = "/workspace/bench/hub-1mib.txt";
      const daemon = await rounds(RUNS, async () => {
        const write = await timed(() =>
          services.hub.request(agentId, "fs.write", { root: "/workspace", path: hubFile, content: bytes.toString("base64"), mode: 0o644, mtime: Date.now(), createDirs: false, exclusive: false }),
        );
        let size = 0;
        const read = await timed(async () => (size = Buffer.from((await services.hub.request(agentId, "fs.read", { root: "/workspace", path: hubFile, maxBytes: 2 ** 21 })).content, "base64").length));
        if (size !== content.length) throw new Error(`fs.read returned ${size} bytes`);
        return { write, read, total: write + read };
      });
      const execFile = "/workspace/bench/exec-1mib.txt";
      const baseline = await rounds(RUNS, async () => {
        const write = await timed(async () => {
          const p = await startExec(docker, containerId, { cmd: ["sh", "-c", `cat > ${execFile}`], user, stdin: true });
          p.stdout.resume();
          p.stderr.resume();
          p.stdin!.end(bytes);
          const { exitCode } = await p.exited;
          if (exitCode !== 0) throw new Error(`exec cat > file exited ${exitCode}`);
        });
        let size = 0;
        const read = await timed(async () => (size = await execRead(execFile)));
        if (size !== content.length) throw new Error(`exec cat returned ${size} bytes`);
        return { write, read, total: write + read };
      });

      // The tRPC wire format (superjson) of the 1 MiB read's result: serialized as the server does,
      // parsed back as the client does.
      const readResult = await caller.files.read({ ...ref, path: callerFile });
      const readWire = await rounds(RUNS, async () => {
        let text = "";
        const serialize = await timed(async () => (text = JSON.stringify(superjson.serialize(readResult))));
        const parse = await timed(async () => superjson.deserialize(JSON.parse(text) as SuperJSONResult));
        return { serialize, parse };
      });

      // ---------------------------------------------------------------- 2. list 10,000 entries
      await exec("mkdir -p /workspace/big && cd /workspace/big && seq -f 'f%05g.txt' 1 10000 | xargs touch");
      const listApi = await rounds(RUNS, async () => {
        let n = 0;
        const total = await timed(async () => (n = (await trpc.files.list.query({ ...ref, path: "/workspace/big" })).entries.length));
        if (n !== 10_000) throw new Error(`files.list listed ${n}`);
        return { total };
      });
      const listCaller = await rounds(RUNS, async () => {
        let n = 0;
        const total = await timed(async () => (n = (await caller.files.list({ ...ref, path: "/workspace/big" })).entries.length));
        if (n !== 10_000) throw new Error(`files.list (in-process) listed ${n}`);
        return { total };
      });
      const listDaemon = await rounds(RUNS, async () => {
        let n = 0;
        const total = await timed(async () => (n = (await services.hub.request(agentId, "fs.list", { path: "/workspace/big", limit: 100_000, shownPath: "/workspace/big" })).entries.length));
        if (n !== 10_000) throw new Error(`fs.list listed ${n}`);
        return { total };
      });
      const listExec = await rounds(RUNS, async () => {
        let lines = 0;
        const total = await timed(async () => {
          const out = await exec("find /workspace/big -mindepth 1 -maxdepth 1 -printf '%y\\t%s\\t%m\\t%T@\\t%l\\t%f\\n'");
          lines = out.split("\n").length - 1;
        });
        if (lines !== 10_000) throw new Error(`exec find listed ${lines}`);
        return { total };
      });

      // Where the HTTP layer's time goes for the list: the tRPC wire format (superjson) of the same
      // result, serialized as the server does and parsed back as the client does.
      const listed = await caller.files.list({ ...ref, path: "/workspace/big" });
      let wireBytes = 0;
      const wire = await rounds(RUNS, async () => {
        let text = "";
        const serialize = await timed(async () => (text = JSON.stringify(superjson.serialize(listed))));
        wireBytes = Buffer.byteLength(text);
        let n = 0;
        const parse = await timed(async () => (n = superjson.deserialize<typeof listed>(JSON.parse(text) as SuperJSONResult).entries.length));
        if (n !== 10_000) throw new Error(`superjson round trip kept ${n} entries`);
        return { serialize, parse };
      });

      // ---------------------------------------------------------------- 3. change -> reload event
      await services.agentConfig.whenWatching(agentId);
      const reloadSamples: number[] = [];
      const debounce: number[] = [];
      const transport: number[] = [];
      const RELOADS = Number(process.env.BENCH_FILES_RELOADS ?? 20);
      for (let i = 0; i < RELOADS; i++) {
        const got = new Promise<{ reportedAt: Date; changedAt: Date; receivedAt: Date }>((resolve) => {
          const off = services.agentConfig.onReload((e) => {
            if (e.agentId !== agentId) return;
            off();
            resolve(e);
          });
        });
        const t = performance.now();
        await exec(`echo 'rule ${i}' > /workspace/CLAUDE.md`);
        const e = await got;
        reloadSamples.push(performance.now() - t);
        debounce.push(e.reportedAt.getTime() - e.changedAt.getTime());
        transport.push(e.receivedAt.getTime() - e.reportedAt.getTime());
      }
      const reload = stats(reloadSamples);

      // ------------------------------------------- 4. agent write -> files.onChange subscriber
      // ------------------------------------------- 5. line on the container's stdout -> logs.follow
      // (The Docker tests only bound these waits at 5 s; their latency is measured here.)
      const LIVE = Number(process.env.BENCH_FILES_LIVE ?? 20);
      await exec("mkdir -p /workspace/bench-watch");
      const watchIt = ((await caller.files.onChange({ ...ref, paths: ["/workspace/bench-watch"] })) as AsyncIterable<{ path: string }>)[Symbol.asyncIterator]();
      const followIt = ((await caller.logs.follow({ ...ref, tail: 0 })) as AsyncIterable<{ message: string }>)[Symbol.asyncIterator]();
      const nextWhere = async <T>(it: AsyncIterator<T>, pred: (x: T) => boolean) => {
        for (;;) {
          const r = await it.next();
          if (r.done) throw new Error("the subscription ended");
          if (pred(r.value)) return;
        }
      };
      const changeSamples: number[] = [];
      const logSamples: number[] = [];
      try {
        for (let i = 0; i < LIVE; i++) {
          const path = `/workspace/bench-watch/f-${i}.txt`;
          const seen = nextWhere(watchIt, (e) => e.path === path);
          let t = performance.now();
          await exec(`echo ${i} > ${path}`);
          await seen;
          changeSamples.push(performance.now() - t);
          const line = `bench-log-${i}`;
          const got = nextWhere(followIt, (l) => l.message === line);
          t = performance.now();
          await exec(`echo ${line} > /proc/1/fd/1`);
          await got;
          logSamples.push(performance.now() - t);
        }
      } finally {
        await watchIt.return?.();
        await followIt.return?.();
      }
      const change = stats(changeSamples);
      const follow = stats(logSamples);

      const goals: BenchGoal[] = [
        { name: "files.write+read 1 MiB over the API (p50)", value: api.total.p50, unit: "ms", goal: "p50 < 50 ms", met: api.total.p50 < 50 },
        { name: "files.write+read 1 MiB over the API (p99)", value: api.total.p99, unit: "ms", goal: "p99 < 50 ms", met: api.total.p99 < 50 },
        { name: "files.list 10,000 entries over the API (p50)", value: listApi.total.p50, unit: "ms", goal: "p50 < 100 ms", met: listApi.total.p50 < 100 },
        { name: "files: change -> agent-config-reloaded (p99)", value: reload.p99, unit: "ms", goal: "p99 < 1000 ms", met: reload.p99 < 1000 },
        { name: "files: agent write -> files.onChange subscriber (p99)", value: change.p99, unit: "ms", goal: "p99 < 1000 ms", met: change.p99 < 1000 },
        { name: "logs: line on the container's stdout -> logs.follow subscriber (p99)", value: follow.p99, unit: "ms", goal: "p99 < 1000 ms", met: follow.p99 < 1000 },
      ];
      const report = {
        writeRead1MiB: {
          runs: RUNS,
          apiHttp: api,
          trpcInProcess: inProcess,
          daemonRequest: daemon,
          baselineDockerExecCat: baseline,
          ratioApiToBaseline: ratio(api.total, baseline.total),
          readResultWire: { superjsonSerializeMs: readWire.serialize, superjsonParseMs: readWire.parse },
        },
        list10000: {
          runs: RUNS,
          apiHttp: listApi.total,
          trpcInProcess: listCaller.total,
          daemonRequest: listDaemon.total,
          baselineDockerExecFind: listExec.total,
          ratioApiToBaseline: ratio(listApi.total, listExec.total),
          wire: { bytes: wireBytes, superjsonSerializeMs: wire.serialize, superjsonParseMs: wire.parse },
        },
        changeToReloadEvent: { total: reload, daemonDebounce: stats(debounce), daemonToArmory: stats(transport), goal: "p99 < 1000 ms" },
        agentWriteToOnChange: { total: change, samples: LIVE, goal: "p99 < 1000 ms" },
        stdoutLineToLogsFollow: { total: follow, samples: LIVE, goal: "p99 < 1000 ms" },
      };
      const rows = [
        { measure: "files.write+read 1 MiB, API (HTTP+tRPC)", "p50 / p99": ms(api.total), baseline: `exec cat>file + exec cat ${ms(baseline.total)}`, "ratio/goal": `${report.writeRead1MiB.ratioApiToBaseline}x (goal < 50 ms)` },
        { measure: "  files.write 1 MiB, API", "p50 / p99": ms(api.write), baseline: `exec cat > file ${ms(baseline.write)}`, "ratio/goal": `${ratio(api.write, baseline.write)}x` },
        { measure: "  files.read 1 MiB, API", "p50 / p99": ms(api.read), baseline: `exec cat ${ms(baseline.read)}`, "ratio/goal": `${ratio(api.read, baseline.read)}x` },
        { measure: "  write+read, tRPC in-process (no HTTP)", "p50 / p99": ms(inProcess.total), baseline: "", "ratio/goal": "" },
        { measure: "  write+read, bare daemon requests", "p50 / p99": ms(daemon.total), baseline: `write ${ms(daemon.write)}, read ${ms(daemon.read)}`, "ratio/goal": "" },
        { measure: "  read result on the wire (1 MiB superjson)", "p50 / p99": `serialize ${ms(readWire.serialize)}`, baseline: `parse ${ms(readWire.parse)}`, "ratio/goal": "" },
        { measure: "files.list 10,000 entries, API (HTTP+tRPC)", "p50 / p99": ms(listApi.total), baseline: `exec find -printf ${ms(listExec.total)}`, "ratio/goal": `${report.list10000.ratioApiToBaseline}x (goal < 100 ms)` },
        { measure: "  files.list, tRPC in-process (no HTTP)", "p50 / p99": ms(listCaller.total), baseline: "", "ratio/goal": "" },
        { measure: "  fs.list, bare daemon request", "p50 / p99": ms(listDaemon.total), baseline: "", "ratio/goal": "" },
        { measure: `  list result on the wire (${(wireBytes / 2 ** 20).toFixed(1)} MiB superjson)`, "p50 / p99": `serialize ${ms(wire.serialize)}`, baseline: `parse ${ms(wire.parse)}`, "ratio/goal": "" },
        { measure: "change -> agent-config-reloaded", "p50 / p99": ms(reload), baseline: `debounce ${stats(debounce).p50.toFixed(0)} ms, daemon -> Armory ${stats(transport).p50.toFixed(0)} ms`, "ratio/goal": "p99 < 1000 ms" },
        { measure: "agent write -> files.onChange subscriber", "p50 / p99": ms(change), baseline: "", "ratio/goal": "p99 < 1000 ms" },
        { measure: "stdout line -> logs.follow subscriber", "p50 / p99": ms(follow), baseline: "", "ratio/goal": "p99 < 1000 ms" },
      ];
      return { report, rows, goals };
    } finally {
      await http.close();
      await services.close();
      await removeProjectDockerObjects(projectId);
    }
  },
};

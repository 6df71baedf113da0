// Bench section "fairness" (issue 12, item 7): one user floods Armory with 300 calls at a time
// (15 batches of 20, plus a 300-procedure batch that is refused with 413), while another user's
// calls are timed: their p50/p99 under that load against the same calls with no load, in the same
// run. Goal: the other user's p99 under load stays under FAIR_P99_GOAL_MS.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/server/config";
import { openDatabase } from "../../src/server/db";
import { Worker } from "node:worker_threads";
import { createLogger } from "../../src/server/logger";
import { createServices } from "../../src/server/services";
import { startHttp } from "../../tests/support/http-server";
import { signedUpClient } from "./client";
import type { BenchSection } from "./sections";
import { sample, stats } from "./stats";

const ITER = Math.min(Number(process.env.BENCH_ITERATIONS ?? 300), 200);
const FAIR_P99_GOAL_MS = 250;

/** The heavy user's client: plain fetch in a worker thread, reporting its counts when told to stop. */
const FLOOD_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { url, cookie } = workerData;
let stop = false;
parentPort.on("message", () => { stop = true; });
const input = encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i, { json: null }]))));
const batch20 = url + "/api/trpc/" + Array(20).fill("project.list").join(",") + "?batch=1&input=" + input;
const batch300 = url + "/api/trpc/" + Array(300).fill("project.list").join(",") + "?batch=1&input=%7B%7D";
let served = 0, failed = 0, refused = 0, lastError = null;
(async () => {
  while (!stop) {
    const round = [fetch(batch300, { headers: { cookie } }).then(async (r) => { await r.arrayBuffer(); if (r.status === 413) refused++; })];
    for (let i = 0; i < 15; i++) {
      round.push(fetch(batch20, { headers: { cookie } }).then(async (r) => {
        const body = await r.json();
        if (r.status === 200) served += body.length; else { failed += 20; lastError = "HTTP " + r.status; }
      }, (err) => { failed += 20; lastError = String(err && err.cause ? err.cause.message : err); }));
    }
    await Promise.all(round);
  }
  parentPort.postMessage({ served, failed, refused, lastError });
})();
`;

/** BENCH_FAIR_GATES=off measures without the per-caller gates (for comparison). */
const gates: Record<string, string> =
  process.env.BENCH_FAIR_GATES === "off" ? { ARMORY_MAX_CONCURRENT_REQUESTS_PER_USER: "10000", ARMORY_MAX_CONCURRENT_CALLS_PER_USER: "10000" } : {};

export const fairnessBench: BenchSection = {
  name: "fairness",
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "armory-bench-fair-"));
    const db = await openDatabase({ pgliteDir: dir });
    const services = await createServices({
      config: loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", ARMORY_SIGN_IN_RATE_LIMIT: "10000", ARMORY_SIGN_UP: "open", ARMORY_DATA_DIR: dir, ...gates }),
      db,
      log: createLogger({ level: "silent", format: "json" }),
      authSecret: "bench-secret-bench-secret-bench-secret-0123",
    });
    const http = await startHttp(() => services);
    try {
      const heavy = await signedUpClient(http.url, `bench-heavy-${Date.now()}@example.test`);
      const light = await signedUpClient(http.url, `bench-light-${Date.now()}@example.test`);
      for (let i = 0; i < 20; i++) await heavy.trpc.project.create.mutate({ name: `Heavy ${i}` });
      for (let i = 0; i < 5; i++) await light.trpc.project.create.mutate({ name: `Light ${i}` });
      const lightCall = () => light.trpc.project.list.query();

      const idle = stats(await sample(ITER, lightCall));

      // The flood, from a worker thread (its own event loop, so the client's work does not land on
      // the server's): rounds of 300 calls from the heavy user (15 batches of 20 and one batch of
      // 300, refused) until the light user's samples are taken.
      const flood = new Worker(FLOOD_WORKER, { eval: true, workerData: { url: http.url, cookie: heavy.cookie } });
      const floodReport = new Promise<{ served: number; failed: number; refused: number; lastError: string | null }>((resolve, reject) => {
        flood.once("message", resolve);
        flood.once("error", reject);
      });
      await new Promise<void>((resolve) => flood.once("online", () => resolve()));
      const loaded = stats(await sample(ITER, lightCall, 5));
      flood.postMessage("stop");
      const { served: floodCalls, failed: floodErrors, refused: refusedBatches, lastError: lastFloodError } = await floodReport;
      await flood.terminate();

      const report = {
        otherUserIdle: idle,
        otherUserUnder300CallFlood: loaded,
        floodCallsServed: floodCalls,
        floodCallsFailed: floodErrors,
        lastFloodError,
        oversizedBatchesRefused: refusedBatches,
        p99Ratio: Math.round((loaded.p99 / Math.max(0.001, idle.p99)) * 100) / 100,
        goal: `other user's p99 under the flood < ${FAIR_P99_GOAL_MS} ms`,
        goalMet: loaded.p99 < FAIR_P99_GOAL_MS,
      };
      const fmt = (s: { p50: number; p99: number }) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} ms`;
      return {
        report,
        goals: [
          { name: "fairness: another user's project.list p99 under a 300-call flood", value: loaded.p99, unit: "ms", goal: `< ${FAIR_P99_GOAL_MS} ms (no flood: ${idle.p99.toFixed(1)} ms)`, met: report.goalMet },
        ],
        rows: [
          {
            measure: "another user's project.list under a 300-call flood (HTTP)",
            "p50 / p99": fmt(loaded),
            baseline: `no flood ${fmt(idle)}`,
            "ratio/goal": `p99 ${report.p99Ratio}x (goal p99 < ${FAIR_P99_GOAL_MS} ms: ${report.goalMet ? "met" : "not met"}); ${floodCalls} flood calls served, ${refusedBatches} 300-batches refused`,
          },
        ],
      };
    } finally {
      await http.close();
      await services.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

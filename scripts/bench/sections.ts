// Further `npm run bench` sections, one module per area (scripts/bench/<area>.ts). Each runs on
// its own (its own database, Armory instance and Docker objects, cleaned up afterwards) and
// returns its JSON report plus the rows it wants printed. Register a section with one line below.
import { trustBench } from "./trust";
import { versionsBench } from "./versions";
import { filesBench } from "./files";
import { healthBench } from "./health";
import { chatBench } from "./chat";
import { fairnessBench } from "./fairness";
import { armorydBench } from "./armoryd";
import { approvalsBench } from "./approvals";
import { storeBench } from "./store";
import { serverBench } from "./server";
import { fleetBench } from "./fleet";

/** One entry of results.json's closing `goals` array. */
export interface BenchGoal {
  name: string;
  value: number;
  unit: string;
  /** The goal as a sentence, e.g. "p99 < 250 ms". */
  goal: string;
  met: boolean;
}

export interface BenchSectionResult {
  /** Goes into bench/results.json under the section's name. */
  report: unknown;
  /** The section's speed goals, measured in this run (collected into results.json's `goals`). */
  goals?: BenchGoal[];
  /** Printed with console.table: measure, "p50 / p99", baseline, ratio/goal, as strings. */
  rows: Record<string, string>[];
}

export interface BenchSection {
  name: string;
  run: () => Promise<BenchSectionResult>;
}

export const BENCH_SECTIONS: BenchSection[] = [
  trustBench,
  versionsBench,
  filesBench,
  healthBench,
  chatBench,
  fairnessBench,
  armorydBench,
  approvalsBench,
  storeBench,
  serverBench,
  fleetBench,
];

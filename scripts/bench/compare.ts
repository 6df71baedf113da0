// `npm run bench -- --compare old.json`: the change of every goal figure between an earlier
// bench/results.json and this run's (or, with a second file, between two saved reports without
// running anything: `npm run bench -- --compare old.json new.json`). Figures are matched by name.
import fs from "node:fs";
import type { BenchGoal } from "./sections";

export function goalsOf(file: string): BenchGoal[] {
  const report = JSON.parse(fs.readFileSync(file, "utf8")) as { goals?: BenchGoal[] };
  if (!Array.isArray(report.goals)) throw new Error(`${file} has no goals array: is it a bench/results.json?`);
  return report.goals;
}

export interface GoalChange {
  name: string;
  unit: string;
  goal: string;
  before: number | null;
  after: number | null;
  /** after / before - 1, in percent (null when either is missing or before is 0). */
  changePercent: number | null;
  met: string;
}

export function compareGoals(before: BenchGoal[], after: BenchGoal[]): GoalChange[] {
  const old = new Map(before.map((g) => [g.name, g]));
  const rows: GoalChange[] = after.map((g) => {
    const o = old.get(g.name);
    old.delete(g.name);
    const change = o && o.value !== 0 ? Math.round((g.value / o.value - 1) * 1000) / 10 : null;
    return { name: g.name, unit: g.unit, goal: g.goal, before: o?.value ?? null, after: g.value, changePercent: change, met: `${o ? (o.met ? "yes" : "no") : "-"} -> ${g.met ? "yes" : "no"}` };
  });
  for (const o of old.values()) rows.push({ name: o.name, unit: o.unit, goal: o.goal, before: o.value, after: null, changePercent: null, met: `${o.met ? "yes" : "no"} -> -` });
  return rows;
}

export function printComparison(oldFile: string, before: BenchGoal[], newFile: string, after: BenchGoal[]): void {
  const rows = compareGoals(before, after);
  process.stdout.write(`\nchange per figure: ${oldFile} -> ${newFile}\n`);
  console.table(
    rows.map((r) => ({
      figure: r.name,
      before: r.before === null ? "-" : `${r.before} ${r.unit}`,
      after: r.after === null ? "-" : `${r.after} ${r.unit}`,
      change: r.changePercent === null ? "" : `${r.changePercent > 0 ? "+" : ""}${r.changePercent}%`,
      goal: r.goal,
      met: r.met,
    })),
  );
}

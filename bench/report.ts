// Benchmark results: one shape for every workload, printed as a table and written as JSON.
import { writeFile } from "node:fs/promises";

export interface BenchResult {
  name: string;
  parameters: Record<string, unknown>;
  /** Latency figures (…Us) or throughput (requestsPerSecond); null when the workload could not run. */
  measured: Record<string, unknown> | null;
  /** What `measured` is compared against (the no-op RPC, the bare selector). */
  baseline?: Record<string, unknown>;
  /** measured / baseline, as the goal states it. */
  ratio?: number;
  goal: string;
  pass: boolean;
  /** Why a workload was skipped, or anything to read alongside the figures. */
  note?: string;
}

function formatFigures(figures: Record<string, unknown> | null | undefined): string {
  if (!figures) return "-";
  if (typeof figures.requestsPerSecond === "number") {
    const rate = `${Math.round(figures.requestsPerSecond).toLocaleString("en-US")} req/s`;
    return typeof figures.serverCpuUsPerCall === "number" ? `${rate}, server CPU ${figures.serverCpuUsPerCall} µs/call` : rate;
  }
  if (typeof figures.p99Us === "number") return `p50 ${figures.p50Us} µs  p99 ${figures.p99Us} µs  mean ${figures.meanUs} µs`;
  return JSON.stringify(figures);
}

export function printTable(results: readonly BenchResult[]): void {
  const header = ["benchmark", "measured", "baseline", "ratio", "goal", "pass"];
  const rows = results.map((r) => [
    r.name,
    formatFigures(r.measured),
    formatFigures(r.baseline),
    r.ratio === undefined ? "-" : r.ratio.toFixed(3),
    r.goal,
    r.measured === null ? "SKIP" : r.pass ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join("  ").trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  const notes = results.filter((r) => r.note !== undefined);
  if (notes.length > 0) {
    console.log("");
    for (const r of notes) console.log(`note: ${r.name}: ${r.note}`);
  }
}

export async function writeResults(results: readonly BenchResult[], file: string): Promise<void> {
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}

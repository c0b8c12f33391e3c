// npm run bench: routing benchmarks. They measure and print; goals missed are reported, not failed.
// Traffic goes to 127.0.0.1 only; every loop is bounded by a count and by wall time.
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./children.js";
import { printTable, writeResults, type BenchResult } from "./report.js";
import { benchDiscovery } from "./discovery.js";
import { benchForwarding } from "./forwarding.js";
import { benchRouteRpc } from "./route-rpc.js";
import { benchSelection } from "./selection.js";

const progress = (line: string): void => console.error(`  ${line}`);

/** `npm run bench -- selection` (or `rpc`, `forwarding`, `discovery`) runs one workload; no argument runs them all. */
const WORKLOADS = ["selection", "rpc", "forwarding", "discovery"] as const;

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(WORKLOADS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown workload ${unknown.join(", ")}: choose from ${WORKLOADS.join(", ")}`);
  const runs = (name: (typeof WORKLOADS)[number]): boolean => wanted.length === 0 || wanted.includes(name);
  const started = performance.now();
  console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`);
  const results: BenchResult[] = [];
  if (runs("selection")) results.push(...benchSelection(progress));
  if (runs("rpc")) results.push(...(await benchRouteRpc(progress)));
  if (runs("forwarding")) results.push(...(await benchForwarding(progress)));
  if (runs("discovery")) results.push(...(await benchDiscovery(progress)));
  console.log("");
  printTable(results);
  const file = join(REPO_ROOT, "bench", "results.json");
  // A run of one workload replaces that workload's figures and keeps the others'.
  const kept = wanted.length === 0 ? [] : (await previousResults(file)).filter((old) => !results.some((r) => r.name === old.name));
  await writeResults([...kept, ...results], file);
  console.log(`\n${results.length} results in bench/results.json; ${Math.round((performance.now() - started) / 1_000)} s in all`);
}

async function previousResults(file: string): Promise<BenchResult[]> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as BenchResult[];
  } catch {
    return [];
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

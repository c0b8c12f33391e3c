// npm run bench: routing benchmarks. They measure and print; goals missed are reported, not failed.
// Traffic goes to 127.0.0.1 only; every loop is bounded by a count and by wall time.
import { cpus } from "node:os";
import { printTable, writeResults, type BenchResult } from "./report.js";
import { benchRouteRpc } from "./route-rpc.js";
import { benchSelection } from "./selection.js";

const progress = (line: string): void => console.error(`  ${line}`);

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`);
  const results: BenchResult[] = [];
  results.push(...benchSelection(progress));
  results.push(...(await benchRouteRpc(progress)));
  console.log("");
  printTable(results);
  const file = new URL("./results.json", import.meta.url);
  await writeResults(results, file);
  console.log(`\n${results.length} results in bench/results.json; ${Math.round((performance.now() - started) / 1_000)} s in all`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

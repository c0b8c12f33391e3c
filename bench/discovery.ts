// Workload 4: discovery of 100 and 1,000 TLS orchestrators (served by a child process): the first sweep's wall time,
// a steady-state refresh's CPU time, and the gateway's resident memory; then the memory of an index of 10,000
// orchestrators (a synthetic network, as the selection benchmark builds it).
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Discovery } from "../src/discovery/discovery.js";
import { StaticSource } from "../src/discovery/sources.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { silentLogger } from "../src/log.js";
import { OrchestratorClientPool } from "../src/orchestrator/orchestrator-client.js";
import type { BenchResult } from "./report.js";
import { round } from "./stats.js";
import { syntheticNetwork } from "./synthetic-network.js";

const SIZES = (process.env.BENCH_DISCOVERY_SIZES ?? "100,1000").split(",").map(Number);
const GOAL_FIRST_SWEEP_MS = 3_000; // at 1,000
const GOAL_REFRESH_CPU_MS = 1_000; // at 1,000
const GOAL_RSS_MB = 250; // with 10,000 indexed
const START_TIMEOUT_MS = 180_000;

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

async function startOrchestrators(count: number): Promise<{ uris: string[]; stop(): void }> {
  const child = fork(fileURLToPath(new URL("./discovery-orchestrators.ts", import.meta.url)), [String(count)], {
    execArgv: ["--import", import.meta.resolve("tsx")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const uris = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${count} orchestrators did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once("message", (message: { uris: string[] }) => {
      clearTimeout(timer);
      resolve(message.uris);
    });
    child.once("exit", (code) => reject(new Error(`the orchestrators' process exited (${code})`)));
  });
  return { uris, stop: () => child.disconnect() };
}

async function sweep(count: number, progress: (line: string) => void): Promise<BenchResult> {
  const orchestrators = await startOrchestrators(count);
  const clients = new OrchestratorClientPool();
  const discovery = new Discovery(
    { source: new StaticSource(orchestrators.uris), clients, signer: offchainIdentity(), logger: silentLogger() },
    { concurrency: 64 },
  );
  try {
    const rssBefore = process.memoryUsage().rss;
    let cpu = process.cpuUsage();
    let started = performance.now();
    const first = await discovery.refreshNow();
    const firstMs = performance.now() - started;
    const firstCpu = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    started = performance.now();
    const second = await discovery.refreshNow();
    const refreshMs = performance.now() - started;
    const refreshCpu = process.cpuUsage(cpu);
    const rss = process.memoryUsage().rss;
    const usable = second.usableOrchestrators().length;
    progress(`discovery: ${count} orchestrators: first sweep ${Math.round(firstMs)} ms, refresh ${Math.round(refreshMs)} ms, ${usable} usable`);
    const measured = {
      firstSweepMs: Math.round(firstMs),
      firstSweepCpuMs: Math.round((firstCpu.user + firstCpu.system) / 1_000),
      refreshMs: Math.round(refreshMs),
      refreshCpuMs: Math.round((refreshCpu.user + refreshCpu.system) / 1_000),
      rssMb: mb(rss),
      rssGrowthMb: mb(rss - rssBefore),
      usable,
      usableAfterFirstSweep: first.usableOrchestrators().length,
    };
    const pass = count < 1_000 || (measured.firstSweepMs <= GOAL_FIRST_SWEEP_MS && measured.refreshCpuMs <= GOAL_REFRESH_CPU_MS && usable === count);
    return {
      name: `Discovery of ${count.toLocaleString("en-US")} TLS orchestrators`,
      parameters: { orchestrators: count, concurrency: 64, orchestratorsIn: "one child process" },
      measured,
      goal: count >= 1_000 ? `first sweep <= ${GOAL_FIRST_SWEEP_MS / 1_000} s wall; refresh <= ${GOAL_REFRESH_CPU_MS / 1_000} s CPU` : "report",
      pass,
      ...(usable < count ? { note: `${count - usable} orchestrators were not usable after the second sweep` } : {}),
    };
  } finally {
    await discovery.stop();
    clients.close();
    orchestrators.stop();
  }
}

function indexMemory(progress: (line: string) => void): BenchResult {
  global.gc?.();
  const before = process.memoryUsage();
  const network = syntheticNetwork({ orchestrators: 10_000 });
  global.gc?.();
  const after = process.memoryUsage();
  progress(`discovery: 10,000 orchestrators indexed: RSS ${mb(after.rss)} MB`);
  return {
    name: "Memory with 10,000 orchestrators indexed",
    parameters: { orchestrators: 10_000, offers: network.offers },
    measured: { rssMb: mb(after.rss), heapUsedMb: mb(after.heapUsed), heapGrowthMb: mb(after.heapUsed - before.heapUsed) },
    goal: `RSS <= ${GOAL_RSS_MB} MB`,
    pass: after.rss <= GOAL_RSS_MB * 1024 * 1024,
  };
}

export async function benchDiscovery(progress: (line: string) => void): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const size of SIZES) results.push(await sweep(size, progress));
  results.push(indexMemory(progress));
  return results;
}

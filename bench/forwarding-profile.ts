// Diagnostic, not part of `npm run bench`: where the CPU of one forwarded BYOC job goes, per process.
//
//   npx tsx bench/forwarding-profile.ts [concurrency=16] [jobs=6000] [--profile DIR] [--profile-children]
//
// Runs the forwarding benchmark's three processes (simulated orchestrators, load generator, gateway in this process),
// sends `jobs` jobs straight to the orchestrator and then through the gateway, and prints for each run the
// throughput and the CPU per job of every process (read from /proc/<pid>/stat, so the orchestrator's is counted
// too). With --profile, the gateway's measured run is CPU-profiled (node:inspector) into DIR; with
// --profile-children the two children run with --cpu-prof into DIR as well. Summarise a profile with
// bench/cpuprofile-summary.ts. Traffic stays on 127.0.0.1; every run is bounded by a count and by time.
import type { ChildProcess } from "node:child_process";
import { forkScript, nextMessage } from "./children.js";
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { parseConfig } from "../src/config.js";
import { startGateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { encodeOrchestratorJobHeader, parseClientJobRequest } from "../src/orchestrator/byoc-job-request.js";
import { ZeroAddress } from "ethers/constants";
import { BENCH_CAPABILITY } from "./byoc-bench-network.js";
import type { JobLoadRequest, JobLoadResult } from "./byoc-load.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1] === "--profile"));
const concurrency = Number(positional[0] ?? 16);
const jobs = Number(positional[1] ?? 6_000);
const profileDir = flag("--profile");
const profileChildren = args.includes("--profile-children");
const MAX_MS = 20_000;

function forkChild(file: string, name: string): ChildProcess {
  const profiling = profileChildren && profileDir !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}/${name}`] : [];
  return forkScript(file, [], profiling);
}

/** utime + stime of a process in µs (Linux). */
function cpuOfPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / 100; // CLK_TCK is 100 on Linux
}

const orchestrators = forkChild("./byoc-orchestrators.ts", "orchestrators");
const load = forkChild("./byoc-load.ts", "load");
let nextId = 1;
async function runLoad(target: string, header: string, count: number): Promise<JobLoadResult> {
  const id = nextId++;
  const answer = nextMessage(load, (m): m is { id: number; result: JobLoadResult } => (m as { id?: number }).id === id, MAX_MS + 30_000, "load run");
  const request: JobLoadRequest = { id, target, livepeerHeader: header, concurrency, count, maxMs: MAX_MS };
  load.send(request);
  return (await answer).result;
}

try {
  const network = await nextMessage(orchestrators, (m): m is { uris: string[]; serviceUris: string[] } => Array.isArray((m as { uris?: unknown }).uris), MAX_MS + 30_000, "orchestrators start");
  const gateway = await startGateway(
    parseConfig([
      "-orchAddr", network.uris.join(","), "-httpAddr", "127.0.0.1:0", "-cliAddr", "off",
      "-rankingWeights", "latency=0,price=1,reliability=0", "-logLevel", "silent",
    ]),
    silentLogger(),
  );
  await gateway.discovery.refreshNow();
  const header = Buffer.from(JSON.stringify({ request: "{}", parameters: "{}", capability: BENCH_CAPABILITY, timeout_seconds: 30 })).toString("base64");
  const direct = network.serviceUris[0] as string;
  // As in forwarding.ts: straight to the orchestrator, the job carries the header the gateway would send
  // (--client-header-direct: the client's shorter header instead, as the benchmark did before).
  const directHeader = args.includes("--client-header-direct")
    ? header
    : await encodeOrchestratorJobHeader(parseClientJobRequest(header), { address: ZeroAddress });
  const gatewayUrl = gateway.servers.api.url;
  const pids = { client: load.pid as number, gateway: process.pid, orchestrator: orchestrators.pid as number };
  const measure = async (label: string, target: string, profile: boolean) => {
    const session = profile ? new Session() : undefined;
    if (session !== undefined) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
    }
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOfPid(pid)]));
    const result = await runLoad(target, target === direct ? directHeader : header, jobs);
    const after = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOfPid(pid)]));
    if (session !== undefined && profileDir !== undefined) {
      const { profile: cpuProfile } = await session.post("Profiler.stop");
      mkdirSync(profileDir, { recursive: true });
      writeFileSync(`${profileDir}/gateway-c${concurrency}.cpuprofile`, JSON.stringify(cpuProfile));
      session.disconnect();
    }
    const perJob = Object.fromEntries(Object.keys(pids).map((k) => [k, Math.round(((after[k] as number) - (before[k] as number)) / Math.max(1, result.ok))]));
    const rps = Math.round(result.ok / (result.elapsedMs / 1_000));
    console.log(
      `${label.padEnd(8)} c=${concurrency} ok=${result.ok} err=${result.errors} ${rps} req/s p50=${Math.round(result.latency.p50Us)}µs p99=${Math.round(result.latency.p99Us)}µs ` +
        `cpu µs/job: client ${perJob.client} gateway ${perJob.gateway} orchestrator ${perJob.orchestrator} total ${Object.values(perJob).reduce((a, b) => a + b, 0)}` +
        (result.firstError ? ` first error: ${result.firstError}` : ""),
    );
    return rps;
  };
  await measure("warm-d", direct, false);
  await measure("warm-g", gatewayUrl, false);
  for (let round = 0; round < 2; round++) {
    const d = await measure("direct", direct, false);
    const g = await measure("gateway", gatewayUrl, round === 1 && profileDir !== undefined);
    console.log(`ratio ${(g / d).toFixed(3)}`);
  }
  await gateway.close();
} finally {
  load.disconnect();
  orchestrators.disconnect();
}

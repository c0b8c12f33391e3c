// Diagnostic for workload 4: one discovery of N TLS orchestrators (default 1,000) with the V8 CPU profiler running in
// the gateway (this process) and in the orchestrators' child process, around the first sweep and then around a
// refresh, so that start-up is left out. Writes four .cpuprofile files; summarise them with
// bench/cpuprofile-summary.ts.
//
//   npx tsx bench/discovery-profile.ts [count=1000] [outDir=<os tmpdir>/discovery-profile] [concurrency=64]
//
// outDir "-" measures the same way without profiling.
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Discovery } from "../src/discovery/discovery.js";
import { StaticSource } from "../src/discovery/sources.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { silentLogger } from "../src/log.js";
import { OrchestratorClientPool } from "../src/orchestrator/orchestrator-client.js";
import { startOrchestrators } from "./discovery.js";

const count = Number(process.argv[2] ?? "1000");
const outDir = process.argv[3] ?? join(tmpdir(), "discovery-profile");
const concurrency = Number(process.argv[4] ?? "64");
const profiling = outDir !== "-";
if (profiling) await mkdir(outDir, { recursive: true });

const orchestrators = await startOrchestrators(count);
const clients = new OrchestratorClientPool();
const discovery = new Discovery(
  { source: new StaticSource(orchestrators.uris), clients, signer: offchainIdentity(), logger: silentLogger() },
  { concurrency },
);
const session = new Session();
session.connect();
await session.post("Profiler.enable");

async function profiled(name: string, run: () => Promise<unknown>): Promise<void> {
  if (profiling) {
    await orchestrators.ask({ profile: "start" }, "profiling");
    await session.post("Profiler.start");
  }
  const cpu = process.cpuUsage();
  const orchestratorsCpu = await orchestrators.cpuMs();
  const started = performance.now();
  await run();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const orchestratorsCpuMs = (await orchestrators.cpuMs()) - orchestratorsCpu;
  if (profiling) {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(join(outDir, `${name}-gateway.cpuprofile`), JSON.stringify(profile));
    await orchestrators.ask({ profile: "stop", file: join(outDir, `${name}-orchestrators.cpuprofile`) }, "profiled");
  }
  console.log(
    `${name}: ${Math.round(wallMs)} ms wall, gateway ${Math.round((used.user + used.system) / 1_000)} ms CPU, orchestrators ${Math.round(orchestratorsCpuMs)} ms CPU`,
  );
}

try {
  await profiled("first", () => discovery.refreshNow());
  await profiled("refresh", () => discovery.refreshNow());
  console.log(`usable: ${discovery.snapshot.usableOrchestrators().length} of ${count}${profiling ? `; profiles in ${outDir}` : ""}`);
} finally {
  session.disconnect();
  await discovery.stop();
  clients.close();
  orchestrators.stop();
}

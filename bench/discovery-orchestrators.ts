// Child process of the discovery benchmark: `count` simulated orchestrators (TLS gRPC and BYOC HTTPS servers, each
// with its own certificate) in one process, so the gateway under test runs alone in the parent. Sends { uris } once
// listening; answers { cpu } (its process.cpuUsage()) to { cpu: true }; on { profile: "start" } starts the V8 CPU
// profiler and on { profile: "stop", file } writes what it recorded to `file`, answering { profiled: file } (for
// bench/discovery-profile.ts); exits when the parent disconnects.
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { startDevnet } from "../src/devnet/network.js";
import { DEFAULT_DEVNET_SPECS } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";

const count = Number(process.argv[2] ?? "100");
// The default devnet's four kinds of orchestrator, repeated: each one's AI models cost a price quote per refresh.
const specs: SimulatedOrchestratorSpec[] = Array.from({ length: count }, (_, i) => {
  const base = DEFAULT_DEVNET_SPECS[i % DEFAULT_DEVNET_SPECS.length] as SimulatedOrchestratorSpec;
  return { ...base, name: `${base.name}-${i}` };
});
// BENCH_DISCOVERY_H2C=1 (diagnostic): plaintext HTTP/2, to tell the cost of TLS from the rest.
const devnet = await startDevnet({ specs, admin: false, tls: process.env.BENCH_DISCOVERY_H2C !== "1" });
process.send?.({ uris: devnet.uris });
// The parent asks for this process's CPU time around each sweep, to tell the gateway's cost from the orchestrators'.
let profiler: Session | undefined;
process.on("message", (message: { cpu?: boolean; profile?: "start" | "stop"; file?: string }) => {
  if (message.cpu) process.send?.({ cpu: process.cpuUsage() });
  if (message.profile === "start") void startProfiling().then(() => process.send?.({ profiling: true }));
  if (message.profile === "stop" && message.file) void stopProfiling(message.file).then(() => process.send?.({ profiled: message.file }));
});

async function startProfiling(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.start");
}

async function stopProfiling(file: string): Promise<void> {
  if (!profiler) return;
  const { profile } = await profiler.post("Profiler.stop");
  profiler.disconnect();
  profiler = undefined;
  await writeFile(file, JSON.stringify(profile));
}
process.on("disconnect", () => {
  void devnet.close().then(() => process.exit(0));
});

// Diagnostic, not part of `npm run bench`: where the CPU of a Route call goes next to a no-op Ping, on the server and
// in the client, over one transport of the RPC benchmark (workload 2).
//
//   npx tsx bench/route-profile.ts [transport="gRPC (@grpc/grpc-js)"] [concurrency=64] [--profile DIR]
//
// Starts the gateway on the simulated network in this process, and for each RPC the benchmark's load generator
// (rpc-load.ts) as a child of its own; runs the RPC for 3 s after a warm-up, and prints calls/s and the CPU per call
// of server and client. With --profile, the server's run is CPU-profiled (node:inspector) into
// DIR/server-<rpc>.cpuprofile and the client runs with --cpu-prof into DIR/client-<rpc>/; summarise them with
// bench/cpuprofile-summary.ts. Run it compiled (npx tsc -p tsconfig.bench.json, then node dist-bench/bench/...)
// for the profile `npm run bench` measures: under tsx every function carries a naming wrapper.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { parseConfig } from "../src/config.js";
import { startGateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { LoadGenerator, measure, type LoadTarget, type RpcName } from "./route-rpc.js";

const args = process.argv.slice(2);
const profileAt = args.indexOf("--profile");
const profileDir = profileAt < 0 ? undefined : args[profileAt + 1];
const positional = args.filter((_, i) => profileAt < 0 || (i !== profileAt && i !== profileAt + 1));
const transport = (positional[0] ?? "gRPC (@grpc/grpc-js)") as LoadTarget;
const concurrency = Number(positional[1] ?? 64);
const RUN_MS = 3_000;
const MAX_CALLS = 200_000;

const gateway = await startGateway(parseConfig(["-devnet", "-httpAddr", "127.0.0.1:0", "-cliAddr", "off"]), silentLogger());
try {
  await gateway.discovery.refreshNow();
  const url = gateway.servers.api.url;
  for (const rpc of ["Route", "Ping"] as const satisfies readonly RpcName[]) {
    const clientFlags = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, `client-${rpc}`)}`];
    // The two other targets of the load generator are not called here: the gateway's URL stands in for them.
    const load = new LoadGenerator(url, url, url, clientFlags);
    try {
      await load.run({ transport, rpc, concurrency, durationMs: 500, maxCalls: MAX_CALLS });
      const session = profileDir === undefined ? undefined : new Session();
      if (session !== undefined) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: 200 });
        await session.post("Profiler.start");
      }
      const run = await measure(load, { transport, rpc, concurrency, durationMs: RUN_MS, maxCalls: MAX_CALLS });
      if (session !== undefined && profileDir !== undefined) {
        const { profile } = await session.post("Profiler.stop");
        mkdirSync(profileDir, { recursive: true });
        writeFileSync(join(profileDir, `server-${rpc}.cpuprofile`), JSON.stringify(profile));
        session.disconnect();
      }
      console.log(
        `${rpc.padEnd(5)} ${transport}, ${concurrency} in flight: ${Math.round(run.requestsPerSecond)} calls/s, ` +
          `CPU per call: server ${Math.round(run.serverCpuUsPerCall)} µs, client ${Math.round(run.clientCpuUsPerCall)} µs` +
          (run.errors > 0 ? `, ${run.errors} errors (first: ${run.firstError})` : ""),
      );
    } finally {
      load.close();
    }
  }
} finally {
  await gateway.close();
}

// Diagnostic, not part of `npm run bench`: what GetNetworkCapabilities and go-livepeer's /getNetworkCapabilities
// cost per call with N orchestrators indexed (default 1,000, answered by the memory benchmark's synthetic
// orchestrators in a child process): the time to the gRPC encoding, to the Connect JSON encoding and to go-livepeer's
// JSON body, and the longest the event loop was held meanwhile; three calls on one snapshot, so the first call and the
// ones answered from what the snapshot already has show apart. With --expose-gc, the memory the listings keep (heap
// and buffers, after full GCs), after those calls and after a listing per capability. Then what connect-node's own
// JSON encoding of the same answer costs (what every Connect JSON call paid before the fast path,
// src/api/connect-unary.ts), and the first calls on the next sweep's snapshot.
//
//   npx tsx bench/network-capabilities-cost.ts [count=1000]
//   node --expose-gc --import tsx bench/network-capabilities-cost.ts [count=1000]
import { monitorEventLoopDelay } from "node:perf_hooks";
import { networkCapabilitiesBody } from "../src/api/http-routes.js";
import { getNetworkCapabilities } from "../src/api/network-capabilities.js";
import { toJsonString } from "@bufbuild/protobuf";
import { encodeAnswer, encodeJsonAnswer } from "../src/api/reusable-answers.js";
import { Discovery } from "../src/discovery/discovery.js";
import { StaticSource } from "../src/discovery/sources.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { GetNetworkCapabilitiesResponseSchema } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { silentLogger } from "../src/log.js";
import type { NetworkSnapshot } from "../src/network/snapshot.js";
import { canCollect, settledMemory } from "./settled-memory.js";
import { ChildProcessOrchestrators } from "./synthetic-orchestrators.js";

const count = Number(process.argv[2] ?? "1000");
const answering = new ChildProcessOrchestrators(count);
const discovery = new Discovery(
  { source: new StaticSource(answering.uris), clients: answering, signer: offchainIdentity(), logger: silentLogger() },
  { staleAfterMs: 60 * 60_000 },
);
/** How long `run` took, the longest the event loop was held meanwhile, and the size of what it made. */
async function timed(run: () => Promise<number>): Promise<string> {
  const held = monitorEventLoopDelay({ resolution: 1 });
  held.enable();
  // It counts from its first tick: let that come before the work, and one more after it, so a hold shows.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const started = performance.now();
  const bytes = await run();
  const tookMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 5));
  held.disable();
  return `${tookMs.toFixed(1)} ms (event loop held at most ${(held.max / 1e6).toFixed(1)} ms), ${(bytes / 1e6).toFixed(1)} MB`;
}

/** Heap plus buffers in use once garbage is collected, in MB. */
async function inUseMb(): Promise<number> {
  const usage = await settledMemory();
  return (usage.heapUsed + usage.external) / 1e6;
}

/** One call of each listing of every usable orchestrator on `snapshot`, timed: gRPC, Connect JSON, go-livepeer JSON. */
async function listingsOf(snapshot: NetworkSnapshot): Promise<string> {
  const request = { capability: "", includeUnreachable: false };
  const grpc = await timed(async () => encodeAnswer(GetNetworkCapabilitiesResponseSchema, await getNetworkCapabilities(snapshot, request)).length);
  const connectJson = await timed(async () => (await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, await getNetworkCapabilities(snapshot, request))).length);
  const json = await timed(async () => (await networkCapabilitiesBody(snapshot)).length);
  return `GetNetworkCapabilities for gRPC ${grpc}; for Connect JSON ${connectJson}; go-livepeer JSON ${json}`;
}

/**
 * A listing per capability, in both formats. In a function of its own: a variable of a loop that awaits stays in the
 * async function's context after the loop, and would keep the last answer's encodings in the reading.
 */
async function listEveryCapability(snapshot: NetworkSnapshot): Promise<void> {
  for (const capability of snapshot.capabilities()) {
    const filtered = await getNetworkCapabilities(snapshot, { capability, includeUnreachable: false });
    encodeAnswer(GetNetworkCapabilitiesResponseSchema, filtered);
    await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, filtered);
  }
}

try {
  const snapshot = await discovery.refreshNow();
  const indexOnly = await inUseMb();
  for (let call = 1; call <= 3; call++) console.log(`call ${call}: ${await listingsOf(snapshot)}`);
  if (canCollect) {
    const afterCalls = await inUseMb();
    await listEveryCapability(snapshot);
    const afterFiltered = await inUseMb();
    console.log(
      `memory the listings keep: ${(afterCalls - indexOnly).toFixed(0)} MB after the calls above, ` +
        `${(afterFiltered - indexOnly).toFixed(0)} MB after one more per capability (${snapshot.capabilities().length}), in both formats`,
    );
  }
  const answer = await getNetworkCapabilities(snapshot, { capability: "", includeUnreachable: false });
  const perCall = await timed(async () => Buffer.from(toJsonString(GetNetworkCapabilitiesResponseSchema, answer)).length);
  console.log(`connect-node's JSON encoding of the same answer, per call: ${perCall}`);
  // The next sweep's snapshot: orchestrators that list the same keep their IndexedInfo, so their entries' info part
  // is not worked out again.
  console.log(`first calls after the next sweep: ${await listingsOf(await discovery.refreshNow())}`);
} finally {
  answering.close();
  await discovery.stop();
}

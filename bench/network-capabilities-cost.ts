// Diagnostic, not part of `npm run bench`: what GetNetworkCapabilities and go-livepeer's /getNetworkCapabilities
// cost per call with N orchestrators indexed (default 1,000, answered by the memory benchmark's synthetic
// orchestrators in a child process): the time to the gRPC encoding, to the Connect JSON encoding and to go-livepeer's
// JSON body, and the longest the event loop was held meanwhile; three calls on one snapshot, so the first call and the
// ones answered from what the snapshot already has show apart. Last, what connect-node's own JSON encoding of the
// same answer costs: what every Connect JSON call paid before the fast path (src/api/connect-unary.ts).
//
//   npx tsx bench/network-capabilities-cost.ts [count=1000]
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

try {
  const snapshot = await discovery.refreshNow();
  for (let call = 1; call <= 3; call++) {
    const grpc = await timed(async () => {
      const answer = await getNetworkCapabilities(snapshot, { capability: "", includeUnreachable: false });
      return encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer).length;
    });
    const connectJson = await timed(async () => {
      const answer = await getNetworkCapabilities(snapshot, { capability: "", includeUnreachable: false });
      return (await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer)).length;
    });
    const json = await timed(async () => (await networkCapabilitiesBody(snapshot)).length);
    console.log(`call ${call}: GetNetworkCapabilities for gRPC ${grpc}; for Connect JSON ${connectJson}; go-livepeer JSON ${json}`);
  }
  const answer = await getNetworkCapabilities(snapshot, { capability: "", includeUnreachable: false });
  const perCall = await timed(async () => Buffer.from(toJsonString(GetNetworkCapabilitiesResponseSchema, answer)).length);
  console.log(`connect-node's JSON encoding of the same answer, per call: ${perCall}`);
} finally {
  answering.close();
  await discovery.stop();
}

// Diagnostic, not part of `npm run bench`: what GetNetworkCapabilities and go-livepeer's /getNetworkCapabilities
// cost per call with N orchestrators indexed (default 1,000, answered by the memory benchmark's synthetic
// orchestrators in a child process): building the answer, encoding it for gRPC, and the JSON body; three calls on one
// snapshot, so the first call and the ones answered from what the snapshot already has show apart.
//
//   npx tsx bench/network-capabilities-cost.ts [count=1000]
import { networkCapabilitiesBody } from "../src/api/http-routes.js";
import { getNetworkCapabilities } from "../src/api/network-capabilities.js";
import { encodeAnswer } from "../src/api/reusable-answers.js";
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
try {
  const snapshot = await discovery.refreshNow();
  const ms = (since: number): string => (performance.now() - since).toFixed(1);
  for (let call = 1; call <= 3; call++) {
    let started = performance.now();
    const answer = getNetworkCapabilities(snapshot, { capability: "", includeUnreachable: false });
    const built = ms(started);
    started = performance.now();
    const bytes = encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer);
    const encoded = ms(started);
    started = performance.now();
    const json = networkCapabilitiesBody(snapshot);
    console.log(
      `call ${call}: build ${built} ms, encode ${encoded} ms (${(bytes.length / 1e6).toFixed(1)} MB); ` +
        `go-livepeer JSON ${ms(started)} ms (${(json.length / 1e6).toFixed(1)} MB)`,
    );
  }
} finally {
  answering.close();
  await discovery.stop();
}

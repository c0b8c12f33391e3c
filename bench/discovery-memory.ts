// Child process of the discovery benchmark, run from the compiled build (dist-bench/) as `npm start` runs the
// gateway: indexes `count` orchestrators the way the gateway does (Discovery asks each one for its info and price
// quotes, and keeps what it keeps from real replies, which a child process builds; see synthetic-orchestrators.ts),
// records health history for a share of the offers as routing would, and prints one JSON line: process.memoryUsage()
// before (this process with the gateway's modules loaded and nothing indexed), right after the sweep, and after three
// full GCs (as many as V8's memory reducer runs once a process goes idle). Run with --expose-gc. No channel to an
// orchestrator is opened here: what the gateway's open channels add is measured by channel-memory.ts.
import "../src/gateway.js";
import { Discovery } from "../src/discovery/discovery.js";
import { StaticSource } from "../src/discovery/sources.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { silentLogger } from "../src/log.js";
import { seededRandom } from "../src/util/random.js";
import { syntheticHealth } from "./synthetic-network.js";
import { canCollect, settledMemory } from "./settled-memory.js";
import { ChildProcessOrchestrators } from "./synthetic-orchestrators.js";

const count = Number(process.argv[2] ?? "10000");
if (!canCollect) throw new Error("run with --expose-gc");

const before = await settledMemory();
const answering = new ChildProcessOrchestrators(count);
const discovery = new Discovery(
  { source: new StaticSource(answering.uris), clients: answering, signer: offchainIdentity(), logger: silentLogger() },
  // The in-process sweep of 10,000 takes about a minute here: nobody goes stale before it is published.
  { staleAfterMs: 60 * 60_000 },
);
const started = performance.now();
const snapshot = await discovery.refreshNow();
const sweepMs = performance.now() - started;
const { health, healthKeys } = syntheticHealth(
  snapshot.usableOrchestrators().map((state) => state.offers),
  seededRandom(2),
  0.3,
);
// What an operator's process shows after the sweep: V8 collects old-generation garbage only once the heap reaches its
// next limit (up to several times the live heap), so this reading includes the sweep's garbage not yet collected.
await new Promise((resolve) => setTimeout(resolve, 1_000));
const unforced = process.memoryUsage();
const after = await settledMemory();
process.stdout.write(
  `${JSON.stringify({
    rss: after.rss,
    rssBeforeGc: unforced.rss,
    heapUsedBeforeGc: unforced.heapUsed,
    heapUsed: after.heapUsed,
    heapTotal: after.heapTotal,
    external: after.external,
    arrayBuffers: after.arrayBuffers,
    rssBefore: before.rss,
    heapUsedBefore: before.heapUsed,
    sweepMs: Math.round(sweepMs),
    orchestrators: snapshot.usableOrchestrators().length,
    offers: snapshot.capabilities().reduce((sum, capability) => sum + snapshot.offers(capability).length, 0),
    healthKeys,
    // Keeps the index reachable until after the measurement.
    healthTracked: health.states().length,
  })}\n`,
);
await discovery.stop();
answering.close();

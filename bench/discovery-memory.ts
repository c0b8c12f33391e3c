// Child process of the discovery benchmark: builds the index of `count` orchestrators (a synthetic network, as the
// selection benchmark builds it) in a process of its own, so that nothing left over from the sweeps is counted, and
// prints one JSON line: process.memoryUsage() after a full GC, before (the reference: this process with its modules
// loaded and nothing indexed) and after. Run with --expose-gc.
import { syntheticNetwork } from "./synthetic-network.js";

const count = Number(process.argv[2] ?? "10000");
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function settled(): NodeJS.MemoryUsage {
  gc?.();
  gc?.();
  return process.memoryUsage();
}

const before = settled();
const network = syntheticNetwork({ orchestrators: count });
const after = settled();
process.stdout.write(
  `${JSON.stringify({
    rss: after.rss,
    heapUsed: after.heapUsed,
    external: after.external,
    rssBefore: before.rss,
    heapUsedBefore: before.heapUsed,
    offers: network.offers,
    // Keeps the network reachable until after the measurement.
    orchestrators: network.snapshot.orchestrators.length,
  })}\n`,
);

// Child process of the forwarding benchmark: simulated BYOC orchestrators in their own event loop, so that the
// gateway under test and the orchestrators do not share a CPU thread. Sends { uris, serviceUris } once listening;
// takes { fault } messages; exits when the parent disconnects.
import { startDevnet } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { weiPerUnit } from "../src/network/price.js";
import { BENCH_CAPABILITY, type FaultMessage } from "./byoc-bench-network.js";

function spec(name: string, price: bigint): SimulatedOrchestratorSpec {
  return { name, version: "0.8.9", transcodingPrice: weiPerUnit(1n, 1n), pipelines: {}, byoc: [{ name: BENCH_CAPABILITY, pricePerSecond: weiPerUnit(price, 1n), capacity: 4096 }] };
}

const devnet = await startDevnet({ specs: [spec("cheap", 1_000n), spec("steady", 2_000n)], admin: false });
process.send?.({ uris: devnet.uris, serviceUris: devnet.serviceUris });
process.on("message", (message: FaultMessage) => {
  const done = () => process.send?.({ faultSet: true });
  if (message.fault === "clear") {
    void Promise.all(devnet.orchestrators.map((o) => o.byoc.clearFaults())).then(done);
    return;
  }
  const { orchestrator, capability, fault } = message.fault;
  void devnet.orchestrator(orchestrator).byoc.setFault(capability, fault).then(done);
});
process.on("disconnect", () => {
  void devnet.close().then(() => process.exit(0));
});

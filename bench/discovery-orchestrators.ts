// Child process of the discovery benchmark: `count` simulated orchestrators (TLS gRPC and BYOC HTTPS servers, each
// with its own certificate) in one process, so the gateway under test runs alone in the parent. Sends { uris } once
// listening; exits when the parent disconnects.
import { startDevnet } from "../src/devnet/network.js";
import { DEFAULT_DEVNET_SPECS } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";

const count = Number(process.argv[2] ?? "100");
// The default devnet's four kinds of orchestrator, repeated: each one's AI models cost a price quote per refresh.
const specs: SimulatedOrchestratorSpec[] = Array.from({ length: count }, (_, i) => {
  const base = DEFAULT_DEVNET_SPECS[i % DEFAULT_DEVNET_SPECS.length] as SimulatedOrchestratorSpec;
  return { ...base, name: `${base.name}-${i}` };
});
const devnet = await startDevnet({ specs, admin: false });
process.send?.({ uris: devnet.uris });
process.on("disconnect", () => {
  void devnet.close().then(() => process.exit(0));
});

// What the forwarding benchmark and its orchestrators' child process (byoc-orchestrators.ts) share. Kept apart from
// the child's script: importing that script would start its orchestrators in the importing process.
import type { ByocFault } from "../src/devnet/byoc-faults.js";

export const BENCH_CAPABILITY = "echo";

export interface FaultMessage {
  fault: { orchestrator: string; capability: string; fault: ByocFault } | "clear";
}

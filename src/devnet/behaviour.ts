// Fault injection for simulated orchestrators: how one answers, switchable while it runs, so tests can exercise
// a gateway against late, failing, silent and hostile peers.
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { OrchestratorInfoSchema, type OrchestratorInfo } from "../gen/net/lp_rpc_pb.js";
import { BYOC_CAPABILITY_ID, PIPELINE_CAPABILITY_IDS } from "../network/capabilities.js";

export type SimulatedBehaviour =
  /** Answer like go-livepeer. */
  | { readonly kind: "normal" }
  /** Answer correctly, `ms` milliseconds late. */
  | { readonly kind: "delay"; readonly ms: number }
  /** Fail every call with this gRPC status. */
  | { readonly kind: "error"; readonly code: grpc.status; readonly message: string }
  /** Accept calls and never answer; they end when the orchestrator closes or the caller gives up. */
  | { readonly kind: "hang" }
  /** Answer GetOrchestrator with nonsense a careful gateway must reject or sanitise (see absurdOrchestratorInfo). */
  | { readonly kind: "absurd" }
  /** Answer GetOrchestrator with a reply larger than grpc's 4 MiB default receive limit. */
  | { readonly kind: "oversized" };

export const NORMAL_BEHAVIOUR: SimulatedBehaviour = { kind: "normal" };

/** Size of an oversized reply: comfortably above the 4 MiB default limit of grpc-go and grpc-js clients. */
export const OVERSIZED_REPLY_BYTES = 5 * 1024 * 1024;

const INT64_MAX = (1n << 63n) - 1n;
const UINT32_MAX = 0xffff_ffff;
const TEN_KIB = 10 * 1024;
const ABSURD_CAPACITY_ENTRIES = 100_000;

/**
 * A well-formed protobuf message with values no orchestrator should send:
 * - address of 7 bytes instead of 20;
 * - price_info with a negative pricePerUnit and pixelsPerUnit 0 (a division by zero for Go's RatPriceInfo);
 * - capabilities: every bit of the first word set, 100 000 capacities each at the uint32 maximum, a 10 KiB version,
 *   a 10 KiB minVersion, a capability id at the uint32 maximum with a 10 KiB model id and control characters;
 * - capabilities_prices with pixelsPerUnit 0, a negative denominator, an int64-maximum BYOC price with an empty
 *   name, and markup in a constraint;
 * - hardware with negative memory and a 10 KiB GPU name;
 * - an auth token that expired in 1970 and node URIs that are not orchestrator URLs.
 * The transcoder is the orchestrator's real URI, so the reply can still be attributed.
 */
export function absurdOrchestratorInfo(uri: string): OrchestratorInfo {
  const imageToImage = PIPELINE_CAPABILITY_IDS.get("image-to-image") ?? 0;
  const capacities: Record<number, number> = {};
  for (let id = 0; id < ABSURD_CAPACITY_ENTRIES; id++) capacities[id] = UINT32_MAX;
  return create(OrchestratorInfoSchema, {
    transcoder: uri,
    address: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x01]),
    priceInfo: { pricePerUnit: -1_000_000n, pixelsPerUnit: 0n },
    capabilities: {
      bitstring: [(1n << 64n) - 1n],
      capacities,
      version: "9".repeat(TEN_KIB),
      constraints: {
        minVersion: "v".repeat(TEN_KIB),
        PerCapability: {
          [UINT32_MAX]: {
            models: {
              ["m".repeat(TEN_KIB)]: {
                warm: true,
                capacity: UINT32_MAX,
                capacityInUse: UINT32_MAX,
                runnerVersion: "\u0000\u202e\u001b[2J",
              },
            },
          },
        },
      },
    },
    capabilitiesPrices: [
      { pricePerUnit: 5n, pixelsPerUnit: 0n, capability: imageToImage, constraint: "SG161222/RealVisXL_V4.0_Lightning" },
      { pricePerUnit: -7n, pixelsPerUnit: -1n, capability: imageToImage, constraint: "stabilityai/sdxl-turbo" },
      { pricePerUnit: INT64_MAX, pixelsPerUnit: 1n, capability: BYOC_CAPABILITY_ID, constraint: "" },
      { pricePerUnit: 1n, pixelsPerUnit: 1n, capability: UINT32_MAX, constraint: "<script>alert(1)</script>" },
    ],
    hardware: [
      {
        pipeline: "image-to-image",
        modelId: "",
        gpuInfo: { "0": { id: "", name: "G".repeat(TEN_KIB), major: UINT32_MAX, memoryFree: -1n, memoryTotal: -1n } },
      },
    ],
    authToken: { token: new Uint8Array(0), sessionId: "", expiration: -1n },
    nodes: ["not a url", "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", ""],
  });
}

/** A copy of `info` whose `nodes` list alone pushes the encoded reply past OVERSIZED_REPLY_BYTES. */
export function oversizedOrchestratorInfo(info: OrchestratorInfo): OrchestratorInfo {
  const nodes: string[] = [];
  let bytes = 0;
  while (bytes <= OVERSIZED_REPLY_BYTES) {
    const node = `https://node-${String(nodes.length).padStart(7, "0")}.devnet.invalid:8935`;
    nodes.push(node);
    bytes += node.length + 3; // field tag and length prefix
  }
  return { ...info, nodes };
}

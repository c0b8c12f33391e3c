// The OrchestratorRequests the gateway sends, built the way go-livepeer builds them (server/rpc.go
// genOrchestratorReq, core/capabilities.go ToNetCapabilities).
import { create, toBinary } from "@bufbuild/protobuf";
import { OrchestratorRequestSchema, type OrchestratorRequest } from "../gen/net/lp_rpc_pb.js";
import { DEFAULT_CAPABILITY_IDS, capabilityBitstring } from "../network/capabilities.js";

/** What the gateway proves about itself in every request: its address and the start-up signature over it. */
export interface RequestSigner {
  /** 20 bytes; all zero off-chain. */
  readonly addressBytes: Uint8Array;
  /** 65 bytes; empty off-chain. */
  readonly orchestratorRequestSig: Uint8Array;
}

/**
 * The capability-less request of go-livepeer's network poll: the orchestrator answers with everything it
 * offers (capabilities, per-model constraints, capabilities_prices including BYOC, hardware) and its base price.
 */
export function listingRequest(signer: RequestSigner): OrchestratorRequest {
  return create(OrchestratorRequestSchema, {
    address: signer.addressBytes,
    sig: signer.orchestratorRequestSig,
  });
}

/**
 * A request scoped to one AI (capability, model), as go-livepeer's AI discovery sends it. The orchestrator then
 * quotes price_info for exactly that pair as a reduced fraction, while the listing floors it to whole wei.
 * ignoreCapacityCheck keeps a capped live-video-to-video orchestrator from refusing to quote.
 */
export function priceQuoteRequest(
  signer: RequestSigner,
  capabilityId: number,
  modelId: string,
  gatewayVersion: string,
): OrchestratorRequest {
  const capabilityIds = [...DEFAULT_CAPABILITY_IDS, capabilityId];
  return create(OrchestratorRequestSchema, {
    address: signer.addressBytes,
    sig: signer.orchestratorRequestSig,
    ignoreCapacityCheck: true,
    capabilities: {
      bitstring: capabilityBitstring(capabilityIds),
      // NewCapabilities gives every listed capability a capacity of 1; the orchestrator prices the AI one from it.
      capacities: Object.fromEntries(capabilityIds.map((id) => [id, 1])),
      version: gatewayVersion,
      constraints: {
        minVersion: "",
        PerCapability: { [capabilityId]: { models: { [modelId]: { warm: false, runnerVersion: "" } } } },
      },
    },
  });
}

/** Requests registered by encodeOnce, with their encoding. Weak: a request no longer referenced takes it along. */
const ENCODED = new WeakMap<object, Buffer>();

/**
 * Encodes `request` now and registers the bytes, so that every call sending this very object sends them as they are
 * instead of encoding it again: the listing request is the same for every orchestrator of a sweep, and a price-quote
 * request the same for every orchestrator offering that (capability, model). The request is frozen (shallowly) and
 * must not be changed afterwards; returns it.
 */
export function encodeOnce(request: OrchestratorRequest): OrchestratorRequest {
  const bytes = toBinary(OrchestratorRequestSchema, request);
  ENCODED.set(request, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return Object.freeze(request);
}

/** The bytes encodeOnce registered for this object, if it did. */
export function preEncoded(request: unknown): Buffer | undefined {
  return typeof request === "object" && request !== null ? ENCODED.get(request) : undefined;
}

// The oracle for the listings' entries: an orchestrator's entry built from its info decoded whole, the plain way.
// The gateway builds entries from the info's bytes instead (listing-entries.ts); tests check the two agree.
import { create } from "@bufbuild/protobuf";
import { OrchestratorEntrySchema, type OrchestratorEntry } from "../../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { checksummed, observationMessage, offerMessage } from "../../src/api/listing-entries.js";
import type { OrchestratorState } from "../../src/network/snapshot.js";

export function entryByDecoding(state: OrchestratorState): OrchestratorEntry {
  const info = state.info?.decode();
  return create(OrchestratorEntrySchema, {
    uri: state.uri,
    orchUri: info?.transcoder ?? "",
    address: checksummed(info?.ticketParams?.recipient),
    localAddress: checksummed(info?.address),
    capabilities: info?.capabilities,
    priceInfo: info?.priceInfo,
    capabilitiesPrices: info?.capabilitiesPrices ?? [],
    hardware: info?.hardware ?? [],
    offers: state.offers.map(offerMessage),
    observation: observationMessage(state.observation),
  });
}

// The body of go-livepeer's GET /getNetworkCapabilities, byte for byte: networkCapabilitiesResponse holding
// CapabilityNameLookup and one OrchNetworkCapabilities per orchestrator, as compact json.Marshal writes it.
// The protobuf messages are written through the json tags protoc-gen-go puts on their Go structs: proto field
// names as keys, declaration order, `omitempty` on every field, 64-bit integers as plain JSON numbers.
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
import type {
  Capabilities,
  Capabilities_CapabilityConstraints,
  Capabilities_CapabilityConstraints_ModelConstraint,
  Capabilities_Constraints,
  GPUComputeInfo,
  HardwareInformation,
  OrchestratorInfo,
  PriceInfo,
} from "../gen/net/lp_rpc_pb.js";
import { CAPABILITY_DISPLAY_NAMES } from "../network/capabilities.js";
import {
  goArray,
  goInteger,
  goMap,
  goString,
  goStruct,
  type GoField,
  nullableDecodedSlice,
  nullablePointer,
  omitEmptyBool,
  omitEmptyInteger,
  omitEmptyMap,
  omitEmptySlice,
  omitEmptyString,
  omitNilPointer,
} from "./gojson.js";

/**
 * One orchestrator as go-livepeer lists it: the OrchestratorInfo it last answered with, unchanged.
 * go-livepeer lists only orchestrators whose latest GetOrchestrator call answered; one the gateway knows only
 * by URI has no entry (go-livepeer would have nothing but empty strings to show for it). Passing the last info
 * an orchestrator answered with, even if a later poll failed, keeps every field truthful.
 */
export interface NetworkCapabilitiesOrchestrator {
  readonly info: OrchestratorInfo;
}

const ADDRESS_LENGTH = 20;

/**
 * go-ethereum's BytesToAddress(bytes).Hex(): the last 20 bytes, left-padded with zeros when shorter, in EIP-55
 * checksum case. Empty bytes (an orchestrator that sent no address) give the zero address, as in go-livepeer.
 */
export function goAddressHex(bytes: Uint8Array): string {
  const address = new Uint8Array(ADDRESS_LENGTH);
  const tail = bytes.subarray(Math.max(0, bytes.length - ADDRESS_LENGTH));
  address.set(tail, ADDRESS_LENGTH - tail.length);
  return getAddress(hexlify(address));
}

function encodeModelConstraint(model: Capabilities_CapabilityConstraints_ModelConstraint): string {
  return goStruct([
    ["warm", omitEmptyBool(model.warm)],
    ["capacity", omitEmptyInteger(model.capacity)],
    ["runnerVersion", omitEmptyString(model.runnerVersion)],
    ["capacityInUse", omitEmptyInteger(model.capacityInUse)],
  ]);
}

function encodeCapabilityConstraints(constraints: Capabilities_CapabilityConstraints): string {
  return goStruct([["models", omitEmptyMap(constraints.models, encodeModelConstraint)]]);
}

function encodeConstraints(constraints: Capabilities_Constraints): string {
  return goStruct([
    ["minVersion", omitEmptyString(constraints.minVersion)],
    ["PerCapability", omitEmptyMap(constraints.PerCapability, encodeCapabilityConstraints)],
  ]);
}

function encodeCapabilities(capabilities: Capabilities): string {
  return goStruct([
    ["bitstring", omitEmptySlice(capabilities.bitstring, goInteger)],
    ["mandatories", omitEmptySlice(capabilities.mandatories, goInteger)],
    ["capacities", omitEmptyMap(capabilities.capacities, goInteger)],
    ["version", omitEmptyString(capabilities.version)],
    ["constraints", omitNilPointer(capabilities.constraints, encodeConstraints)],
  ]);
}

function encodePriceInfo(price: PriceInfo): string {
  return goStruct([
    ["pricePerUnit", omitEmptyInteger(price.pricePerUnit)],
    ["pixelsPerUnit", omitEmptyInteger(price.pixelsPerUnit)],
    ["capability", omitEmptyInteger(price.capability)],
    ["constraint", omitEmptyString(price.constraint)],
  ]);
}

function encodeGpuComputeInfo(gpu: GPUComputeInfo): string {
  return goStruct([
    ["id", omitEmptyString(gpu.id)],
    ["name", omitEmptyString(gpu.name)],
    ["major", omitEmptyInteger(gpu.major)],
    ["minor", omitEmptyInteger(gpu.minor)],
    ["memory_free", omitEmptyInteger(gpu.memoryFree)],
    ["memory_total", omitEmptyInteger(gpu.memoryTotal)],
  ]);
}

function encodeHardwareInformation(hardware: HardwareInformation): string {
  return goStruct([
    ["pipeline", omitEmptyString(hardware.pipeline)],
    ["model_id", omitEmptyString(hardware.modelId)],
    ["gpu_info", omitEmptyMap(hardware.gpuInfo, encodeGpuComputeInfo)],
  ]);
}

/** OrchNetworkCapabilities: no `omitempty` here, so absent values are "" or null rather than missing. */
export function encodeNetworkCapabilitiesOrchestrator({ info }: NetworkCapabilitiesOrchestrator): string {
  // Without ticket params (an off-chain orchestrator) go-livepeer leaves the address empty.
  const recipient = info.ticketParams === undefined ? "" : goAddressHex(info.ticketParams.recipient);
  return goStruct([
    ["address", goString(recipient)],
    ["local_address", goString(goAddressHex(info.address))],
    ["orch_uri", goString(info.transcoder)],
    ["capabilities", nullablePointer(info.capabilities, encodeCapabilities)],
    ["price_info", nullablePointer(info.priceInfo, encodePriceInfo)],
    ["capabilities_prices", nullableDecodedSlice(info.capabilitiesPrices, encodePriceInfo)],
    ["hardware", nullableDecodedSlice(info.hardware, encodeHardwareInformation)],
  ]);
}

/** CapabilityNameLookup as Go writes a map[Capability]string: decimal keys in string order ("-1" < "-2" < "0"). */
export const CAPABILITY_NAMES_JSON: string = goMap(
  [...CAPABILITY_DISPLAY_NAMES].map(([id, name]) => [String(id), goString(name)] as const),
);

/**
 * The /getNetworkCapabilities body, compact and without a trailing newline, orchestrators in the order given.
 * `null` writes "orchestrators":null, which is what go-livepeer sends whenever no orchestrator answered its
 * latest poll (its list is then a nil slice; the handler also answers 500 then, which is the caller's part).
 * An empty array writes [], as Go writes an empty non-nil slice; go-livepeer itself never produces that.
 */
export function encodeNetworkCapabilities(orchestrators: readonly NetworkCapabilitiesOrchestrator[] | null): string {
  return networkCapabilitiesJson(orchestrators === null ? null : orchestrators.map(encodeNetworkCapabilitiesOrchestrator));
}

/** The body's fields, in Go's declaration order: the orchestrators come last. */
function networkCapabilitiesFields(encodedOrchestrators: string): GoField[] {
  return [
    ["capabilities_names", CAPABILITY_NAMES_JSON],
    ["orchestrators", encodedOrchestrators],
  ];
}

/** The same body around orchestrators already encoded one by one (encodeNetworkCapabilitiesOrchestrator). */
export function networkCapabilitiesJson(encodedOrchestrators: readonly string[] | null): string {
  return goStruct(networkCapabilitiesFields(encodedOrchestrators === null ? "null" : goArray(encodedOrchestrators)));
}

/**
 * The body's text before and after its list of orchestrators: the body is `before`, the orchestrators encoded
 * one by one and joined by commas, then `after` (for a body joined from parts kept per orchestrator). Split at a NUL,
 * which the encoded JSON cannot hold otherwise (goString escapes control characters).
 */
export const AROUND_ORCHESTRATORS: { readonly before: string; readonly after: string } = (() => {
  const [before, after] = goStruct(networkCapabilitiesFields(goArray(["\u0000"]))).split("\u0000") as [string, string];
  return { before, after };
})();

// Sanity checks on what an orchestrator sends. An orchestrator is a remote party: anything malformed or absurd
// is refused with a reason that names the field, instead of flowing into routing and prices.
import type { OrchestratorInfo, PriceInfo } from "../gen/net/lp_rpc_pb.js";

/** Limits well above anything a real go-livepeer orchestrator sends, and well below what would hurt the gateway. */
export const INFO_LIMITS = {
  maxStringLength: 512,
  maxCapabilityEntries: 512,
  maxModelsPerCapability: 256,
  maxPriceEntries: 4096,
  maxHardwareEntries: 1024,
  maxBitstringWords: 16,
} as const;

const INT64_MAX = (1n << 63n) - 1n;

function checkString(value: string, field: string): string | undefined {
  return value.length > INFO_LIMITS.maxStringLength
    ? `${field} is ${value.length} characters long (limit ${INFO_LIMITS.maxStringLength})`
    : undefined;
}

function checkPrice(price: PriceInfo, field: string): string | undefined {
  if (price.pixelsPerUnit <= 0n) return `${field}.pixelsPerUnit must be positive, got ${price.pixelsPerUnit}`;
  if (price.pricePerUnit < 0n) return `${field}.pricePerUnit must not be negative, got ${price.pricePerUnit}`;
  if (price.pixelsPerUnit > INT64_MAX || price.pricePerUnit > INT64_MAX) return `${field} overflows int64`;
  return checkString(price.constraint, `${field}.constraint`);
}

function checkTranscoder(transcoder: string): string | undefined {
  if (transcoder === "") return "transcoder (service URI) is empty";
  const tooLong = checkString(transcoder, "transcoder");
  if (tooLong) return tooLong;
  let url: URL;
  try {
    url = new URL(transcoder);
  } catch {
    return `transcoder ${JSON.stringify(transcoder)} is not a URL`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `transcoder ${JSON.stringify(transcoder)} is not http(s)`;
  return undefined;
}

function checkCapabilities(info: OrchestratorInfo): string | undefined {
  const caps = info.capabilities;
  if (!caps) return undefined;
  if (caps.bitstring.length > INFO_LIMITS.maxBitstringWords) return `capabilities.bitstring has ${caps.bitstring.length} words`;
  if (caps.mandatories.length > INFO_LIMITS.maxBitstringWords) return `capabilities.mandatories has ${caps.mandatories.length} words`;
  const capacities = Object.keys(caps.capacities).length;
  if (capacities > INFO_LIMITS.maxCapabilityEntries) return `capabilities.capacities has ${capacities} entries`;
  const tooLong = checkString(caps.version, "capabilities.version");
  if (tooLong) return tooLong;
  const perCapability = Object.entries(caps.constraints?.PerCapability ?? {});
  if (perCapability.length > INFO_LIMITS.maxCapabilityEntries) return `capabilities.constraints.PerCapability has ${perCapability.length} entries`;
  for (const [capability, constraints] of perCapability) {
    const models = Object.entries(constraints.models);
    if (models.length > INFO_LIMITS.maxModelsPerCapability) return `capability ${capability} lists ${models.length} models`;
    for (const [modelId, model] of models) {
      const bad =
        checkString(modelId, `capability ${capability} model id`) ??
        checkString(model.runnerVersion, `capability ${capability} model ${modelId} runnerVersion`);
      if (bad) return bad;
    }
  }
  return undefined;
}

/**
 * Why the info cannot be used, or undefined when it can. `hardwareEntries` is for an info decoded without its
 * hardware (discovery's): how many entries the reply had.
 */
export function validateOrchestratorInfo(info: OrchestratorInfo, hardwareEntries = info.hardware.length): string | undefined {
  const transcoder = checkTranscoder(info.transcoder);
  if (transcoder) return transcoder;
  if (info.address.length !== 0 && info.address.length !== 20) return `address is ${info.address.length} bytes, expected 20`;
  const recipient = info.ticketParams?.recipient;
  if (recipient && recipient.length !== 0 && recipient.length !== 20) return `ticket_params.recipient is ${recipient.length} bytes, expected 20`;
  if (info.priceInfo) {
    const bad = checkPrice(info.priceInfo, "price_info");
    if (bad) return bad;
  }
  if (info.capabilitiesPrices.length > INFO_LIMITS.maxPriceEntries) return `capabilities_prices has ${info.capabilitiesPrices.length} entries`;
  for (const [index, price] of info.capabilitiesPrices.entries()) {
    const bad = checkPrice(price, `capabilities_prices[${index}]`);
    if (bad) return bad;
  }
  if (hardwareEntries > INFO_LIMITS.maxHardwareEntries) return `hardware has ${hardwareEntries} entries`;
  return checkCapabilities(info);
}

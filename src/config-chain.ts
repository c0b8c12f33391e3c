// On-chain settings: which network, where its JSON-RPC is, and go-livepeer's sender limits (-maxTicketEV,
// -maxTotalEV, -depositMultiplier). Off-chain (the default) none of them applies and giving one is a mistake.
//
// -ethUrl often carries a provider's API key in its path or query, so no message here repeats it.
import { getAddress, isAddress } from "ethers/address";
import { parseDecimal, type Ratio } from "./network/price.js";
import { parseDuration } from "./util/duration.js";
import { ARBITRUM_ETH_USD_FEED, ARBITRUM_ONE_CONTROLLER } from "./eth/arbitrum-addresses.js";


/** Networks and the Controller each defaults to; devenv (a local chain) has none and needs -ethController. */
const NETWORKS: Readonly<Record<string, string | undefined>> = {
  "arbitrum-one-mainnet": ARBITRUM_ONE_CONTROLLER,
  devenv: undefined,
};

export interface ChainSettings {
  readonly network: string;
  /** JSON-RPC URL; may hold an API key: never log it. */
  readonly ethUrl: string;
  /** EIP-55 Controller address. */
  readonly controller: string;
  /** Wei; a ticket's EV above this is refused (go: -maxTicketEV). */
  readonly maxTicketEV: Ratio;
  /** Wei; one payment's tickets together above this are refused (go: -maxTotalEV). */
  readonly maxTotalEV: Ratio;
  /** Face value may be at most deposit / this (go: -depositMultiplier). */
  readonly depositMultiplier: bigint;
  /** EIP-55 Chainlink feed for prices in a fiat currency (read only when a ceiling needs it and -ethUsdRate is unset). */
  readonly priceFeedAddr: string;
  /** How often the L1 block and the round are read (go: -blockPollingInterval, seconds). */
  readonly blockPollingIntervalMs: number;
}

export const CHAIN_FLAGS = [
  { name: "ethUrl", default: "", help: "Ethereum (Arbitrum) JSON-RPC URL; required on-chain. Never logged (it may hold an API key).", secret: true },
  { name: "ethController", default: "", help: "Livepeer Controller address; default: Arbitrum One's for -network arbitrum-one-mainnet." },
  { name: "maxTicketEV", default: "3000000000000", help: "Largest expected value of one ticket, in wei (on-chain)." },
  { name: "maxTotalEV", default: "20000000000000", help: "Largest expected value of one payment's tickets together, in wei (on-chain)." },
  { name: "depositMultiplier", default: "1", help: "A ticket's face value may be at most deposit / this (on-chain)." },
  { name: "priceFeedAddr", default: ARBITRUM_ETH_USD_FEED, help: "Chainlink ETH/USD feed, read hourly when a price ceiling is in USD and -ethUsdRate is unset (on-chain)." },
  { name: "blockPollingInterval", default: "5", help: "Seconds (or a duration such as 2s) between reads of the L1 block and the round (on-chain)." },
] as const;

const ON_CHAIN_ONLY = CHAIN_FLAGS.map((flag) => flag.name);

/**
 * The chain settings for -network, or undefined off-chain. `given(name)` is the value set by a flag, the environment
 * or the file (undefined when left at its default); `get(name)` includes the default.
 */
export function parseChainSettings(
  network: string,
  get: (name: string) => string,
  given: (name: string) => string | undefined,
): ChainSettings | undefined {
  if (network === "offchain") {
    const stray = ON_CHAIN_ONLY.filter((name) => given(name) !== undefined);
    if (stray.length > 0) {
      throw new Error(`${stray.map((name) => `-${name}`).join(", ")} apply on-chain only; set -network (${Object.keys(NETWORKS).join(" or ")})`);
    }
    return undefined;
  }
  if (!(network in NETWORKS)) {
    throw new Error(`-network ${JSON.stringify(network)} is not known: use offchain, ${Object.keys(NETWORKS).join(" or ")}`);
  }
  const ethUrl = get("ethUrl");
  if (ethUrl === "") throw new Error(`-network ${network} needs -ethUrl (the JSON-RPC URL of the chain)`);
  checkEthUrl(ethUrl);
  const controllerText = get("ethController") || NETWORKS[network];
  if (controllerText === undefined) throw new Error(`-network ${network} needs -ethController (the Livepeer Controller address)`);
  return {
    network,
    ethUrl,
    controller: address(controllerText, "-ethController"),
    maxTicketEV: weiAmount(get("maxTicketEV"), "-maxTicketEV"),
    maxTotalEV: weiAmount(get("maxTotalEV"), "-maxTotalEV"),
    depositMultiplier: positiveWhole(get("depositMultiplier"), "-depositMultiplier"),
    priceFeedAddr: address(get("priceFeedAddr"), "-priceFeedAddr"),
    blockPollingIntervalMs: seconds(get("blockPollingInterval"), "-blockPollingInterval"),
  };
}

/** Only the scheme is named when the URL is wrong: the rest may be a secret. */
function checkEthUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("-ethUrl is not a URL (its value is not shown: it may hold an API key)");
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw new Error(`-ethUrl must be http(s) or ws(s), got ${url.protocol}`);
  }
}

function address(text: string, flag: string): string {
  if (!isAddress(text)) throw new Error(`${flag} ${JSON.stringify(text)} is not an Ethereum address`);
  return getAddress(text);
}

function weiAmount(text: string, flag: string): Ratio {
  const value = parseDecimal(text.trim());
  if (value === undefined || value.num <= 0n) throw new Error(`${flag} ${JSON.stringify(text)} must be a positive amount of wei, e.g. 3000000000000`);
  return value;
}

function positiveWhole(text: string, flag: string): bigint {
  if (!/^\d{1,30}$/.test(text.trim()) || BigInt(text.trim()) <= 0n) throw new Error(`${flag} ${JSON.stringify(text)} must be a whole number above 0`);
  return BigInt(text.trim());
}

/** go-livepeer takes whole seconds; a duration such as 500ms is accepted too. */
function seconds(text: string, flag: string): number {
  const trimmed = text.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : parseDuration(trimmed, flag);
  if (!(ms >= 100 && ms <= 3_600_000)) throw new Error(`${flag} ${JSON.stringify(text)} must be between 100ms and 1h`);
  return ms;
}

// The gateway's view of the Livepeer contracts on an Ethereum chain (normally Arbitrum One): one JSON-RPC
// connection, the contract addresses resolved through the Controller as go-livepeer does at start-up
// (eth/client.go setContracts), and the few reads a paying gateway needs (ref §7.2).
//
// Two things matter more than usual here:
// * Failing fast. ethers' JsonRpcProvider, left to detect the network itself, retries forever once a second when
//   the node is unreachable. So the chain id is probed once, with a timeout, and the provider is then built with a
//   static network: every later request fails on its own after `timeoutMs` instead of hanging.
// * Secrets. An -ethUrl often carries an API key in its path or query (…/v3/<key>). Errors name only the URL's
//   origin (scheme://host:port), never wrap the underlying error (its message or fields may contain the URL), and
//   scrub the path, query and credentials out of any text they do carry.

import { getAddress } from "ethers/address";
import { ZeroAddress } from "ethers/constants";
import { Contract } from "ethers/contract";
import { id } from "ethers/hash";
import { JsonRpcProvider, Network } from "ethers/providers";
import { FetchRequest } from "ethers/utils";
import type { SenderInfo } from "../payments/ticket-params.js";

/** A chain read or connection failed; the message is safe to log (no URL path, query or credentials). */
export class ChainError extends Error {
  override readonly name = "ChainError";
}


/** How long one JSON-RPC request may take before it fails, unless the caller says otherwise. */
export const DEFAULT_CHAIN_TIMEOUT_MS = 10_000;

export interface ConnectChainOptions {
  /** -ethUrl: an http(s) JSON-RPC endpoint. May contain an API key; it never appears in errors. */
  readonly ethUrl: string;
  /** -ethController: the Livepeer Controller address. */
  readonly controller: string;
  /** Per-request timeout, ms (default 10 s). */
  readonly timeoutMs?: number;
}

export interface LivepeerContracts {
  readonly controller: string;
  readonly ticketBroker: string;
  readonly roundsManager: string;
  readonly bondingManager: string;
}

export interface LivepeerChain {
  readonly chainId: bigint;
  /** EIP-55 addresses. */
  readonly contracts: LivepeerContracts;
  /** For the price feed and tests. Requests through it time out after timeoutMs. */
  readonly provider: JsonRpcProvider;
  /** The latest L1 block: the l1BlockNumber field of the latest block on Arbitrum, its number elsewhere. */
  l1BlockNumber(): Promise<bigint>;
  /** RoundsManager.lastInitializedRound(). */
  lastInitializedRound(): Promise<bigint>;
  /** RoundsManager.blockHashForRound(round), lowercase 0x hex (all zeros when the round has none). */
  blockHashForRound(round: bigint): Promise<string>;
  /** TicketBroker.getSenderInfo(address). */
  senderInfo(address: string): Promise<SenderInfo>;
  /** Stops the provider; later reads fail. */
  close(): void;
}

// Minimal ABIs: only what the gateway calls (selectors in ref §7.2).
const CONTROLLER_ABI = ["function getContract(bytes32 _id) view returns (address)"];
const ROUNDS_MANAGER_ABI = [
  "function lastInitializedRound() view returns (uint256)",
  "function blockHashForRound(uint256 _round) view returns (bytes32)",
];
const TICKET_BROKER_ABI = [
  "function getSenderInfo(address _sender) view returns (tuple(uint256 deposit, uint256 withdrawRound) sender, tuple(uint256 fundsRemaining, uint256 claimedInCurrentRound) reserve)",
];

/** The contracts the gateway resolves, by their Controller registry names. */
const CONTRACT_NAMES = { ticketBroker: "TicketBroker", roundsManager: "RoundsManager", bondingManager: "BondingManager" } as const;

/** scheme://host:port of an http(s) URL, with no credentials, path or query; throws ChainError otherwise. */
export function urlOrigin(ethUrl: string): string {
  let url: URL;
  try {
    url = new URL(ethUrl);
  } catch {
    // Not even parseable: echoing it could leak a key, so say only what is wrong.
    throw new ChainError("-ethUrl is not a valid URL (expected http://host:port or https://host/…)");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ChainError(`-ethUrl must be an http:// or https:// JSON-RPC endpoint, got a ${url.protocol} URL`);
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** Removes every secret-bearing part of the URL from a text, in case an underlying error quoted it. */
function scrubber(ethUrl: string): (text: string) => string {
  let url: URL | undefined;
  try {
    url = new URL(ethUrl);
  } catch {
    url = undefined;
  }
  const secrets = [ethUrl, url?.href, url?.pathname !== "/" ? url?.pathname : undefined, url?.search, url?.username, url?.password]
    .filter((s): s is string => typeof s === "string" && s.length > 1)
    .sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join("…"), text);
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  EPROTO: "TLS or protocol error",
  CERT_HAS_EXPIRED: "TLS certificate expired",
};

/** A short, URL-free reason for a failed request: a node error code, ethers' short message or the node's message. */
function failureReason(err: unknown, timeoutMs: number, scrub: (text: string) => string): string {
  const e = err as { code?: unknown; shortMessage?: unknown; message?: unknown; reason?: unknown; error?: { message?: unknown } };
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (code === "TIMEOUT") return `no answer within ${timeoutMs} ms`;
  if (code && NETWORK_CODES[code]) return NETWORK_CODES[code] as string;
  if (code === "CALL_EXCEPTION") return `call reverted${typeof e.reason === "string" ? `: ${e.reason}` : ""}`;
  const parts: string[] = [];
  // ethers' full message appends request/response details (which can include the URL); shortMessage does not.
  if (typeof e?.shortMessage === "string") parts.push(e.shortMessage);
  else if (typeof e?.message === "string") parts.push(e.message.split("\n")[0] as string);
  if (typeof e?.error?.message === "string") parts.push(e.error.message);
  const text = parts.join(": ") || String(err);
  return scrub(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

/**
 * Connects to the chain at `ethUrl` and resolves the Livepeer contracts through the Controller. Throws ChainError
 * quickly when the node is unreachable, the Controller has no code, or a contract is not registered.
 */
export async function connectChain(options: ConnectChainOptions): Promise<LivepeerChain> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHAIN_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new ChainError(`chain timeout must be a positive number of ms, got ${timeoutMs}`);
  const origin = urlOrigin(options.ethUrl);
  const scrub = scrubber(options.ethUrl);
  let controller: string;
  try {
    controller = getAddress(options.controller);
  } catch {
    throw new ChainError(`-ethController ${JSON.stringify(options.controller)} is not an Ethereum address`);
  }

  const request = new FetchRequest(options.ethUrl);
  request.timeout = timeoutMs;
  const chainId = await probeChainId(request, origin, timeoutMs, scrub);
  // A static network: the provider never runs its own (endlessly retried) network detection. No batching (some
  // hosted endpoints limit batches) and no result cache (a read right after funding must see the new state).
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 });

  /** Runs one read, turning any failure into a ChainError that names what was read and only the URL's origin. */
  const read = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ChainError) throw err;
      throw new ChainError(`${what} via -ethUrl ${origin} failed: ${failureReason(err, timeoutMs, scrub)}`);
    }
  };

  try {
    const contracts = await resolveContracts(provider, controller, chainId, read);
    return makeChain(provider, chainId, contracts, read);
  } catch (err) {
    provider.destroy();
    throw err;
  }
}

/** One eth_chainId with a timeout and no retries: the reachability check. */
async function probeChainId(request: FetchRequest, origin: string, timeoutMs: number, scrub: (text: string) => string): Promise<bigint> {
  const probe = request.clone();
  probe.body = { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] };
  let body: { result?: unknown; error?: { message?: unknown } };
  try {
    const response = await probe.send();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new ChainError(`cannot reach -ethUrl ${origin}: HTTP status ${response.statusCode}`);
    }
    body = response.bodyJson as typeof body;
  } catch (err) {
    if (err instanceof ChainError) throw err;
    throw new ChainError(`cannot reach -ethUrl ${origin}: ${failureReason(err, timeoutMs, scrub)}`);
  }
  if (typeof body?.result !== "string" || !/^0x[0-9a-fA-F]+$/.test(body.result)) {
    const why = typeof body?.error?.message === "string" ? scrub(body.error.message) : "no chain id in the answer";
    throw new ChainError(`-ethUrl ${origin} is not a working Ethereum JSON-RPC endpoint: eth_chainId: ${why}`);
  }
  return BigInt(body.result);
}

type Read = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

async function resolveContracts(provider: JsonRpcProvider, controller: string, chainId: bigint, read: Read): Promise<LivepeerContracts> {
  const code = await read(`eth_getCode(${controller})`, () => provider.getCode(controller));
  if (code === "0x") {
    throw new ChainError(`-ethController ${controller} has no contract code on chain ${chainId}: wrong address, or -ethUrl points at another chain`);
  }
  const registry = new Contract(controller, CONTROLLER_ABI, provider);
  const resolve = async (name: string): Promise<string> => {
    const address = getAddress(
      await read(`Controller.getContract(keccak256("${name}"))`, () => registry.getFunction("getContract").staticCall(id(name)) as Promise<string>),
    );
    if (address === ZeroAddress) {
      throw new ChainError(`Controller ${controller} on chain ${chainId} has no ${name} registered (getContract returned the zero address)`);
    }
    const contractCode = await read(`eth_getCode(${address})`, () => provider.getCode(address));
    if (contractCode === "0x") throw new ChainError(`${name} ${address} registered in Controller ${controller} has no contract code`);
    return address;
  };
  const [ticketBroker, roundsManager, bondingManager] = await Promise.all([
    resolve(CONTRACT_NAMES.ticketBroker),
    resolve(CONTRACT_NAMES.roundsManager),
    resolve(CONTRACT_NAMES.bondingManager),
  ]);
  return { controller, ticketBroker, roundsManager, bondingManager };
}

/** The raw latest block as JSON-RPC returns it; ethers' Block type drops Arbitrum's l1BlockNumber. */
interface RawBlock {
  readonly number?: unknown;
  readonly l1BlockNumber?: unknown;
}

/** l1BlockNumber when the block has one (Arbitrum), else number (L1 chains, anvil). */
export function l1BlockNumberOf(block: RawBlock | null): bigint {
  if (!block) throw new ChainError("the node returned no latest block");
  const field = typeof block.l1BlockNumber === "string" ? block.l1BlockNumber : block.number;
  if (typeof field !== "string" || !/^0x[0-9a-fA-F]+$/.test(field)) throw new ChainError(`the latest block has no usable block number (${JSON.stringify(field)})`);
  return BigInt(field);
}

function makeChain(provider: JsonRpcProvider, chainId: bigint, contracts: LivepeerContracts, read: Read): LivepeerChain {
  const rounds = new Contract(contracts.roundsManager, ROUNDS_MANAGER_ABI, provider);
  const broker = new Contract(contracts.ticketBroker, TICKET_BROKER_ABI, provider);
  return {
    chainId,
    contracts,
    provider,
    l1BlockNumber: () =>
      read("eth_getBlockByNumber(latest)", async () => l1BlockNumberOf((await provider.send("eth_getBlockByNumber", ["latest", false])) as RawBlock | null)),
    lastInitializedRound: () =>
      read("RoundsManager.lastInitializedRound()", async () => (await rounds.getFunction("lastInitializedRound").staticCall()) as bigint),
    blockHashForRound: (round: bigint) =>
      read(`RoundsManager.blockHashForRound(${round})`, async () =>
        ((await rounds.getFunction("blockHashForRound").staticCall(round)) as string).toLowerCase(),
      ),
    senderInfo: (address: string) =>
      read(`TicketBroker.getSenderInfo(${address})`, async () => {
        const [sender, reserve] = (await broker.getFunction("getSenderInfo").staticCall(getAddress(address))) as [
          { deposit: bigint; withdrawRound: bigint },
          { fundsRemaining: bigint },
        ];
        return { deposit: sender.deposit, withdrawRound: sender.withdrawRound, reserveFundsRemaining: reserve.fundsRemaining };
      }),
    close: () => provider.destroy(),
  };
}

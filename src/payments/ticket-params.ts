// An orchestrator's net.TicketParams: reading them from the wire, and go-livepeer's sender-side validation
// (pm/sender.go validateTicketParams) in its exact order, before any ticket is made.

import { getAddress } from "ethers/address";
import { ZeroHash } from "ethers/constants";
import { hexlify, toBigInt } from "ethers/utils";
import type { TicketParams } from "../gen/net/lp_rpc_pb.js";
import { compareRatios, multiplyRatios, ratio, type Ratio } from "../network/price.js";
import { ticketEV } from "./expected-value.js";

/** TicketParams as numbers and checked sizes (go: pm.TicketParams from server/rpc.go pmTicketParams). */
export interface PmTicketParams {
  /** EIP-55 address of the orchestrator's ticket recipient. */
  readonly recipient: string;
  readonly faceValue: bigint;
  readonly winProb: bigint;
  /** Lowercase 0x + 64 hex; also the sender's session id (go: RecipientRandHash.Hex()). */
  readonly recipientRandHash: string;
  readonly seed: bigint;
  /** L1 block after which the orchestrator refuses these params. */
  readonly expirationBlock: bigint;
  readonly creationRound: bigint;
  /** Lowercase 0x + 64 hex; ZeroHash when the orchestrator sent none. */
  readonly creationRoundBlockHash: string;
}

/** Names of the checks, in the order they run. "malformed" is this gateway's wire hygiene (go does not check). */
export type TicketParamsCheck =
  | "malformed"
  | "nil"
  | "zero-expiration-block"
  | "expired"
  | "face-value-too-low"
  | "max-ticket-ev"
  | "unlock-soon"
  | "no-reserve"
  | "no-deposit"
  | "max-total-ev"
  | "max-face-value";

export class TicketParamsError extends Error {
  override readonly name = "TicketParamsError";
  constructor(
    readonly check: TicketParamsCheck,
    message: string,
  ) {
    super(message);
  }
}

/** When the round fields are missing, go-livepeer's sender substitutes its own view (sender.expirationParams). */
export interface ExpirationFallback {
  readonly creationRound: bigint;
  readonly creationRoundBlockHash: string;
}

const MAX_INT64 = (1n << 63n) - 1n;

function fail(message: string): never {
  throw new TicketParamsError("malformed", `malformed ticket params: ${message}`);
}

/** Unsigned big-endian bytes as go's SetBytes reads them; longer than 32 bytes is refused (it would not be a uint256). */
function uint256Field(bytes: Uint8Array, field: string): bigint {
  if (bytes.length > 32) fail(`${field} is ${bytes.length} bytes, more than a uint256`);
  return bytes.length === 0 ? 0n : toBigInt(bytes);
}

/**
 * Reads net.TicketParams. Refuses a recipient that is not 20 bytes, a recipient_rand_hash that is not 32 bytes,
 * numbers longer than 32 bytes, and a block hash of neither 0 nor 32 bytes. Missing expiration params (or round 0
 * with a zero hash) take `fallback` when given, as go-livepeer's sender does for old orchestrators.
 */
export function parseTicketParams(pb: TicketParams, fallback?: ExpirationFallback): PmTicketParams {
  if (pb.recipient.length !== 20) fail(`recipient is ${pb.recipient.length} bytes, want 20`);
  if (pb.recipientRandHash.length !== 32) fail(`recipient_rand_hash is ${pb.recipientRandHash.length} bytes, want 32`);
  const seed = pb.seed.length === 0 ? 0n : toBigInt(pb.seed);
  let creationRound = pb.expirationParams?.creationRound ?? 0n;
  const hashBytes = pb.expirationParams?.creationRoundBlockHash ?? new Uint8Array(0);
  if (hashBytes.length !== 0 && hashBytes.length !== 32) fail(`creation_round_block_hash is ${hashBytes.length} bytes, want 32`);
  let creationRoundBlockHash = hashBytes.length === 0 ? ZeroHash : hexlify(hashBytes);
  if (creationRound < 0n || creationRound > MAX_INT64) fail(`creation_round ${creationRound} must be a non-negative int64`);
  if (fallback && (creationRound === 0n || creationRoundBlockHash === ZeroHash)) {
    creationRound = fallback.creationRound;
    creationRoundBlockHash = hexlify(fallback.creationRoundBlockHash);
  }
  return {
    recipient: getAddress(hexlify(pb.recipient)),
    faceValue: uint256Field(pb.faceValue, "face_value"),
    winProb: uint256Field(pb.winProb, "win_prob"),
    recipientRandHash: hexlify(pb.recipientRandHash),
    seed,
    expirationBlock: uint256Field(pb.expirationBlock, "expiration_block"),
    creationRound,
    creationRoundBlockHash,
  };
}

/** TicketBroker getSenderInfo, for the gateway's own address. */
export interface SenderInfo {
  readonly deposit: bigint;
  /** 0 when no unlock is in progress. */
  readonly withdrawRound: bigint;
  readonly reserveFundsRemaining: bigint;
}

/** What the sender knows about the chain and its limits (go: TimeWatcher, SenderWatcher, starter flags). */
export interface SenderState {
  /** The latest L1 block (on Arbitrum: the l1BlockNumber of the latest L2 header). */
  readonly lastSeenL1Block: bigint;
  readonly lastInitializedRound: bigint;
  /** Read only if a check needs it (free params skip it), as go reads GetSenderInfo only at step 7. */
  readonly senderInfo: SenderInfo | (() => SenderInfo);
  /** -maxTicketEV, wei; default 3000000000000. */
  readonly maxTicketEV?: Ratio;
  /** -maxTotalEV, wei; default 20000000000000. */
  readonly maxTotalEV?: Ratio;
  /** -depositMultiplier, > 0; default 1. */
  readonly depositMultiplier?: bigint;
}

export const DEFAULT_MAX_TICKET_EV: Ratio = ratio(3_000_000_000_000n);
export const DEFAULT_MAX_TOTAL_EV: Ratio = ratio(20_000_000_000_000n);
export const DEFAULT_DEPOSIT_MULTIPLIER = 1n;
/** pm/sender.go paramsExpiryBuffer: params need more than this many L1 blocks left. */
export const PARAMS_EXPIRY_BUFFER = 1n;

const show = (r: Ratio): string => (r.den === 1n ? `${r.num}` : `${r.num}/${r.den}`);

/**
 * pm/sender.go validateTicketParams(params, numTickets), same checks, same order; throws TicketParamsError naming
 * the first that fails. check "expired" means: ask the orchestrator for fresh params.
 */
export function validateTicketParams(params: PmTicketParams | undefined, numTickets: number, state: SenderState): void {
  if (!params) throw new TicketParamsError("nil", "ticketParams is nil");
  if (params.expirationBlock === 0n) throw new TicketParamsError("zero-expiration-block", "ticketParams expiration block is 0");
  if (params.expirationBlock - state.lastSeenL1Block <= PARAMS_EXPIRY_BUFFER) {
    throw new TicketParamsError(
      "expired",
      `TicketParams expired: expiration block ${params.expirationBlock}, last seen L1 block ${state.lastSeenL1Block}`,
    );
  }
  const ev = ticketEV(params.faceValue, params.winProb);
  // Free or zero-value params: nothing else matters.
  if (ev.num <= 0n) return;
  if (compareRatios(ev, ratio(params.faceValue)) >= 0) {
    throw new TicketParamsError("face-value-too-low", `ticket faceValue too low faceValue=${params.faceValue} ev=${show(ev)}`);
  }
  const maxEV = state.maxTicketEV ?? DEFAULT_MAX_TICKET_EV;
  if (compareRatios(ev, maxEV) > 0) {
    throw new TicketParamsError("max-ticket-ev", `ticket EV ${show(ev)} > max ticket EV ${show(maxEV)}`);
  }
  const info = typeof state.senderInfo === "function" ? state.senderInfo() : state.senderInfo;
  if (info.withdrawRound !== 0n && info.withdrawRound <= state.lastInitializedRound + 1n) {
    throw new TicketParamsError(
      "unlock-soon",
      `unable to validate sender: deposit and reserve is set to unlock soon (withdraw round ${info.withdrawRound}, last initialized round ${state.lastInitializedRound})`,
    );
  }
  if (info.reserveFundsRemaining === 0n) throw new TicketParamsError("no-reserve", "unable to validate sender: no sender reserve");
  if (info.deposit === 0n) throw new TicketParamsError("no-deposit", "unable to validate sender: no sender deposit");
  const maxTotalEV = state.maxTotalEV ?? DEFAULT_MAX_TOTAL_EV;
  const totalEV = multiplyRatios(ev, ratio(BigInt(numTickets)));
  if (compareRatios(totalEV, maxTotalEV) > 0) {
    throw new TicketParamsError("max-total-ev", `total ticket EV ${show(totalEV)} for ${numTickets} tickets > max total ticket EV ${show(maxTotalEV)}`);
  }
  const multiplier = state.depositMultiplier ?? DEFAULT_DEPOSIT_MULTIPLIER;
  if (multiplier <= 0n) throw new RangeError(`depositMultiplier must be > 0, got ${multiplier}`);
  const maxFaceValue = info.deposit / multiplier;
  if (params.faceValue > maxFaceValue) {
    throw new TicketParamsError("max-face-value", `ticket faceValue ${params.faceValue} > max faceValue ${maxFaceValue}`);
  }
}

// A go-livepeer probabilistic micropayment ticket, its hash and its signature (pm/ticket.go, pm/sender.go).
//
// The hash is keccak256 over the flattened ticket, byte for byte what the TicketBroker contract's getTicketHash
// computes (abi.encodePacked of recipient, sender, faceValue, winProb, senderNonce, recipientRandHash, auxData):
//
//   recipient(20) ‖ sender(20) ‖ u256(faceValue) ‖ u256(winProb) ‖ u256(senderNonce) ‖ recipientRandHash(32) ‖ auxData
//
// auxData is empty when creationRound = 0 and the block hash is all zeros, otherwise u256(creationRound) ‖ blockHash
// (64 bytes). The signature is the EIP-191 personal signature over the 32 raw hash bytes, v ∈ {27, 28}.

import { getAddress } from "ethers/address";
import { ZeroHash } from "ethers/constants";
import { keccak256 } from "ethers/crypto";
import { concat, getBytes, hexlify, isHexString, toBeArray, zeroPadValue } from "ethers/utils";

/** 2^256 − 1: the largest uint256, and go-livepeer's maxWinProb (a winProb of it always wins). */
export const MAX_UINT256 = (1n << 256n) - 1n;
/** Sender nonces are uint32 in go-livepeer. */
export const MAX_UINT32 = 0xffff_ffff;
const MAX_INT64 = (1n << 63n) - 1n;

export interface Ticket {
  /** The orchestrator's address (TicketParams.recipient), EIP-55 or any 0x form. */
  readonly recipient: string;
  /** The gateway's signing address: the address its OrchestratorRequest carried. */
  readonly sender: string;
  /** uint256, wei. */
  readonly faceValue: bigint;
  /** uint256; the ticket wins with probability winProb / (2^256 − 1). */
  readonly winProb: bigint;
  /** uint32, ≥ 1 for tickets this gateway makes (see nonces.ts). */
  readonly senderNonce: number;
  /** 0x + 64 hex: TicketParams.recipient_rand_hash. */
  readonly recipientRandHash: string;
  /** int64, ≥ 0: the expiration params' creation round. */
  readonly creationRound: bigint;
  /** 0x + 64 hex: the expiration params' creation round block hash (ZeroHash when absent). */
  readonly creationRoundBlockHash: string;
  /** TicketParams.expiration_block (an L1 block). Not part of the hash; the orchestrator uses it. */
  readonly paramsExpirationBlock: bigint;
}

/** The ticket's values do not fit what go-livepeer and the contract can represent. */
export class TicketError extends Error {
  override readonly name = "TicketError";
}

/** A uint256 as 32 big-endian bytes (go: LeftPadBytes(x.Bytes(), 32)); throws outside [0, 2^256 − 1]. */
export function uint256Bytes(value: bigint, field = "value"): Uint8Array {
  if (value < 0n || value > MAX_UINT256) throw new TicketError(`${field} ${value} is outside uint256`);
  return getBytes(zeroPadValue(value === 0n ? "0x" : toBeArray(value), 32));
}

/** A 32-byte value from 0x-hex or bytes; throws naming the field otherwise. */
export function bytes32(value: string | Uint8Array, field: string): Uint8Array {
  if (typeof value === "string" && !isHexString(value, 32)) {
    throw new TicketError(`${field} must be 32 bytes of 0x-hex, got ${JSON.stringify(value)}`);
  }
  const bytes = getBytes(value);
  if (bytes.length !== 32) throw new TicketError(`${field} must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

function addressBytes(address: string, field: string): Uint8Array {
  try {
    return getBytes(getAddress(address));
  } catch {
    throw new TicketError(`${field} ${JSON.stringify(address)} is not an Ethereum address`);
  }
}

/**
 * The ticket's auxData (pm/ticket.go TicketExpirationParams.AuxData): empty for round 0 with the zero hash,
 * otherwise u256(creationRound) ‖ blockHash. Round 0 with a non-zero hash, or the zero hash with a non-zero round,
 * still gives 64 bytes.
 */
export function ticketAuxData(creationRound: bigint, creationRoundBlockHash: string | Uint8Array): Uint8Array {
  if (creationRound < 0n || creationRound > MAX_INT64) {
    throw new TicketError(`creationRound ${creationRound} must be a non-negative int64`);
  }
  const hash = bytes32(creationRoundBlockHash, "creationRoundBlockHash");
  if (creationRound === 0n && hexlify(hash) === ZeroHash) return new Uint8Array(0);
  return getBytes(concat([uint256Bytes(creationRound, "creationRound"), hash]));
}

/** The hash pre-image (pm/ticket.go Ticket.flatten): 168 bytes, or 232 with auxData. */
export function flattenTicket(ticket: Ticket): Uint8Array {
  if (!Number.isSafeInteger(ticket.senderNonce) || ticket.senderNonce < 0 || ticket.senderNonce > MAX_UINT32) {
    throw new TicketError(`senderNonce ${ticket.senderNonce} must be a uint32`);
  }
  return getBytes(
    concat([
      addressBytes(ticket.recipient, "recipient"),
      addressBytes(ticket.sender, "sender"),
      uint256Bytes(ticket.faceValue, "faceValue"),
      uint256Bytes(ticket.winProb, "winProb"),
      uint256Bytes(BigInt(ticket.senderNonce), "senderNonce"),
      bytes32(ticket.recipientRandHash, "recipientRandHash"),
      ticketAuxData(ticket.creationRound, ticket.creationRoundBlockHash),
    ]),
  );
}

/** keccak256(flatten(ticket)) as lowercase 0x-hex: go's Ticket.Hash().Hex(), the contract's getTicketHash. */
export function ticketHash(ticket: Ticket): string {
  return keccak256(flattenTicket(ticket));
}

/** Signs 32-byte digests with an EIP-191 personal signature (LivepeerSigner from src/eth/identity.ts is one). */
export interface DigestSigner {
  signDigest(digest: Uint8Array): Promise<Uint8Array>;
}

/**
 * The ticket signature (pm/sender.go CreateTicketBatch: Sign(ticket.Hash().Bytes())): 65 bytes r ‖ s ‖ v.
 * A v of 0/1 is moved to 27/28 as go-livepeer's account manager does; any other shape is refused here rather than
 * by every orchestrator later.
 */
export async function signTicket(signer: DigestSigner, ticket: Ticket): Promise<Uint8Array> {
  const sig = Uint8Array.from(await signer.signDigest(getBytes(ticketHash(ticket))));
  if (sig.length !== 65) throw new TicketError(`ticket signature must be 65 bytes, the signer gave ${sig.length}`);
  const v = sig[64] as number;
  if (v === 0 || v === 1) sig[64] = v + 27;
  else if (v !== 27 && v !== 28) throw new TicketError(`ticket signature v must be 27 or 28, the signer gave ${v}`);
  return sig;
}

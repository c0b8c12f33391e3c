// go-livepeer's Ethereum signatures.
//
// Two layers, both as go-livepeer computes them:
//   - personal signature of a 32-byte digest: EIP-191 ("\x19Ethereum Signed Message:\n32" ‖ digest), 65 bytes
//     r ‖ s ‖ v with v ∈ {27, 28}. Ticket signatures are this, over the ticket hash.
//   - Livepeer "Sign(msg)": the personal signature of keccak256(msg). The OrchestratorRequest signature and the
//     segment credentials are this.
// Verification applies the orchestrator's checks in its order (length, low s, v, then ecrecover), with its messages,
// so a simulated orchestrator rejects exactly what a real one would.

import { getAddress } from "ethers/address";
import { keccak256, Signature } from "ethers/crypto";
import { hashMessage } from "ethers/hash";
import { recoverAddress } from "ethers/transaction";
import { getBytes, hexlify, toBigInt } from "ethers/utils";

/** Length of a go-livepeer signature: r (32) ‖ s (32) ‖ v (1). */
export const SIGNATURE_LENGTH = 65;

/** Digests are keccak256 outputs; the EIP-191 prefix go-livepeer signs with always says "32". */
export const DIGEST_LENGTH = 32;

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SECP256K1_HALF_ORDER = SECP256K1_ORDER / 2n;

/** What makes a signature unacceptable; the messages are go-livepeer's where it has one. */
export type SignatureFailure = "length" | "s-too-high" | "v-invalid" | "unrecoverable" | "wrong-signer";

export class SignatureError extends Error {
  override readonly name = "SignatureError";
  constructor(
    readonly failure: SignatureFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Anything that can produce an EIP-191 signature over raw bytes: an ethers Wallet, or any ethers Signer. */
export interface MessageSigner {
  signMessage(message: Uint8Array): Promise<string>;
}

/** keccak256 of msg as 32 raw bytes: the digest go-livepeer's Sign(msg) signs. */
export function livepeerDigest(msg: Uint8Array): Uint8Array {
  return getBytes(keccak256(msg));
}

/**
 * The EIP-191 hash actually fed to ECDSA for a 32-byte digest (go-ethereum's accounts.TextHash), as 0x-hex.
 */
export function personalHash(digest: Uint8Array): string {
  assertDigest(digest);
  return hashMessage(digest);
}

/**
 * Personal signature over a 32-byte digest, e.g. a ticket hash. The digest must be raw bytes: ethers would sign a
 * hex string as its 66 UTF-8 characters, which no orchestrator would accept.
 */
export async function signDigest(signer: MessageSigner, digest: Uint8Array): Promise<Uint8Array> {
  assertDigest(digest);
  return getBytes(await signer.signMessage(digest));
}

/** go-livepeer's Sign(msg) = personal signature over keccak256(msg). */
export async function signLivepeerMessage(signer: MessageSigner, msg: Uint8Array): Promise<Uint8Array> {
  return signDigest(signer, livepeerDigest(msg));
}

/**
 * The address that signed a 32-byte digest, after the orchestrator's checks. Throws SignatureError naming the
 * first check that failed.
 */
export function recoverDigestSigner(digest: Uint8Array, sig: Uint8Array): string {
  assertDigest(digest);
  if (sig.length !== SIGNATURE_LENGTH) {
    throw new SignatureError("length", `invalid signature length: ${sig.length} bytes, want ${SIGNATURE_LENGTH}`);
  }
  // Low s only: the high-s twin of a valid signature would otherwise verify too (malleability).
  if (toBigInt(sig.subarray(32, 64)) > SECP256K1_HALF_ORDER) {
    throw new SignatureError("s-too-high", "signature s value too high");
  }
  const v = sig[64];
  if (v !== 27 && v !== 28) {
    throw new SignatureError("v-invalid", `signature v value must be 27 or 28, got ${String(v)}`);
  }
  try {
    return recoverAddress(hashMessage(digest), Signature.from(hexlify(sig)));
  } catch {
    throw new SignatureError("unrecoverable", "signature does not recover to any public key");
  }
}

/** Throws SignatureError unless sig is address's personal signature over the 32-byte digest (a ticket hash). */
export function verifyDigestSignature(address: string, digest: Uint8Array, sig: Uint8Array): void {
  const expected = getAddress(address);
  const recovered = recoverDigestSigner(digest, sig);
  if (recovered !== expected) {
    throw new SignatureError("wrong-signer", `signature was made by ${recovered}, not by ${expected}`);
  }
}

/** Throws SignatureError unless sig is address's go-livepeer Sign(msg), i.e. over keccak256(msg). */
export function verifyLivepeerSignature(address: string, msg: Uint8Array, sig: Uint8Array): void {
  verifyDigestSignature(address, livepeerDigest(msg), sig);
}

function assertDigest(digest: Uint8Array): void {
  if (digest.length !== DIGEST_LENGTH) {
    throw new RangeError(`a signed digest must be ${DIGEST_LENGTH} bytes, got ${digest.length}`);
  }
}

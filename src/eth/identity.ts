// Who the gateway is to orchestrators: the address and signature it puts in every OrchestratorRequest, and the
// signer that payments use.
//
// Off-chain the gateway is the zero address with an empty signature (what go-livepeer sends in off-chain mode; an
// off-chain orchestrator checks nothing). With a key, the signature is go-livepeer's Sign over the UTF-8 bytes of the
// EIP-55 address string ("0x" included), computed once at start-up and sent with every request.
//
// The wallet lives only in closures: nothing reachable from an identity by property access, JSON.stringify or
// util.inspect holds the key, so an identity can be logged safely.

import { inspect } from "node:util";
import { getAddress } from "ethers/address";
import { ZeroAddress } from "ethers/constants";
import { getBytes, toUtf8Bytes, zeroPadValue } from "ethers/utils";
import { type MessageSigner, signDigest, signLivepeerMessage, verifyLivepeerSignature } from "./signature.js";

/** Signing with the gateway's key, in go-livepeer's two forms. */
export interface LivepeerSigner {
  /** EIP-55 address of the key. */
  readonly address: string;
  /** go-livepeer Sign(msg): personal signature over keccak256(msg), e.g. segment credentials. */
  sign(msg: Uint8Array): Promise<Uint8Array>;
  /** Personal signature over a 32-byte digest, e.g. a ticket hash. */
  signDigest(digest: Uint8Array): Promise<Uint8Array>;
}

export interface GatewayIdentity {
  /** EIP-55 address; the zero address off-chain. */
  readonly address: string;
  /** The 20 address bytes for OrchestratorRequest.address. Shared: do not modify. */
  readonly addressBytes: Uint8Array;
  /** OrchestratorRequest.sig: 65 bytes, or empty off-chain. Shared: do not modify. */
  readonly orchestratorRequestSig: Uint8Array;
  /** Undefined off-chain: there is no key, so nothing can be signed or paid. */
  readonly signer: LivepeerSigner | undefined;
}

/** A wallet or other signer whose address is known without a round trip (an ethers Wallet is one). */
export interface AddressedSigner extends MessageSigner {
  readonly address: string;
}

/** The identity of a gateway with no key: zero address, empty signature, no signer. */
export function offchainIdentity(): GatewayIdentity {
  return makeIdentity(ZeroAddress, new Uint8Array(0), undefined);
}

/** The identity of a gateway signing with wallet; signs the OrchestratorRequest message once, here. */
export async function walletIdentity(wallet: AddressedSigner): Promise<GatewayIdentity> {
  const address = getAddress(wallet.address);
  const message = orchestratorRequestMessage(address);
  const orchestratorRequestSig = await signLivepeerMessage(wallet, message);
  // A signer whose output orchestrators would reject must fail start-up, not every request afterwards.
  verifyLivepeerSignature(address, message, orchestratorRequestSig);
  const signer: LivepeerSigner = Object.freeze({
    address,
    sign: (msg: Uint8Array) => signLivepeerMessage(wallet, msg),
    signDigest: (digest: Uint8Array) => signDigest(wallet, digest),
  });
  return makeIdentity(address, orchestratorRequestSig, signer);
}

/** What an OrchestratorRequest signature signs: the UTF-8 bytes of the EIP-55 address string, "0x" included. */
export function orchestratorRequestMessage(address: string): Uint8Array {
  return toUtf8Bytes(getAddress(address));
}

/**
 * The orchestrator's check of an OrchestratorRequest (for simulated orchestrators): the address bytes are read as
 * go-ethereum's BytesToAddress does (the last 20 bytes, left-padded when shorter), then the signature must be that
 * address's Sign of its own EIP-55 string. Returns the address; throws SignatureError otherwise.
 */
export function verifyOrchestratorRequest(addressBytes: Uint8Array, sig: Uint8Array): string {
  const address = getAddress(zeroPadValue(addressBytes.subarray(-20), 20));
  verifyLivepeerSignature(address, orchestratorRequestMessage(address), sig);
  return address;
}

function makeIdentity(
  address: string,
  orchestratorRequestSig: Uint8Array,
  signer: LivepeerSigner | undefined,
): GatewayIdentity {
  const identity: GatewayIdentity = { address, addressBytes: getBytes(address), orchestratorRequestSig, signer };
  // Logs and string conversions show the address and nothing else.
  Object.defineProperties(identity, {
    toJSON: { value: () => ({ address }) },
    toString: { value: () => address },
    [inspect.custom]: { value: () => `GatewayIdentity(${address})` },
  });
  return Object.freeze(identity);
}

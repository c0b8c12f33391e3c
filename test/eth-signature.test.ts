import { describe, expect, it } from "vitest";
import { getAddress, getBytes, hexlify, keccak256, toUtf8Bytes, Wallet } from "ethers";
import {
  personalHash,
  recoverDigestSigner,
  SignatureError,
  signDigest,
  signLivepeerMessage,
  verifyDigestSignature,
  verifyLivepeerSignature,
} from "../src/eth/signature.js";

// go-livepeer crypto/verify_test.go (TestEcrecover, TestVerifySig), via ref pm-eth §6.1.
const GO_DIGEST = getBytes("0xb7da355477356fc4c47fcabcf232dc77a6db9b07b7e48b76261cc55cc8fbabb3");
const GO_SIG = getBytes(
  "0x206443228e8f784bc3a122de0d85eb3ebff82d6a79cca26c7eeb907099a6404f6dff57bc6828f28bd6cd073c89d94cf3364204679ed8365fa45b5ee6af19a9841c",
);
const GO_SIGNER = "0x3BadDb1eeE2105893136A3F96c8a963E9C6309d6";
const GO_PERSONAL_HASH = "0x1288735ecfc69223aebf1e4550f8b609241a2a5097d9b34ca50f929e1b8acb6c";
const GO_HIGH_S_SIG = getBytes(
  "0xe742ff452d41413616a5bf43fe15dd88294e983d3d36206c2712f39083d638bde0a0fc89be718fbc1033e1d30d78be1c68081562ed2e97af876f286f3453231d1b",
);

// Hardhat account #0: a public test key, never a real one.
const HARDHAT_0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const HARDHAT_0_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
// ethers' ECDSA nonces are RFC 6979 deterministic, so these are fixed; each was checked to recover to HARDHAT_0.
const HARDHAT_0_ORCH_REQ_SIG =
  "0x47d66008c2c5b0671b8e7b43b62245ae9c4ba5f6ff7e94328b68eb45090cb1080815dec67a20bdec15ce794c9ce271fa8e6552d6b0976ab7a0b92d5516b32ef31c";
const TICKET_HASH = getBytes("0xe502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2"); // pm TestHash
const HARDHAT_0_TICKET_SIG =
  "0xa98ff28377b30aeb344e37c9a497d61736583a319b7465ad3b98a9c5c9f17b212468d72ab359d59d7e649c91ed113603260cf5a9a761927e1a035b5711073a721b";

function failureOf(fn: () => unknown): SignatureError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err;
    throw err;
  }
  throw new Error("expected a SignatureError");
}

function withV(sig: Uint8Array, v: number): Uint8Array {
  const copy = sig.slice();
  copy[64] = v;
  return copy;
}

describe("go-livepeer signature vectors", () => {
  it("recovers the Go test signer from the 32 raw digest bytes", () => {
    expect(recoverDigestSigner(GO_DIGEST, GO_SIG)).toBe(GO_SIGNER);
    expect(() => verifyDigestSignature(GO_SIGNER, GO_DIGEST, GO_SIG)).not.toThrow();
    expect(() => verifyDigestSignature(GO_SIGNER.toLowerCase(), GO_DIGEST, GO_SIG)).not.toThrow();
  });

  it("hashes the digest with the EIP-191 \\n32 prefix (accounts.TextHash)", () => {
    expect(personalHash(GO_DIGEST)).toBe(GO_PERSONAL_HASH);
  });

  it('rejects a high-s signature with "signature s value too high"', () => {
    const err = failureOf(() => recoverDigestSigner(GO_DIGEST, GO_HIGH_S_SIG));
    expect(err.failure).toBe("s-too-high");
    expect(err.message).toBe("signature s value too high");
  });

  it('rejects a 64-byte signature with "invalid signature length"', () => {
    const err = failureOf(() => recoverDigestSigner(GO_DIGEST, GO_SIG.subarray(0, 64)));
    expect(err.failure).toBe("length");
    expect(err.message).toMatch(/^invalid signature length/);
  });

  it.each([0, 1, 26, 29, 255])('rejects v = %i with "signature v value must be 27 or 28"', (v) => {
    const err = failureOf(() => recoverDigestSigner(GO_DIGEST, withV(GO_SIG, v)));
    expect(err.failure).toBe("v-invalid");
    expect(err.message).toMatch(/^signature v value must be 27 or 28/);
  });

  it("checks length before s and s before v, as go-livepeer does", () => {
    expect(failureOf(() => recoverDigestSigner(GO_DIGEST, withV(GO_HIGH_S_SIG, 0))).failure).toBe("s-too-high");
    expect(failureOf(() => recoverDigestSigner(GO_DIGEST, new Uint8Array(66))).failure).toBe("length");
  });

  it("names both addresses when the signature is someone else's", () => {
    const other = "0x0000000000000000000000000000000000000001";
    const err = failureOf(() => verifyDigestSignature(other, GO_DIGEST, GO_SIG));
    expect(err.failure).toBe("wrong-signer");
    expect(err.message).toContain(GO_SIGNER);
    expect(err.message).toContain(other);
  });

  it("reports a signature no public key recovers from", () => {
    const zeroR = new Uint8Array(65);
    zeroR[63] = 1;
    zeroR[64] = 27;
    expect(failureOf(() => recoverDigestSigner(GO_DIGEST, zeroR)).failure).toBe("unrecoverable");
  });

  it("refuses digests that are not 32 bytes (e.g. a hex string's characters)", () => {
    expect(() => recoverDigestSigner(toUtf8Bytes(hexlify(GO_DIGEST)), GO_SIG)).toThrow(RangeError);
  });
});

describe("signing", () => {
  const wallet = new Wallet(HARDHAT_0_KEY);

  it("signs an OrchestratorRequest that the orchestrator's check accepts", async () => {
    const random = Wallet.createRandom();
    const message = toUtf8Bytes(getAddress(random.address)); // addr.Hex(), "0x" included
    const sig = await signLivepeerMessage(random, message);
    expect(sig).toHaveLength(65);
    expect([27, 28]).toContain(sig[64]);
    expect(() => verifyLivepeerSignature(random.address, message, sig)).not.toThrow();
    // Not a plain personal_sign of the address string: go-livepeer hashes it first.
    expect(await random.signMessage(getAddress(random.address))).not.toBe(hexlify(sig));
  });

  it("is deterministic for a known key (RFC 6979) and matches the reference formula", async () => {
    const message = toUtf8Bytes(HARDHAT_0_ADDRESS);
    const sig = await signLivepeerMessage(wallet, message);
    expect(hexlify(sig)).toBe(HARDHAT_0_ORCH_REQ_SIG);
    expect(hexlify(await signLivepeerMessage(wallet, message))).toBe(HARDHAT_0_ORCH_REQ_SIG);
    // ref pm-eth §2.1: signMessage(getBytes(keccak256(toUtf8Bytes(address))))
    expect(await wallet.signMessage(getBytes(keccak256(message)))).toBe(HARDHAT_0_ORCH_REQ_SIG);
    expect(recoverDigestSigner(getBytes(keccak256(message)), sig)).toBe(HARDHAT_0_ADDRESS);
  });

  it("signs a ticket hash directly (no extra keccak), deterministically", async () => {
    const sig = await signDigest(wallet, TICKET_HASH);
    expect(hexlify(sig)).toBe(HARDHAT_0_TICKET_SIG);
    expect(() => verifyDigestSignature(HARDHAT_0_ADDRESS, TICKET_HASH, sig)).not.toThrow();
  });

  it("detects a tampered message", async () => {
    const sig = await signLivepeerMessage(wallet, toUtf8Bytes("segment A"));
    const err = failureOf(() => verifyLivepeerSignature(HARDHAT_0_ADDRESS, toUtf8Bytes("segment B"), sig));
    expect(err.failure).toBe("wrong-signer");
  });
});

import { describe, expect, it } from "vitest";
import { getBytes, hexlify, Wallet, ZeroAddress, ZeroHash } from "ethers";
import { walletIdentity } from "../src/eth/identity.js";
import { recoverDigestSigner, SignatureError, verifyDigestSignature } from "../src/eth/signature.js";
import { flattenTicket, signTicket, type Ticket, TicketError, ticketAuxData, ticketHash } from "../src/payments/ticket.js";

// Every vector here is from go-livepeer's tests (pm/ticket_test.go, crypto/verify_test.go) via ref pm-eth §6.1.
const RAND_HASH = "0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d";

function ticket(overrides: Partial<Ticket>): Ticket {
  return {
    recipient: ZeroAddress,
    sender: ZeroAddress,
    faceValue: 0n,
    winProb: 0n,
    senderNonce: 0,
    recipientRandHash: ZeroHash,
    creationRound: 0n,
    creationRoundBlockHash: ZeroHash,
    paramsExpirationBlock: 0n,
    ...overrides,
  };
}

describe("ticketHash (pm/ticket_test.go TestHash)", () => {
  const vectors: Array<[string, Partial<Ticket>, string]> = [
    ["max nonce", { senderNonce: 4294967295 }, "e1393fc7f6de093780674022f96cb8e3872235167d037c04d554e58c0e63d280"],
    ["nonce 1", { senderNonce: 1 }, "ce0918ba94518293e9712effbe5fca4f1f431089833a5b8c257cb1e024595f68"],
    ["face 1 win 500", { faceValue: 1n, winProb: 500n }, "87ef13f2d37e4d5352a01d3c77b8179d80e0887f1953bfabfd0bfd7b0f689ddd"],
    ["face 500 win 1", { faceValue: 500n, winProb: 1n }, "aa4b35071043587992ac8b9dd1b2cf1d8311130e6458cf0b2342484e21af5f5b"],
    ["recipient", { recipient: "0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F" }, "81e353ae39046e2b77b9f996abbaeed527fda559b61ef90f299c4499dd508ccc"],
    ["recipientRandHash", { recipientRandHash: RAND_HASH }, "be5eaf9a49a39540b9bb02f1a21904f61324a29819e2c032824bfaa10c100b17"],
    ["auxData", { creationRound: 10n, creationRoundBlockHash: RAND_HASH }, "e502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2"],
  ];
  for (const [name, fields, expected] of vectors) {
    it(name, () => {
      expect(ticketHash(ticket(fields))).toBe(`0x${expected}`);
    });
  }

  it("pre-image is 168 bytes without auxData and 232 with it", () => {
    expect(flattenTicket(ticket({})).length).toBe(168);
    expect(flattenTicket(ticket({ creationRound: 10n, creationRoundBlockHash: RAND_HASH })).length).toBe(232);
  });

  it("paramsExpirationBlock is not hashed", () => {
    expect(ticketHash(ticket({ paramsExpirationBlock: 1234n }))).toBe(ticketHash(ticket({})));
  });

  it("lowercase and checksummed addresses hash the same", () => {
    const a = "0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F";
    expect(ticketHash(ticket({ recipient: a.toLowerCase() }))).toBe(ticketHash(ticket({ recipient: a })));
  });

  it("refuses values the contract cannot represent", () => {
    expect(() => ticketHash(ticket({ faceValue: 1n << 256n }))).toThrow(TicketError);
    expect(() => ticketHash(ticket({ winProb: -1n }))).toThrow(/winProb/);
    expect(() => ticketHash(ticket({ senderNonce: 4294967296 }))).toThrow(/senderNonce/);
    expect(() => ticketHash(ticket({ senderNonce: 1.5 }))).toThrow(/senderNonce/);
    expect(() => ticketHash(ticket({ recipientRandHash: "0x1234" }))).toThrow(/recipientRandHash/);
    expect(() => ticketHash(ticket({ recipient: "0x1234" }))).toThrow(/recipient/);
    expect(() => ticketHash(ticket({ creationRound: -1n }))).toThrow(/creationRound/);
  });
});

describe("ticketAuxData (pm/ticket_test.go TestAuxData)", () => {
  const blk = "0x7624778dedc75f8b322b9fa1632a610d40b85e106c7d9bf0e743a9ce291b9c6f";
  const zero32 = "00".repeat(32);
  it("round 0 with a block hash: 32 zero bytes ‖ hash", () => {
    expect(hexlify(ticketAuxData(0n, blk))).toBe(`0x${zero32}${blk.slice(2)}`);
  });
  it("round 5 with the zero hash: u256(5) ‖ 32 zero bytes", () => {
    expect(hexlify(ticketAuxData(5n, ZeroHash))).toBe(`0x${"00".repeat(31)}05${zero32}`);
  });
  it("round 0 with the zero hash: empty", () => {
    expect(ticketAuxData(0n, ZeroHash).length).toBe(0);
  });
  it("round 5 with a block hash", () => {
    expect(hexlify(ticketAuxData(5n, blk))).toBe(`0x0000000000000000000000000000000000000000000000000000000000000005${blk.slice(2)}`);
  });
  it("accepts the hash as bytes", () => {
    expect(hexlify(ticketAuxData(5n, getBytes(blk)))).toBe(hexlify(ticketAuxData(5n, blk)));
  });
});

describe("ticket signatures (crypto/verify_test.go TestEcrecover, TestVerifySig)", () => {
  const msg = getBytes("0xb7da355477356fc4c47fcabcf232dc77a6db9b07b7e48b76261cc55cc8fbabb3");
  const sig = getBytes(
    "0x206443228e8f784bc3a122de0d85eb3ebff82d6a79cca26c7eeb907099a6404f6dff57bc6828f28bd6cd073c89d94cf3364204679ed8365fa45b5ee6af19a9841c",
  );
  const highS = getBytes(
    "0xe742ff452d41413616a5bf43fe15dd88294e983d3d36206c2712f39083d638bde0a0fc89be718fbc1033e1d30d78be1c68081562ed2e97af876f286f3453231d1b",
  );

  it("go's signature over 32 raw bytes recovers to go's address", () => {
    expect(recoverDigestSigner(msg, sig)).toBe("0x3BadDb1eeE2105893136A3F96c8a963E9C6309d6");
  });
  it("high s, short and bad-v signatures are refused as go refuses them", () => {
    expect(() => recoverDigestSigner(msg, highS)).toThrow("signature s value too high");
    expect(() => recoverDigestSigner(msg, sig.subarray(0, 64))).toThrow(/invalid signature length/);
    const badV = Uint8Array.from(sig);
    badV[64] = 29;
    expect(() => recoverDigestSigner(msg, badV)).toThrow(/v value must be 27 or 28/);
  });

  // Hardhat account #0: a public test key.
  const wallet = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  const t = ticket({
    recipient: "0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F",
    sender: wallet.address,
    faceValue: 1_000_000n,
    winProb: 1n << 200n,
    senderNonce: 7,
    recipientRandHash: RAND_HASH,
    creationRound: 10n,
    creationRoundBlockHash: RAND_HASH,
  });

  it("signTicket is the personal signature of the 32 hash bytes, v ∈ {27,28}, recovering to the sender", async () => {
    const identity = await walletIdentity(wallet);
    const s = await signTicket(identity.signer!, t);
    expect(s.length).toBe(65);
    expect([27, 28]).toContain(s[64]);
    verifyDigestSignature(wallet.address, getBytes(ticketHash(t)), s);
    // Same bytes as ethers' signMessage over the raw hash (RFC 6979: deterministic).
    expect(hexlify(s)).toBe(await wallet.signMessage(getBytes(ticketHash(t))));
  });

  it("signTicket moves v 0/1 to 27/28 and refuses malformed signer output", async () => {
    const good = getBytes(await wallet.signMessage(getBytes(ticketHash(t))));
    const zeroV = Uint8Array.from(good);
    zeroV[64] = (good[64] as number) - 27;
    const fixed = await signTicket({ signDigest: async () => zeroV }, t);
    expect(hexlify(fixed)).toBe(hexlify(good));
    await expect(signTicket({ signDigest: async () => good.subarray(0, 64) }, t)).rejects.toThrow(/65 bytes/);
    const v30 = Uint8Array.from(good);
    v30[64] = 30;
    await expect(signTicket({ signDigest: async () => v30 }, t)).rejects.toThrow(/v must be 27 or 28/);
  });

  it("a signature over another ticket does not verify", async () => {
    const s = await signTicket({ signDigest: async (d) => getBytes(await wallet.signMessage(d)) }, t);
    const other = getBytes(ticketHash({ ...t, senderNonce: 8 }));
    expect(() => verifyDigestSignature(wallet.address, other, s)).toThrow(SignatureError);
  });
});

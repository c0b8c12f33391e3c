import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getAddress, getBytes, hexlify, toBigInt, Wallet } from "ethers";
import { walletIdentity } from "../src/eth/identity.js";
import { verifyDigestSignature } from "../src/eth/signature.js";
import { PaymentSchema, PriceInfoSchema } from "../src/gen/net/lp_rpc_pb.js";
import { NonceAllocator } from "../src/payments/nonces.js";
import { buildPayment, createPayment, decodePaymentHeader, encodePaymentHeader, minimalBytes, PAYMENT_HEADER } from "../src/payments/payment.js";
import { MAX_UINT256, ticketHash } from "../src/payments/ticket.js";
import type { PmTicketParams } from "../src/payments/ticket-params.js";

// Hardhat account #0: a public test key.
const wallet = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const RAND = "0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d";
const BLOCK = "0x7624778dedc75f8b322b9fa1632a610d40b85e106c7d9bf0e743a9ce291b9c6f";
const params: PmTicketParams = {
  recipient: "0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F",
  faceValue: 1_000_000_000_000n,
  winProb: MAX_UINT256 / 125n,
  recipientRandHash: RAND,
  seed: 0x00abcdefn,
  expirationBlock: 123_456n,
  creationRound: 3_500n,
  creationRoundBlockHash: BLOCK,
};
const price = create(PriceInfoSchema, { pricePerUnit: 1200n, pixelsPerUnit: 7n, capability: 37, constraint: "my-capability" });

describe("Payment", () => {
  it("createPayment → header → decode: the orchestrator sees what was signed", async () => {
    const identity = await walletIdentity(wallet);
    const nonces = new NonceAllocator();
    const created = await createPayment({ signer: identity.signer!, params, expectedPrice: price, nonces, tickets: 3 });
    expect(PAYMENT_HEADER).toBe("Livepeer-Payment");
    // standard alphabet, padded
    expect(created.header).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(created.header.length % 4).toBe(0);
    expect(created.header).toBe(Buffer.from(toBinary(PaymentSchema, created.payment)).toString("base64"));

    const p = decodePaymentHeader(created.header);
    expect(getAddress(hexlify(p.sender))).toBe(wallet.address);
    const tp = p.ticketParams!;
    expect(getAddress(hexlify(tp.recipient))).toBe(params.recipient);
    expect(toBigInt(tp.faceValue)).toBe(params.faceValue);
    expect(toBigInt(tp.winProb)).toBe(params.winProb);
    expect(hexlify(tp.recipientRandHash)).toBe(RAND);
    expect(hexlify(tp.seed)).toBe("0xabcdef"); // minimal big-endian, as go's big.Int.Bytes()
    expect(toBigInt(tp.expirationBlock)).toBe(123_456n);
    expect(tp.expirationParams).toBeUndefined(); // AI: genPayment leaves the nested one out
    expect(p.expirationParams?.creationRound).toBe(3_500n);
    expect(hexlify(p.expirationParams!.creationRoundBlockHash)).toBe(BLOCK);
    expect(p.expectedPrice).toMatchObject({ pricePerUnit: 1200n, pixelsPerUnit: 7n, capability: 37, constraint: "my-capability" });
    expect(p.ticketSenderParams.map((s) => s.senderNonce)).toEqual([1, 2, 3]);

    // As the orchestrator does: rebuild each ticket from the payment and check its signature.
    for (const sp of p.ticketSenderParams) {
      const hash = ticketHash({
        recipient: hexlify(tp.recipient),
        sender: hexlify(p.sender),
        faceValue: toBigInt(tp.faceValue),
        winProb: toBigInt(tp.winProb),
        senderNonce: sp.senderNonce,
        recipientRandHash: hexlify(tp.recipientRandHash),
        creationRound: p.expirationParams!.creationRound,
        creationRoundBlockHash: hexlify(p.expirationParams!.creationRoundBlockHash),
        paramsExpirationBlock: toBigInt(tp.expirationBlock),
      });
      expect(sp.sig.length).toBe(65);
      verifyDigestSignature(wallet.address, getBytes(hash), sp.sig);
    }
    expect(created.tickets.map((t) => ticketHash(t))).toEqual(
      created.tickets.map((t) => ticketHash({ ...t, sender: wallet.address })),
    );

    // the next payment over the same params continues the nonces
    const next = await createPayment({ signer: identity.signer!, params, expectedPrice: price, nonces, tickets: 2, nestedExpirationParams: true });
    const q = fromBinary(PaymentSchema, Buffer.from(next.header, "base64"));
    expect(q.ticketSenderParams.map((s) => s.senderNonce)).toEqual([4, 5]);
    expect(q.ticketParams?.expirationParams?.creationRound).toBe(3_500n); // BYOC echoes the nested one too
  });

  it("no tickets: no ticket_params, but sender, expiration_params and expected_price are present", () => {
    const p = decodePaymentHeader(encodePaymentHeader(buildPayment({ sender: wallet.address, params, expectedPrice: price, senderParams: [] })));
    expect(p.ticketParams).toBeUndefined();
    expect(p.ticketSenderParams).toEqual([]);
    expect(p.expirationParams?.creationRound).toBe(3_500n);
    expect(p.expectedPrice?.pricePerUnit).toBe(1200n);
    expect(getAddress(hexlify(p.sender))).toBe(wallet.address);
  });

  it("expected_price is a copy: later changes to the received message do not leak in", () => {
    const received = create(PriceInfoSchema, { pricePerUnit: 5n, pixelsPerUnit: 1n });
    const payment = buildPayment({ sender: wallet.address, params, expectedPrice: received, senderParams: [] });
    received.pricePerUnit = 99n;
    expect(payment.expectedPrice?.pricePerUnit).toBe(5n);
  });

  it("zero values encode as empty bytes, as go's big.Int.Bytes()", () => {
    expect(minimalBytes(0n).length).toBe(0);
    expect(hexlify(minimalBytes(256n))).toBe("0x0100");
    expect(() => minimalBytes(-1n)).toThrow(/negative/);
    const p = buildPayment({ sender: wallet.address, params: { ...params, seed: 0n, faceValue: 0n }, expectedPrice: price, senderParams: [{ senderNonce: 1, sig: new Uint8Array(65) } as never] });
    expect(p.ticketParams?.seed.length).toBe(0);
    expect(p.ticketParams?.faceValue.length).toBe(0);
  });

  it("decodePaymentHeader refuses non-standard base64", () => {
    expect(() => decodePaymentHeader("ab-_")).toThrow(/base64/);
    expect(() => decodePaymentHeader("abc")).toThrow(/base64/);
  });

  it("a payment whose nonces are exhausted is refused before anything is signed", async () => {
    const nonces = new NonceAllocator();
    nonces.allocate(params, 600);
    let signed = 0;
    const signer = { address: wallet.address, signDigest: async (d: Uint8Array) => { signed++; return getBytes(await wallet.signMessage(d)); } };
    await expect(createPayment({ signer, params, expectedPrice: price, nonces, tickets: 1 })).rejects.toThrow(/fresh ticket params/);
    expect(signed).toBe(0);
  });
});

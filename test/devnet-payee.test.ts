// The simulated go-livepeer recipient (src/devnet/payee.ts): ticket params as go-livepeer issues them (§6.1 winProb
// vectors, EV, recipientRand), and payments made with the gateway's own modules, credited exactly or refused with
// go-livepeer's error texts.
import { create, clone } from "@bufbuild/protobuf";
import { getAddress, getBytes, hexlify, keccak256, toBigInt, toUtf8Bytes, Wallet, ZeroHash } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  recipientRand,
  recipientRandHash,
  SimulatedPayee,
  staticPayeeChain,
  goFloatString,
  tokenBalance,
  PARAMS_EXPIRATION_BLOCKS,
  type StaticPayeeChain,
  type WinningTicketRecord,
} from "../src/devnet/payee.js";
import { walletIdentity, type LivepeerSigner } from "../src/eth/identity.js";
import { PaymentSchema, PriceInfoSchema, TicketParamsSchema, type Payment, type PriceInfo } from "../src/gen/net/lp_rpc_pb.js";
import { addRatios, multiplyRatios, ratio, type Ratio } from "../src/network/price.js";
import { ticketEV } from "../src/payments/expected-value.js";
import { NonceAllocator } from "../src/payments/nonces.js";
import { buildPayment, createPayment, makeTickets, signTickets } from "../src/payments/payment.js";
import { MAX_UINT256 } from "../src/payments/ticket.js";
import { parseTicketParams, type PmTicketParams } from "../src/payments/ticket-params.js";

const SECRET = getBytes(keccak256(toUtf8Bytes("payee test secret")));
const ORCH = new Wallet(keccak256(toUtf8Bytes("payee test orchestrator")));
const PRICE = ratio(50_000n);
const PRICE_INFO: PriceInfo = create(PriceInfoSchema, { pricePerUnit: 50_000n, pixelsPerUnit: 1n });
const CAPABILITY = "depth";

function flipByte(bytes: Uint8Array, index: number): void {
  bytes[index] = (bytes[index] ?? 0) ^ 0xff;
}

const big = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : toBigInt(bytes));

function newPayee(chain: StaticPayeeChain, extra: Partial<ConstructorParameters<typeof SimulatedPayee>[0]> = {}): SimulatedPayee {
  return new SimulatedPayee({ recipientKey: ORCH, secret: SECRET, chain, ...extra });
}

/** The params as the gateway reads them off the wire. */
function issue(payee: SimulatedPayee, sender: string, price: Ratio = PRICE): PmTicketParams {
  return parseTicketParams(create(TicketParamsSchema, payee.ticketParams(sender, price)));
}

describe("ticket params", () => {
  // pm/recipient_test.go TestTicketParams: EV 5, redeemGas 10000, txCostMultiplier 100.
  it.each([
    [100n, undefined, 100000000n, 5789604461865809771178549250434395392663499233282028201972879200395660n],
    [777n, undefined, 777000000n, 745122839364969082519761808292714979750772102095499125093034646125570n],
    [1n, 10001n, 10001n, 57890255593098787833002192285115442382396752657554526567072084795477017120n],
  ])("gasPrice %s (maxFloat %s) gives faceValue %s and the Go winProb", (gasPrice, maxFloat, faceValue, winProb) => {
    const chain = staticPayeeChain();
    const sender = Wallet.createRandom().address;
    if (maxFloat !== undefined) chain.setSenderInfo(sender, { deposit: 10n ** 18n, withdrawRound: 0n, reserveFundsRemaining: maxFloat });
    const payee = newPayee(chain, { ticketEV: 5n, redeemGas: 10_000n, gasPrice });
    const init = create(TicketParamsSchema, payee.ticketParams(sender, PRICE));
    expect(big(init.faceValue)).toBe(faceValue);
    expect(big(init.winProb)).toBe(winProb);
    // The resulting EV is at least the configured one.
    expect(ticketEV(faceValue, winProb).num >= 5n * ticketEV(faceValue, winProb).den).toBe(true);
  });

  it("EV vectors (pm/ticket_test.go TestEV)", () => {
    expect(goFloatString(ticketEV(1000n, MAX_UINT256 / 2n), 0)).toBe("500");
    expect(ticketEV(1000n, 0n)).toEqual(ratio(0n));
    expect(ticketEV(1000n, MAX_UINT256)).toEqual(ratio(1000n));
    expect(ticketEV(0n, 999n)).toEqual(ratio(0n));
  });

  it("defaults: 8 gwei EV, 1.2M gas at 1 gwei, the rest of the params from the chain", () => {
    const chain = staticPayeeChain({ l1Block: 5_000n, round: 42n, blockHash: keccak256(toUtf8Bytes("round 42")) });
    const payee = newPayee(chain);
    const sender = Wallet.createRandom().address;
    const params = issue(payee, sender);
    expect(params.recipient).toBe(ORCH.address);
    expect(params.faceValue).toBe(1_200_000n * 1_000_000_000n * 100n);
    expect(ticketEV(params.faceValue, params.winProb).num >= 8_000_000_000n * ticketEV(params.faceValue, params.winProb).den).toBe(true);
    expect(params.expirationBlock).toBe(5_000n + PARAMS_EXPIRATION_BLOCKS);
    expect(params.creationRound).toBe(42n);
    expect(params.creationRoundBlockHash).toBe(keccak256(toUtf8Bytes("round 42")));
    // Fresh seed each time.
    expect(issue(payee, sender).seed).not.toBe(params.seed);
  });

  it("falls back to the previous round when the last initialized round has a zero block hash", () => {
    const chain = staticPayeeChain({ round: 7n, blockHash: keccak256(toUtf8Bytes("round 7")) });
    chain.setRound(8n, ZeroHash);
    const params = issue(newPayee(chain), Wallet.createRandom().address);
    expect(params.creationRound).toBe(7n);
    expect(params.creationRoundBlockHash).toBe(keccak256(toUtf8Bytes("round 7")));
  });

  it("price 0 gives faceValue 0 and winProb 0", () => {
    const init = create(TicketParamsSchema, newPayee(staticPayeeChain()).ticketParams(Wallet.createRandom().address, ratio(0n)));
    expect(init.faceValue.length).toBe(0);
    expect(init.winProb.length).toBe(0);
    expect(init.recipientRandHash.length).toBe(32);
  });

  it("refuses a sender whose reserve cannot carry one ticket", () => {
    const chain = staticPayeeChain();
    const sender = Wallet.createRandom().address;
    chain.setSenderInfo(sender, { deposit: 10n ** 18n, withdrawRound: 0n, reserveFundsRemaining: 4n * 8_000_000_000n });
    expect(() => newPayee(chain, { poolSize: 5n }).ticketParams(sender, PRICE)).toThrow(/insufficient sender reserve/);
  });

  it("recipientRand is the HMAC of the echoed fields: deterministic, price reduced, sender-bound", () => {
    const chain = staticPayeeChain();
    const seedBytes = getBytes(keccak256(toUtf8Bytes("fixed seed")));
    const payee = newPayee(chain, { randomSeed: () => seedBytes });
    const sender = getAddress("0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F");
    const a = create(TicketParamsSchema, payee.ticketParams(sender, ratio(6n, 4n)));
    const b = create(TicketParamsSchema, payee.ticketParams(sender, ratio(3n, 2n)));
    expect(hexlify(a.recipientRandHash)).toBe(hexlify(b.recipientRandHash));
    const input = {
      seed: toBigInt(seedBytes),
      sender,
      faceValue: big(a.faceValue),
      winProb: big(a.winProb),
      expirationBlock: big(a.expirationBlock),
      price: { num: 6n, den: 4n }, // unreduced on purpose: reduced inside, as big.Rat is
      creationRound: a.expirationParams!.creationRound,
      creationRoundBlockHash: hexlify(a.expirationParams!.creationRoundBlockHash),
    };
    const rand = recipientRand(SECRET, input);
    expect(recipientRandHash(rand)).toBe(hexlify(a.recipientRandHash));
    expect(recipientRand(SECRET, input)).toBe(rand);
    expect(recipientRand(SECRET, { ...input, sender: ORCH.address })).not.toBe(rand);
    expect(recipientRand(SECRET, { ...input, price: ratio(3n, 1n) })).not.toBe(rand);
    expect(recipientRand(getBytes(keccak256("0x01")), input)).not.toBe(rand);
  });
});

describe("receivePayment", () => {
  let gateway: LivepeerSigner;
  let other: LivepeerSigner;

  beforeAll(async () => {
    gateway = (await walletIdentity(new Wallet(keccak256(toUtf8Bytes("payee test gateway"))))).signer!;
    other = (await walletIdentity(new Wallet(keccak256(toUtf8Bytes("payee test other gateway"))))).signer!;
  });

  interface Setup {
    chain: StaticPayeeChain;
    payee: SimulatedPayee;
    params: PmTicketParams;
    ev: Ratio;
    nonces: NonceAllocator;
  }

  function setup(extra: Partial<ConstructorParameters<typeof SimulatedPayee>[0]> = {}): Setup {
    const chain = staticPayeeChain();
    const payee = newPayee(chain, extra);
    const params = issue(payee, gateway.address);
    return { chain, payee, params, ev: ticketEV(params.faceValue, params.winProb), nonces: new NonceAllocator() };
  }

  async function pay(s: Setup, tickets: number, signer: LivepeerSigner = gateway, price: PriceInfo = PRICE_INFO): Promise<Payment> {
    return (await createPayment({ signer, params: s.params, expectedPrice: price, nonces: s.nonces, tickets, nestedExpirationParams: true })).payment;
  }

  const times = (n: number, ev: Ratio): Ratio => multiplyRatios(ratio(BigInt(n)), ev);

  it("credits exactly tickets × EV to (sender, manifest) for a payment made by the gateway's createPayment", async () => {
    const s = setup();
    const receipt = s.payee.receivePayment(await pay(s, 3), CAPABILITY);
    expect(receipt).toEqual({ credited: times(3, s.ev), tickets: 3, winning: 0, fatal: false });
    expect(s.payee.balance(gateway.address, CAPABILITY)).toEqual(times(3, s.ev));
    expect(s.payee.balance(gateway.address, "other-capability")).toEqual(ratio(0n));
    // A second payment over the same params continues the nonces and adds up.
    expect(s.payee.receivePayment(await pay(s, 2), CAPABILITY).credited).toEqual(times(2, s.ev));
    expect(s.payee.balance(gateway.address, CAPABILITY)).toEqual(times(5, s.ev));
    expect(s.payee.stats()).toMatchObject({ ticketsReceived: 5, ticketsCredited: 5, totalCredited: times(5, s.ev), ticketsRejected: {} });
    // Debits are exact and may go negative.
    expect(s.payee.debit(gateway.address, CAPABILITY, ratio(50_000n))).toEqual(addRatios(times(5, s.ev), ratio(-50_000n)));
    expect(tokenBalance(ratio(-7n, 2n))).toBe(-3n);
  });

  it("credits nothing for a payment without ticket params", async () => {
    const s = setup();
    const payment = create(PaymentSchema, { sender: getBytes(gateway.address), expectedPrice: PRICE_INFO });
    expect(s.payee.receivePayment(payment, CAPABILITY)).toEqual({ credited: ratio(0n), tickets: 0, winning: 0, fatal: false });
  });

  async function expectRefused(
    s: Setup,
    payment: Payment,
    error: RegExp,
    fatal: boolean,
    reason: string,
  ): Promise<void> {
    const before = s.payee.balance(gateway.address, CAPABILITY);
    const receipt = s.payee.receivePayment(payment, CAPABILITY);
    expect(receipt.error).toMatch(error);
    expect(receipt.fatal).toBe(fatal);
    expect(receipt.reason).toBe(reason);
    expect(receipt.credited).toEqual(ratio(0n));
    expect(receipt.tickets).toBe(0);
    expect(s.payee.balance(gateway.address, CAPABILITY)).toEqual(before);
    expect(s.payee.stats().ticketsRejected[receipt.reason!]).toBeGreaterThan(0);
  }

  it("refuses a tampered expected_price (fatal recipientRand mismatch)", async () => {
    const s = setup();
    const tampered = await pay(s, 2, gateway, create(PriceInfoSchema, { pricePerUnit: 50_001n, pixelsPerUnit: 1n }));
    await expectRefused(s, tampered, /^invalid recipientRand for ticket recipientRandHash$/, true, "recipient-rand");
  });

  it("credits an expected_price written unreduced (100000/2 is the same big.Rat)", async () => {
    const s = setup();
    const receipt = s.payee.receivePayment(await pay(s, 1, gateway, create(PriceInfoSchema, { pricePerUnit: 100_000n, pixelsPerUnit: 2n })), CAPABILITY);
    expect(receipt.error).toBeUndefined();
    expect(receipt.tickets).toBe(1);
  });

  it("refuses tickets from another sender than the params were issued to", async () => {
    const s = setup();
    const receipt = s.payee.receivePayment(await pay(s, 1, other), CAPABILITY);
    expect(receipt).toMatchObject({ error: "invalid recipientRand for ticket recipientRandHash", fatal: true, tickets: 0 });
    expect(s.payee.balance(other.address, CAPABILITY)).toEqual(ratio(0n));
  });

  it("refuses a reused nonce", async () => {
    const s = setup();
    const payment = await pay(s, 2);
    expect(s.payee.receivePayment(payment, CAPABILITY).tickets).toBe(2);
    await expectRefused(s, payment, /^invalid ticket senderNonce sender=0x[0-9a-fA-F]{40} nonce=1: already seen$/, false, "nonce-seen");
    expect(s.payee.stats().ticketsRejected).toEqual({ "nonce-seen": 2 });
  });

  it("refuses the 601st nonce of one params set", async () => {
    const s = setup();
    const receipt = s.payee.receivePayment(await pay(s, 600), CAPABILITY);
    expect(receipt).toMatchObject({ tickets: 600, credited: times(600, s.ev) });
    const tickets = makeTickets(s.params, gateway.address, [601]);
    const payment = buildPayment({ sender: gateway.address, params: s.params, expectedPrice: PRICE_INFO, senderParams: await signTickets(gateway, tickets) });
    await expectRefused(s, payment, /nonce=601: too many values$/, false, "nonce-limit");
  }, 60_000);

  it("refuses expired params (expirationBlock ≤ last seen L1 block)", async () => {
    const s = setup();
    const payment = await pay(s, 1);
    s.chain.setL1Block(s.params.expirationBlock);
    await expectRefused(s, payment, /^TicketParams expired$/, false, "expired");
  });

  it("accepts params one block before expiry", async () => {
    const s = setup();
    const payment = await pay(s, 1);
    s.chain.setL1Block(s.params.expirationBlock - 1n);
    expect(s.payee.receivePayment(payment, CAPABILITY).tickets).toBe(1);
  });

  it("refuses a bad signature (non-fatal)", async () => {
    const s = setup();
    const payment = clone(PaymentSchema, await pay(s, 1));
    flipByte(payment.ticketSenderParams[0]!.sig, 10);
    await expectRefused(s, payment, /^invalid ticket signature$/, false, "signature");
  });

  it("refuses a signature of the wrong length (non-fatal)", async () => {
    const s = setup();
    const payment = clone(PaymentSchema, await pay(s, 1));
    payment.ticketSenderParams[0]!.sig = payment.ticketSenderParams[0]!.sig.subarray(0, 64);
    await expectRefused(s, payment, /^invalid ticket signature$/, false, "signature");
  });

  it("refuses tickets for another recipient", async () => {
    const s = setup();
    const payment = clone(PaymentSchema, await pay(s, 1));
    payment.ticketParams!.recipient = getBytes(Wallet.createRandom().address);
    await expectRefused(s, payment, /^invalid ticket recipient$/, true, "recipient");
  });

  it("refuses a payment with ticket params but no expiration_params (go-livepeer would panic)", async () => {
    const s = setup();
    const payment = clone(PaymentSchema, await pay(s, 1));
    payment.expirationParams = undefined;
    await expectRefused(s, payment, /expiration_params.*panics/, true, "no-expiration-params");
  });

  it("refuses a payment without sender or with pixelsPerUnit 0", async () => {
    const s = setup();
    const noSender = clone(PaymentSchema, await pay(s, 1));
    noSender.sender = new Uint8Array(0);
    await expectRefused(s, noSender, /^Could not find Sender for payment/, true, "no-sender");
    const noPixels = clone(PaymentSchema, await pay(s, 1));
    noPixels.expectedPrice!.pixelsPerUnit = 0n;
    await expectRefused(s, noPixels, /^invalid expected price sent with payment/, true, "invalid-expected-price");
  });

  it("is sticky: tickets after the first failing one are not credited, those before are", async () => {
    const s = setup();
    const payment = clone(PaymentSchema, await pay(s, 4));
    flipByte(payment.ticketSenderParams[1]!.sig, 5);
    const receipt = s.payee.receivePayment(payment, CAPABILITY);
    expect(receipt).toMatchObject({ tickets: 1, credited: s.ev, error: "invalid ticket signature", fatal: false });
    expect(s.payee.balance(gateway.address, CAPABILITY)).toEqual(s.ev);
    expect(s.payee.stats().ticketsRejected).toEqual({ signature: 1, "after-earlier-error": 2 });
    // The later tickets' nonces were still used up, as go-livepeer's recipient records them.
    const replay = buildPayment({
      sender: gateway.address,
      params: s.params,
      expectedPrice: PRICE_INFO,
      senderParams: payment.ticketSenderParams.slice(2),
    });
    expect(s.payee.receivePayment(replay, CAPABILITY).error).toMatch(/already seen/);
  });

  it("records winning tickets and hands them to onWinningTicket with the recipientRand", async () => {
    const won: WinningTicketRecord[] = [];
    // faceValue = EV makes winProb 2^256 − 1: every ticket wins.
    const s = setup({ ticketEV: 1_000n, maxFaceValue: 1_000n, redeemGas: 1n, gasPrice: 1n, onWinningTicket: (ticket, sig, rand) => void won.push({ ticket, sig, recipientRand: rand }) });
    expect(s.params.winProb).toBe(MAX_UINT256);
    const receipt = s.payee.receivePayment(await pay(s, 2), CAPABILITY);
    expect(receipt).toMatchObject({ tickets: 2, winning: 2, credited: ratio(2_000n) });
    expect(won).toHaveLength(2);
    expect(recipientRandHash(won[0]!.recipientRand)).toBe(s.params.recipientRandHash);
    expect(won.map((w) => w.ticket.senderNonce)).toEqual([1, 2]);
    expect(s.payee.winningTickets()).toHaveLength(2);
    expect(s.payee.stats().winningTickets).toBe(2);
  });
});

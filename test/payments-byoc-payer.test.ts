// The BYOC payer: from an orchestrator's token to a Livepeer-Payment header, with every check before signing.
import { create } from "@bufbuild/protobuf";
import { getBytes, hexlify, randomBytes, toBeArray, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { walletIdentity, type LivepeerSigner } from "../src/eth/identity.js";
import { PriceInfoSchema, TicketExpirationParamsSchema, TicketParamsSchema } from "../src/gen/net/lp_rpc_pb.js";
import { ratio, type Ratio } from "../src/network/price.js";
import { ByocPayer, PaymentRefusedError, answerAsksForFreshParams, type PayableToken, type PaymentObserver } from "../src/payments/byoc-payer.js";
import { ticketEV } from "../src/payments/expected-value.js";
import { orchestratorWinProb } from "../src/payments/orchestrator-params.js";
import { decodePaymentHeader } from "../src/payments/payment.js";
import { ticketHash } from "../src/payments/ticket.js";
import { recoverDigestSigner } from "../src/eth/signature.js";

const RECIPIENT = Wallet.createRandom().address;
const FACE_VALUE = 1_000_000_000_000n; // 1e12 wei
const TICKET_EV = 1_000_000_000n; // 1e9 wei
const PRICE = 10_000_000n; // wei per second: 60 s = 6e8, less than one ticket's EV

function token(overrides: { price?: bigint; expirationBlock?: bigint; balance?: bigint; params?: boolean } = {}): PayableToken {
  const price = overrides.price ?? PRICE;
  return {
    price: ratio(price),
    priceInfo: create(PriceInfoSchema, { pricePerUnit: price, pixelsPerUnit: 1n }),
    balance: overrides.balance ?? 0n,
    ticketParams: overrides.params === false ? undefined : {
      message: create(TicketParamsSchema, {
        recipient: getBytes(RECIPIENT),
        faceValue: toBeArray(FACE_VALUE),
        winProb: toBeArray(orchestratorWinProb(FACE_VALUE, TICKET_EV)),
        recipientRandHash: randomBytes(32),
        seed: Uint8Array.from([0x5e, ...randomBytes(31)]), // go's minimal encoding would drop a leading zero byte
        expirationBlock: toBeArray(overrides.expirationBlock ?? 140n),
        expirationParams: create(TicketExpirationParamsSchema, { creationRound: 7n, creationRoundBlockHash: randomBytes(32) }),
      }),
    },
  };
}

interface Recorded { tickets: number; value: Ratio; refused: string[]; spent: Ratio[] }

async function payer(chain: Partial<{ lastSeenL1Block: bigint; deposit: bigint; reserve: bigint }> = {}) {
  const wallet = Wallet.createRandom();
  const identity = await walletIdentity(wallet);
  let signatures = 0;
  const inner = identity.signer as LivepeerSigner;
  const signer: LivepeerSigner = { address: inner.address, sign: inner.sign, signDigest: (d) => { signatures++; return inner.signDigest(d); } };
  const recorded: Recorded = { tickets: 0, value: ratio(0n), refused: [], spent: [] };
  const observer: PaymentObserver = {
    ticketsSent: (_c, _o, tickets, value) => { recorded.tickets += tickets; recorded.value = value; },
    paymentRefused: (_c, _o, reason) => { recorded.refused.push(reason); },
    spent: (_c, _o, wei) => { recorded.spent.push(wei); },
  };
  const instance = new ByocPayer({
    signer,
    chain: {
      lastSeenL1Block: chain.lastSeenL1Block ?? 100n,
      lastInitializedRound: 7n,
      senderInfo: { deposit: chain.deposit ?? 10n ** 18n, withdrawRound: 0n, reserveFundsRemaining: chain.reserve ?? 10n ** 18n },
    },
    limits: { maxTicketEV: ratio(3_000_000_000_000n), maxTotalEV: ratio(20_000_000_000_000n), depositMultiplier: 1n },
    observer,
  });
  return { instance, wallet, recorded, signatures: () => signatures };
}

const request = (t: PayableToken, extra: { timeoutSeconds?: number; discoveredPrice?: Ratio } = {}) => ({
  token: t,
  capability: "echo",
  orchestratorUri: "https://o.example:8935",
  timeoutSeconds: extra.timeoutSeconds ?? 30,
  discoveredPrice: extra.discoveredPrice,
});

describe("ByocPayer", () => {
  it("pays for max(timeout, 70 s) of work in tickets signed by the gateway, nonces 1..n, params echoed", async () => {
    const { instance, wallet, recorded } = await payer();
    const t = token();
    const payment = await instance.prepare(request(t));
    // 70 s × 1e7 = 7e8 wei; one ticket of EV ≥ 1e9 covers it.
    expect(payment?.tickets).toBe(1);
    const decoded = decodePaymentHeader(payment!.header!);
    expect(hexlify(decoded.sender)).toBe(wallet.address.toLowerCase());
    expect(hexlify(decoded.ticketParams!.seed)).toBe(hexlify(t.ticketParams!.message.seed));
    expect(decoded.ticketParams?.expirationParams?.creationRound).toBe(7n); // BYOC sends the token's params whole
    expect(decoded.expirationParams?.creationRound).toBe(7n);
    expect(decoded.expectedPrice?.pricePerUnit).toBe(PRICE);
    expect(decoded.ticketSenderParams.map((p) => p.senderNonce)).toEqual([1]);
    const params = t.ticketParams!.message;
    const hash = ticketHash({
      recipient: RECIPIENT, sender: wallet.address, faceValue: FACE_VALUE, winProb: orchestratorWinProb(FACE_VALUE, TICKET_EV), senderNonce: 1,
      recipientRandHash: hexlify(params.recipientRandHash), creationRound: 7n, creationRoundBlockHash: hexlify(params.expirationParams!.creationRoundBlockHash), paramsExpirationBlock: 140n,
    });
    expect(recoverDigestSigner(getBytes(hash), decoded.ticketSenderParams[0]!.sig)).toBe(wallet.address);
    expect(recorded.tickets).toBe(1);
    expect(recorded.value).toEqual(ticketEV(FACE_VALUE, orchestratorWinProb(FACE_VALUE, TICKET_EV)));

    // The credit now covers the next job: no payment header, nothing signed.
    const second = await instance.prepare(request(t));
    expect(second?.header).toBeUndefined();
    // The orchestrator reports what it holds after debiting: the difference is the realised spend.
    second!.settle({ "livepeer-balance": "300000000" });
    expect(recorded.spent).toHaveLength(1);
    // Down to 3e8 wei (30 s): the next job pays again, continuing the nonces of the same params.
    const third = await instance.prepare(request(t));
    expect(decodePaymentHeader(third!.header!).ticketSenderParams.map((p) => p.senderNonce)).toEqual([2]);
  });

  it("sends nothing for free work and trusts a token's balance of 120 s or more", async () => {
    const { instance, signatures } = await payer();
    expect(await instance.prepare(request(token({ price: 0n })))).toBeUndefined();
    const covered = await instance.prepare(request(token({ balance: 120n * PRICE })));
    expect(covered?.header).toBeUndefined();
    expect(signatures()).toBe(0);
  });

  it.each([
    ["expired params, refreshable", { expirationBlock: 101n }, {}, "expired", true],
    ["a price more than twice the advertised one", { price: 3n * PRICE }, { discoveredPrice: ratio(PRICE) }, "price-increase", false],
    ["a priced capability without ticket params", { params: false }, {}, "no-ticket-params", false],
  ] as const)("refuses %s without signing anything", async (_name, tokenOverrides, extra, reason, refresh) => {
    const { instance, recorded, signatures } = await payer();
    const refusal = await instance.prepare(request(token(tokenOverrides), extra)).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(PaymentRefusedError);
    expect((refusal as PaymentRefusedError).reason).toBe(reason);
    expect((refusal as PaymentRefusedError).refresh).toBe(refresh);
    expect(recorded.refused).toEqual([reason]);
    expect(signatures()).toBe(0);
  });

  it("refuses when the deposit cannot cover the face value or the reserve is empty, naming the check", async () => {
    for (const [chain, reason] of [[{ deposit: FACE_VALUE - 1n }, "max-face-value"], [{ reserve: 0n }, "no-reserve"], [{ deposit: 0n }, "no-deposit"]] as const) {
      const { instance, signatures } = await payer(chain);
      const refusal = (await instance.prepare(request(token())).catch((err: unknown) => err)) as PaymentRefusedError;
      expect(refusal.reason).toBe(reason);
      expect(refusal.message).toContain("https://o.example:8935");
      expect(signatures()).toBe(0);
    }
  });

  it("recognises the orchestrator answers that fresh params cure", () => {
    expect(answerAsksForFreshParams("TicketParams expired")).toBe(true);
    expect(answerAsksForFreshParams("invalid ticket senderNonce: already seen nonce 3")).toBe(true);
    expect(answerAsksForFreshParams("Insufficient balance for request")).toBe(false);
  });
});


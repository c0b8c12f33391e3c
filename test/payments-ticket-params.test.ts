import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { getBytes, ZeroHash } from "ethers";
import { TicketExpirationParamsSchema, TicketParamsSchema } from "../src/gen/net/lp_rpc_pb.js";
import { ratio } from "../src/network/price.js";
import { MAX_UINT256 } from "../src/payments/ticket.js";
import {
  parseTicketParams,
  type PmTicketParams,
  type SenderState,
  TicketParamsError,
  validateTicketParams,
} from "../src/payments/ticket-params.js";

const RECIPIENT = "0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F";
const RAND = "0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d";

const params = (o: Partial<PmTicketParams> = {}): PmTicketParams => ({
  recipient: RECIPIENT,
  faceValue: 149n,
  winProb: MAX_UINT256 / 2n,
  recipientRandHash: RAND,
  seed: 42n,
  expirationBlock: 105n,
  creationRound: 5n,
  creationRoundBlockHash: RAND,
  ...o,
});

const state = (o: Partial<SenderState> = {}): SenderState => ({
  lastSeenL1Block: 100n,
  lastInitializedRound: 5n,
  senderInfo: { deposit: 300n, withdrawRound: 0n, reserveFundsRemaining: 1000n },
  maxTicketEV: ratio(100n),
  depositMultiplier: 2n,
  ...o,
});

function checkOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof TicketParamsError) return err.check;
    throw err;
  }
}

describe("validateTicketParams (pm/sender.go validateTicketParams, pm/sender_test.go)", () => {
  it("deposit 300, multiplier 2, maxEV 100, faceValue 149, winProb max/2: OK", () => {
    expect(checkOf(() => validateTicketParams(params(), 1, state()))).toBeUndefined();
  });
  it("nil and zero expiration block", () => {
    expect(checkOf(() => validateTicketParams(undefined, 1, state()))).toBe("nil");
    const e = (() => { try { validateTicketParams(params({ expirationBlock: 0n, winProb: MAX_UINT256 }), 1, state()); } catch (err) { return err as Error; } })();
    expect(e?.message).toBe("ticketParams expiration block is 0");
  });
  it("expire when expirationBlock ∈ {1, 99, 101} with lastSeen 100; 102 and 105 are OK", () => {
    for (const b of [1n, 99n, 100n, 101n]) expect(checkOf(() => validateTicketParams(params({ expirationBlock: b }), 1, state()))).toBe("expired");
    for (const b of [102n, 105n]) expect(checkOf(() => validateTicketParams(params({ expirationBlock: b }), 1, state()))).toBeUndefined();
  });
  it("EV 0 is accepted at once, without reading sender info", () => {
    const reads: number[] = [];
    const s = state({ senderInfo: () => { reads.push(1); return { deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: 0n }; } });
    expect(checkOf(() => validateTicketParams(params({ faceValue: 0n }), 1, s))).toBeUndefined();
    expect(checkOf(() => validateTicketParams(params({ winProb: 0n }), 1, s))).toBeUndefined();
    expect(reads).toEqual([]);
  });
  it("EV ≥ faceValue (winProb = 2^256 − 1) is refused", () => {
    const err = (() => { try { validateTicketParams(params({ winProb: MAX_UINT256 }), 1, state({ maxTicketEV: ratio(10n ** 30n) })); } catch (e) { return e as TicketParamsError; } })();
    expect(err?.check).toBe("face-value-too-low");
    expect(err?.message).toMatch(/^ticket faceValue too low faceValue=149/);
  });
  it("EV above -maxTicketEV", () => {
    expect(checkOf(() => validateTicketParams(params(), 1, state({ maxTicketEV: ratio(74n) })))).toBe("max-ticket-ev");
    // default 3e12
    expect(checkOf(() => validateTicketParams(params({ faceValue: 10n ** 13n }), 1, state({ maxTicketEV: undefined, senderInfo: { deposit: 10n ** 14n, withdrawRound: 0n, reserveFundsRemaining: 1n } })))).toBe("max-ticket-ev");
  });
  it("unlock: withdrawRound 4 or 2 with lastInitializedRound 5 → unlock soon; 100 or 0 → OK", () => {
    for (const w of [4n, 2n, 6n]) {
      expect(checkOf(() => validateTicketParams(params(), 1, state({ senderInfo: { deposit: 300n, withdrawRound: w, reserveFundsRemaining: 1n } })))).toBe("unlock-soon");
    }
    for (const w of [100n, 0n, 7n]) {
      expect(checkOf(() => validateTicketParams(params(), 1, state({ senderInfo: { deposit: 300n, withdrawRound: w, reserveFundsRemaining: 1n } })))).toBeUndefined();
    }
  });
  it("no reserve, then no deposit", () => {
    expect(checkOf(() => validateTicketParams(params(), 1, state({ senderInfo: { deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: 0n } })))).toBe("no-reserve");
    expect(checkOf(() => validateTicketParams(params(), 1, state({ senderInfo: { deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: 1n } })))).toBe("no-deposit");
  });
  it("total EV for the batch above -maxTotalEV", () => {
    // EV just under 74.5; 2 tickets ≤ 149, 3 tickets > 149
    expect(checkOf(() => validateTicketParams(params(), 2, state({ maxTotalEV: ratio(149n) })))).toBeUndefined();
    expect(checkOf(() => validateTicketParams(params(), 3, state({ maxTotalEV: ratio(149n) })))).toBe("max-total-ev");
  });
  it("deposit 300, multiplier 5 → max faceValue 60", () => {
    const s = state({ depositMultiplier: 5n });
    expect(checkOf(() => validateTicketParams(params({ faceValue: 60n }), 1, s))).toBeUndefined();
    const err = (() => { try { validateTicketParams(params({ faceValue: 61n }), 1, s); } catch (e) { return e as Error; } })();
    expect(err?.message).toBe("ticket faceValue 61 > max faceValue 60");
  });
  it("checks run in go's order: the first failing one is reported", () => {
    const everythingWrong = state({
      lastSeenL1Block: 200n,
      maxTicketEV: ratio(1n),
      maxTotalEV: ratio(1n),
      senderInfo: { deposit: 0n, withdrawRound: 1n, reserveFundsRemaining: 0n },
    });
    const order: string[] = [];
    let p = params({ winProb: MAX_UINT256, expirationBlock: 0n });
    let s = everythingWrong;
    const fixes: Array<() => void> = [
      () => { p = { ...p, expirationBlock: 105n }; },
      () => { s = { ...s, lastSeenL1Block: 100n }; },
      () => { p = { ...p, winProb: MAX_UINT256 / 2n }; },
      () => { s = { ...s, maxTicketEV: ratio(100n) }; },
      () => { s = { ...s, senderInfo: { deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: 0n } }; },
      () => { s = { ...s, senderInfo: { deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: 1n } }; },
      () => { s = { ...s, senderInfo: { deposit: 100n, withdrawRound: 0n, reserveFundsRemaining: 1n } }; },
      () => { s = { ...s, maxTotalEV: ratio(1000n) }; },
      () => { s = { ...s, depositMultiplier: 1n, senderInfo: { deposit: 149n, withdrawRound: 0n, reserveFundsRemaining: 1n } }; },
    ];
    for (const fix of fixes) {
      order.push(checkOf(() => validateTicketParams(p, 1, s)) ?? "ok");
      fix();
    }
    order.push(checkOf(() => validateTicketParams(p, 1, s)) ?? "ok");
    expect(order).toEqual([
      "zero-expiration-block",
      "expired",
      "face-value-too-low",
      "max-ticket-ev",
      "unlock-soon",
      "no-reserve",
      "no-deposit",
      "max-total-ev",
      "max-face-value",
      "ok",
    ]);
  });
});

describe("parseTicketParams", () => {
  const pb = (o: Record<string, unknown> = {}) =>
    create(TicketParamsSchema, {
      recipient: getBytes(RECIPIENT),
      faceValue: new Uint8Array([0x01, 0x00]),
      winProb: new Uint8Array([0x00, 0xff]),
      recipientRandHash: getBytes(RAND),
      seed: new Uint8Array([0x00, 0x2a]),
      expirationBlock: new Uint8Array([105]),
      expirationParams: create(TicketExpirationParamsSchema, { creationRound: 7n, creationRoundBlockHash: getBytes(RAND) }),
      ...o,
    });
  it("reads big-endian numbers (leading zeros tolerated) and keeps the round fields", () => {
    expect(parseTicketParams(pb())).toEqual({
      recipient: RECIPIENT,
      faceValue: 256n,
      winProb: 255n,
      recipientRandHash: RAND,
      seed: 42n,
      expirationBlock: 105n,
      creationRound: 7n,
      creationRoundBlockHash: RAND,
    });
  });
  it("missing expiration params: zeros, or the sender's fallback", () => {
    expect(parseTicketParams(pb({ expirationParams: undefined }))).toMatchObject({ creationRound: 0n, creationRoundBlockHash: ZeroHash });
    const fallback = { creationRound: 9n, creationRoundBlockHash: `0x${"11".repeat(32)}` };
    expect(parseTicketParams(pb({ expirationParams: undefined }), fallback)).toMatchObject(fallback);
    expect(parseTicketParams(pb(), fallback)).toMatchObject({ creationRound: 7n, creationRoundBlockHash: RAND });
  });
  it("refuses malformed fields, naming them", () => {
    const check = (o: Record<string, unknown>, field: RegExp) => {
      let err: unknown;
      try { parseTicketParams(pb(o)); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(TicketParamsError);
      expect((err as TicketParamsError).check).toBe("malformed");
      expect((err as Error).message).toMatch(field);
    };
    check({ recipient: new Uint8Array(19) }, /recipient is 19 bytes/);
    check({ recipientRandHash: new Uint8Array(31) }, /recipient_rand_hash is 31 bytes/);
    check({ faceValue: new Uint8Array(33).fill(1) }, /face_value is 33 bytes/);
    check({ winProb: new Uint8Array(33).fill(1) }, /win_prob/);
    check({ expirationParams: create(TicketExpirationParamsSchema, { creationRound: 1n, creationRoundBlockHash: new Uint8Array(5) }) }, /creation_round_block_hash/);
    check({ expirationParams: create(TicketExpirationParamsSchema, { creationRound: -1n }) }, /creation_round -1/);
  });
});

import { describe, expect, it } from "vitest";
import { formatRatio, ratio, type Ratio } from "../src/network/price.js";
import {
  aiTicketCount,
  byocTicketCount,
  byocTicketCountForCost,
  CreditLedger,
  stageCredit,
  ticketEV,
  winProbRatio,
} from "../src/payments/expected-value.js";
import { orchestratorFaceValue, orchestratorWinProb } from "../src/payments/orchestrator-params.js";
import { MAX_UINT256 } from "../src/payments/ticket.js";

const r = (n: bigint, d = 1n): Ratio => ratio(n, d);

describe("ticket EV (pm/ticket_test.go TestEV, TestWinProbRat)", () => {
  it("faceValue 1000, winProb floor((2^256 − 1)/2): \"500\" as go prints it (FloatString(0)), exactly just below", () => {
    const ev = ticketEV(1000n, MAX_UINT256 / 2n);
    const rounded = (2n * ev.num + ev.den) / (2n * ev.den); // round half up, as FloatString(0)
    expect(rounded).toBe(500n);
    expect(ev.num < 500n * ev.den).toBe(true); // 2^256 − 1 is odd: floor(max/2)/max < 1/2
    expect(ev).toEqual(r(1000n * (MAX_UINT256 / 2n), MAX_UINT256));
  });
  it("vectors", () => {
    expect(ticketEV(1000n, 0n)).toEqual(r(0n));
    expect(ticketEV(1000n, MAX_UINT256)).toEqual(r(1000n));
    expect(ticketEV(0n, 999n)).toEqual(r(0n));
  });
  it("WinProbRat of max/2 and max/4", () => {
    // floor(max/2)/max and floor(max/4)/max: go prints them as "0.5" and "0.25" (FloatString rounding).
    const half = winProbRatio(MAX_UINT256 / 2n);
    const quarter = winProbRatio(MAX_UINT256 / 4n);
    expect(Number(half.num * 10n ** 12n / half.den) / 1e12).toBeCloseTo(0.5, 10);
    expect(Number(quarter.num * 10n ** 12n / quarter.den) / 1e12).toBeCloseTo(0.25, 10);
    expect(winProbRatio(MAX_UINT256)).toEqual(r(1n));
  });
  it("refuses values outside uint256", () => {
    expect(() => ticketEV(-1n, 1n)).toThrow(/faceValue/);
    expect(() => ticketEV(1n, MAX_UINT256 + 1n)).toThrow(/winProb/);
  });
});

describe("orchestrator faceValue / winProb (pm/recipient_test.go TestTicketParams)", () => {
  const base = { ticketEV: 5n, redeemGas: 10_000n, maxFloat: 10n ** 30n };
  it("gasPrice 100", () => {
    const fv = orchestratorFaceValue({ ...base, gasPrice: 100n });
    expect(fv).toBe(100_000_000n);
    expect(orchestratorWinProb(fv, 5n)).toBe(5789604461865809771178549250434395392663499233282028201972879200395660n);
  });
  it("gasPrice 777", () => {
    const fv = orchestratorFaceValue({ ...base, gasPrice: 777n });
    expect(fv).toBe(777_000_000n);
    expect(orchestratorWinProb(fv, 5n)).toBe(745122839364969082519761808292714979750772102095499125093034646125570n);
  });
  it("gasPrice 1 with maxFloat 10001", () => {
    const fv = orchestratorFaceValue({ ...base, gasPrice: 1n, maxFloat: 10_001n });
    expect(fv).toBe(10_001n);
    expect(orchestratorWinProb(fv, 5n)).toBe(57890255593098787833002192285115442382396752657554526567072084795477017120n);
  });
  it("the resulting EV is at least the configured EV", () => {
    for (const fv of [100_000_000n, 777_000_000n, 10_001n]) {
      const ev = ticketEV(fv, orchestratorWinProb(fv, 5n));
      expect(ev.num >= 5n * ev.den).toBe(true);
    }
  });
  it("edge cases", () => {
    expect(orchestratorWinProb(0n, 5n)).toBe(0n);
    expect(orchestratorWinProb(5n, 5n)).toBe(MAX_UINT256);
    expect(() => orchestratorFaceValue({ ...base, gasPrice: 100n, maxFloat: 4n })).toThrow(/insufficient sender reserve/);
  });
});

describe("credit model (core/accounting_test.go TestBalance_StageUpdate)", () => {
  const vectors: Array<[Ratio, Ratio, Ratio, number, Ratio]> = [
    [r(2n), r(1n), r(1n), 0, r(0n)],
    [r(2n), r(2n), r(1n), 0, r(0n)],
    [r(1n), r(5n), r(1n), 4, r(4n)],
    [r(1n, 4n), r(2n), r(1n), 2, r(2n)],
    [r(-5n), r(2n), r(1n), 7, r(7n)],
    [r(0n), r(2n), r(1n), 2, r(2n)],
  ];
  for (const [existing, minCredit, ev, tickets, newCredit] of vectors) {
    it(`existing ${formatRatio(existing)}, minCredit ${formatRatio(minCredit)} → ${tickets} tickets`, () => {
      expect(stageCredit(existing, minCredit, ev)).toEqual({ tickets, newCredit });
    });
  }
  it("EV 0 gives 0 tickets", () => {
    expect(stageCredit(r(0n), r(10n), r(0n))).toEqual({ tickets: 0, newCredit: r(0n) });
  });
  it("AI: minCredit = max(fee, ev); ceil on a fractional EV", () => {
    // fee below one EV still buys one ticket: the orchestrator needs ≥ one EV of balance.
    expect(aiTicketCount(r(1n), r(0n), r(7n, 2n))).toEqual({ tickets: 1, newCredit: r(7n, 2n) });
    // 512·512 px at 1/100 wei/px = 2621.44 wei, EV 1000/3 → ceil(7.86…) = 8.
    expect(aiTicketCount(r(512n * 512n, 100n), r(0n), r(1000n, 3n))).toEqual({ tickets: 8, newCredit: r(8000n, 3n) });
    expect(aiTicketCount(r(1000n), r(1000n), r(3n))).toEqual({ tickets: 0, newCredit: r(0n) });
  });
  it("refuses a count beyond the 600 nonces an orchestrator accepts", () => {
    expect(aiTicketCount(r(600n), r(0n), r(1n)).tickets).toBe(600);
    expect(() => aiTicketCount(r(601n), r(0n), r(1n))).toThrow(/601 tickets/);
  });
});

describe("BYOC ticket count (byoc/payment.go ticketCountForCost, createPayment)", () => {
  it("ceil(cost / EV), clamped to [0, 600], EV 0 → 0", () => {
    expect(byocTicketCountForCost(r(10n), r(3n))).toBe(4);
    expect(byocTicketCountForCost(r(9n), r(3n))).toBe(3);
    expect(byocTicketCountForCost(r(10n ** 9n), r(1n))).toBe(600);
    expect(byocTicketCountForCost(r(10n), r(0n))).toBe(0);
    expect(byocTicketCountForCost(r(0n), r(3n))).toBe(0);
    expect(byocTicketCountForCost(r(-5n), r(3n))).toBe(0);
  });
  const price = r(1000n); // wei per second
  const ev = r(2000n);
  it("no payment with ≥ 120 s of price held", () => {
    expect(byocTicketCount({ pricePerSecond: price, timeoutSeconds: 30n, balance: r(120_000n), ev }).tickets).toBe(0);
  });
  it("pays up to max(timeout, 60 s + margin) × price − balance", () => {
    // timeout 300 s: 300 000 − 10 000 = 290 000 → 145 tickets
    expect(byocTicketCount({ pricePerSecond: price, timeoutSeconds: 300n, balance: r(10_000n), ev })).toEqual({ tickets: 145, newCredit: r(290_000n) });
    // timeout 5 s: still reaches the orchestrator's 60 s minimum (+10 s margin): 70 000 → 35 tickets
    expect(byocTicketCount({ pricePerSecond: price, timeoutSeconds: 5n, balance: r(0n), ev }).tickets).toBe(35);
    expect(byocTicketCount({ pricePerSecond: price, timeoutSeconds: 5n, balance: r(0n), ev, marginSeconds: 0n }).tickets).toBe(30);
    expect(byocTicketCount({ pricePerSecond: price, timeoutSeconds: 5n, balance: r(0n), ev: r(0n) }).tickets).toBe(0);
  });
});

describe("CreditLedger", () => {
  const key = CreditLedger.key("0xAbC", "session-1");
  it("reserves held credit while a request is staged and settles each outcome", () => {
    const ledger = new CreditLedger();
    ledger.set(key, r(3n));
    const staged = ledger.stage(key, r(10n), r(2n));
    expect(staged).toMatchObject({ existing: r(3n), tickets: 4, newCredit: r(8n) });
    expect(ledger.balance(key)).toEqual(r(0n)); // a concurrent request cannot count the same credit
    ledger.complete(staged, { kind: "received", debit: r(10n) });
    expect(ledger.balance(key)).toEqual(r(1n)); // 3 + 8 − 10
  });
  it("not sent restores the reserved credit; credit spent restores nothing; debits may go negative", () => {
    const ledger = new CreditLedger();
    ledger.set(key, r(5n));
    ledger.complete(ledger.stage(key, r(1n), r(1n)), { kind: "not-sent" });
    expect(ledger.balance(key)).toEqual(r(5n));
    ledger.complete(ledger.stage(key, r(1n), r(1n)), { kind: "credit-spent" });
    expect(ledger.balance(key)).toEqual(r(0n));
    ledger.complete(ledger.stage(key, r(1n), r(1n)), { kind: "received", debit: r(7n, 2n) });
    expect(ledger.balance(key)).toEqual(r(-5n, 2n));
  });
  it("keeps at most maxEntries keys", () => {
    const ledger = new CreditLedger(3);
    for (let i = 0; i < 10; i++) ledger.set(`k${i}`, r(BigInt(i)));
    expect(ledger.size).toBe(3);
    expect(ledger.balance("k9")).toEqual(r(9n));
    expect(ledger.balance("k0")).toEqual(r(0n));
  });
});

// Expected value of tickets, how many tickets a payment needs, and the gateway's per-orchestrator credit.
//
// EV = faceValue × winProb / (2^256 − 1) as an exact ratio (pm/ticket.go ticketEV: maxWinProb is 2^256 − 1, not
// 2^256). Orchestrators credit exactly this per valid ticket, so the gateway counts with the same ratio.
//
// Ticket counts follow go-livepeer:
//   - AI and transcoding (core/accounting.go Balance.StageUpdate): minCredit = max(fee, EV); if the credit already
//     held is ≥ minCredit, 0 tickets; else ceil((minCredit − credit) / EV). EV = 0 → 0 tickets.
//   - BYOC (byoc/payment.go ticketCountForCost): ceil(cost / EV) clamped to [0, 600]; EV = 0 → 0 tickets.
// An orchestrator accepts at most 600 nonces per ticket-params set, so no payment can usefully carry more.

import { addRatios, compareRatios, divideRatios, multiplyRatios, ratio, type Ratio } from "../network/price.js";
import { MAX_UINT256 } from "./ticket.js";

/** pm/recipient.go maxSenderNonces: the most tickets an orchestrator accepts per recipientRandHash. */
export const MAX_TICKETS_PER_PARAMS = 600;
/** byoc/payment.go: a BYOC payment never carries more tickets than this. */
export const MAX_BYOC_TICKETS = 600;
/** byoc/job_orchestrator.go confirmPayment: the orchestrator wants ≥ 60 s of price in balance after a payment. */
export const BYOC_MIN_BALANCE_SECONDS = 60n;
/** byoc/payment.go createPayment: with ≥ 120 s of price in the ledger, the gateway sends no payment. */
export const BYOC_TOP_UP_THRESHOLD_SECONDS = 120n;

const ZERO: Ratio = ratio(0n);

function assertUint256(value: bigint, field: string): void {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`${field} ${value} is outside uint256`);
}

/** winProb / (2^256 − 1): the probability that a ticket wins (Ticket.WinProbRat). */
export function winProbRatio(winProb: bigint): Ratio {
  assertUint256(winProb, "winProb");
  return ratio(winProb, MAX_UINT256);
}

/** faceValue × winProb / (2^256 − 1), exact, in wei (pm/ticket.go ticketEV). */
export function ticketEV(faceValue: bigint, winProb: bigint): Ratio {
  assertUint256(faceValue, "faceValue");
  assertUint256(winProb, "winProb");
  return ratio(faceValue * winProb, MAX_UINT256);
}

/** ceil(r) for r ≥ 0. */
function ceilRatio(r: Ratio): bigint {
  const q = r.num / r.den;
  return r.num % r.den === 0n ? q : q + 1n;
}

const maxRatio = (a: Ratio, b: Ratio): Ratio => (compareRatios(a, b) >= 0 ? a : b);

/** What a credit update decides: how many tickets to send and the credit they add (tickets × EV). */
export interface CreditStage {
  readonly tickets: number;
  readonly newCredit: Ratio;
}

/**
 * core/accounting.go Balance.StageUpdate given the credit already held: 0 tickets when existing ≥ minCredit, else
 * ceil((minCredit − existing) / ev) tickets worth tickets × ev. EV = 0 gives 0 tickets (nothing can be paid).
 * Throws when the count exceeds what one params set can carry (600): the fee is too large for these params.
 */
export function stageCredit(existing: Ratio, minCredit: Ratio, ev: Ratio): CreditStage {
  if (compareRatios(existing, minCredit) >= 0) return { tickets: 0, newCredit: ZERO };
  if (ev.num <= 0n) return { tickets: 0, newCredit: ZERO };
  const gap = ratio(minCredit.num * existing.den - existing.num * minCredit.den, minCredit.den * existing.den);
  const tickets = ceilRatio(divideRatios(gap, ev));
  if (tickets > BigInt(MAX_TICKETS_PER_PARAMS)) {
    throw new RangeError(
      `paying ${formatR(gap)} wei needs ${tickets} tickets of EV ${formatR(ev)}, more than the ${MAX_TICKETS_PER_PARAMS} an orchestrator accepts per ticket params`,
    );
  }
  return { tickets: Number(tickets), newCredit: multiplyRatios(ratio(tickets), ev) };
}

/**
 * AI / transcoding (server/segment_rpc.go newBalanceUpdate): minCredit = max(fee, ev), because the orchestrator needs
 * at least one EV of balance; then stageCredit.
 */
export function aiTicketCount(fee: Ratio, existing: Ratio, ev: Ratio): CreditStage {
  return stageCredit(existing, maxRatio(fee, ev), ev);
}

/** byoc/payment.go ticketCountForCost: ceil(cost / ev) clamped to [0, 600]; ev = 0 → 0. */
export function byocTicketCountForCost(cost: Ratio, ev: Ratio): number {
  if (ev.num <= 0n || cost.num <= 0n) return 0;
  const tickets = ceilRatio(divideRatios(cost, ev));
  return tickets > BigInt(MAX_BYOC_TICKETS) ? MAX_BYOC_TICKETS : Number(tickets);
}

export interface ByocPaymentInput {
  /** The token's price: wei per second. */
  readonly pricePerSecond: Ratio;
  /** The job's timeout_seconds. */
  readonly timeoutSeconds: bigint;
  /** What the orchestrator says the gateway holds (the token's balance), wei. */
  readonly balance: Ratio;
  /** EV of one ticket of the token's params. */
  readonly ev: Ratio;
  /** Seconds above the orchestrator's 60 s minimum to keep as margin; default 10. */
  readonly marginSeconds?: bigint;
}

/**
 * BYOC top-up. go-livepeer sends nothing when balance ≥ 120 s × price, else ceil(timeout × price / EV) tickets. That
 * misses the orchestrator's 60 s minimum for short timeouts (ref byoc-wire §5.2 pitfall), so here the amount is
 * max(timeout, 60 s + margin) × price − balance, counted with byocTicketCountForCost (same clamp and EV = 0 rule).
 */
export function byocTicketCount(input: ByocPaymentInput): CreditStage {
  const { pricePerSecond: price, balance, ev } = input;
  if (compareRatios(balance, multiplyRatios(price, ratio(BYOC_TOP_UP_THRESHOLD_SECONDS))) >= 0) {
    return { tickets: 0, newCredit: ZERO };
  }
  const floor = BYOC_MIN_BALANCE_SECONDS + (input.marginSeconds ?? 10n);
  const seconds = input.timeoutSeconds > floor ? input.timeoutSeconds : floor;
  const target = multiplyRatios(price, ratio(seconds));
  const gap = ratio(target.num * balance.den - balance.num * target.den, target.den * balance.den);
  const tickets = byocTicketCountForCost(gap, ev);
  return { tickets, newCredit: multiplyRatios(ratio(BigInt(tickets)), ev) };
}

function formatR(r: Ratio): string {
  return r.den === 1n ? `${r.num}` : `${r.num}/${r.den}`;
}

/** How a request with staged credit ended (core/accounting.go BalanceUpdate status). */
export type CreditOutcome =
  /** Never sent: the reserved credit goes back. */
  | { readonly kind: "not-sent" }
  /** Sent, but no debit was processed: nothing is restored (go: CreditSpent). */
  | { readonly kind: "credit-spent" }
  /** Response processed: balance += existing + newCredit − debit (may go negative; go: ReceivedChange). */
  | { readonly kind: "received"; readonly debit: Ratio };

/** One staged update, to be completed exactly once with CreditLedger.complete. */
export interface StagedCredit extends CreditStage {
  readonly key: string;
  readonly existing: Ratio;
}

/**
 * The gateway's local credit per orchestrator (go keys it by (recipient, auth-token session id); BYOC by
 * (recipient, capability)). stage() reserves (takes and zeroes) the held credit, as Balance.Reserve does, so two
 * concurrent requests never both count the same credit. Memory is bounded: beyond maxEntries the least recently
 * touched keys are dropped (their credit is forgotten, which only makes the gateway pay again, never underpay).
 */
export class CreditLedger {
  private readonly balances = new Map<string, Ratio>();

  constructor(private readonly maxEntries = 10_000) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be ≥ 1, got ${maxEntries}`);
  }

  static key(recipient: string, session: string): string {
    return `${recipient.toLowerCase()}|${session}`;
  }

  balance(key: string): Ratio {
    return this.balances.get(key) ?? ZERO;
  }

  get size(): number {
    return this.balances.size;
  }

  /** Overwrites the credit held (BYOC syncs the ledger to the orchestrator's reported balance). */
  set(key: string, value: Ratio): void {
    this.balances.delete(key);
    this.balances.set(key, value);
    while (this.balances.size > this.maxEntries) {
      const oldest = this.balances.keys().next().value as string;
      this.balances.delete(oldest);
    }
  }

  /** Reserves the held credit and decides the tickets for a fee (AI rule: minCredit = max(fee, ev)). */
  stage(key: string, fee: Ratio, ev: Ratio): StagedCredit {
    const existing = this.balance(key);
    const decision = aiTicketCount(fee, existing, ev);
    this.set(key, ZERO);
    return { key, existing, ...decision };
  }

  /** Settles a staged update by its outcome. */
  complete(staged: StagedCredit, outcome: CreditOutcome): void {
    const current = this.balance(staged.key);
    switch (outcome.kind) {
      case "not-sent":
        this.set(staged.key, addRatios(current, staged.existing));
        return;
      case "credit-spent":
        return;
      case "received": {
        const change = addRatios(addRatios(staged.existing, staged.newCredit), ratio(-outcome.debit.num, outcome.debit.den));
        this.set(staged.key, addRatios(current, change));
        return;
      }
    }
  }
}

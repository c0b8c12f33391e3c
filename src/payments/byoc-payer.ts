// Paying for one BYOC job (byoc/payment.go createPayment, with its pitfalls fixed): decide from the orchestrator's
// token how many tickets the job needs, check the params in go-livepeer's order before anything is signed, sign,
// and learn the realised spend from the balance the orchestrator reports back.
//
// The gateway's view of what it holds at each orchestrator lives in a CreditLedger keyed by (recipient, capability),
// the orchestrator's own balance key. It starts from a token's `balance`, grows by the EV of every ticket sent and is
// reset to the orchestrator's Livepeer-Balance after each answer, so the next job pays only what is missing.
//
// A payment the orchestrator would reject must never be sent: go-livepeer's BYOC handler panics on one, dropping
// the connection and leaking a capacity slot (ref byoc-wire §6.2). Hence every check runs here, first.
import type { PriceInfo, TicketParams } from "../gen/net/lp_rpc_pb.js";
import type { LivepeerSigner } from "../eth/identity.js";
import { addRatios, compareRatios, formatRatio, multiplyRatios, ratio, type Ratio } from "../network/price.js";
import { byocTicketCount, CreditLedger, ticketEV } from "./expected-value.js";
import { NonceAllocator, NonceError } from "./nonces.js";
import { createPayment } from "./payment.js";
import { parseTicketParams, TicketParamsError, validateTicketParams, type SenderInfo } from "./ticket-params.js";

/** What the payer reads of the chain, kept fresh by a watcher (src/eth/chain-watcher.ts). */
export interface PayerChainView {
  readonly lastSeenL1Block: bigint;
  readonly lastInitializedRound: bigint;
  readonly senderInfo: SenderInfo;
}

/** go-livepeer's sender limits (-maxTicketEV, -maxTotalEV, -depositMultiplier). */
export interface SenderLimits {
  readonly maxTicketEV: Ratio;
  readonly maxTotalEV: Ratio;
  readonly depositMultiplier: bigint;
}

/** The part of a /process/token answer a payment is made from. */
export interface PayableToken {
  /** Wei per second. */
  readonly price: Ratio;
  /** The price as sent, echoed as expected_price. */
  readonly priceInfo?: PriceInfo | undefined;
  readonly ticketParams?: { readonly message: TicketParams } | undefined;
  /** What the orchestrator said we hold for this capability, wei. */
  readonly balance?: bigint;
}

export interface PaymentRequest {
  readonly token: PayableToken;
  readonly capability: string;
  readonly orchestratorUri: string;
  readonly timeoutSeconds: number;
  /** The price discovery saw for this offer; a token price above twice it is refused (go: priceIncreaseThreshold). */
  readonly discoveredPrice?: Ratio | undefined;
}

/** Why no payment could be made. `refresh`: fresh ticket params from the same orchestrator may fix it. */
export class PaymentRefusedError extends Error {
  override readonly name = "PaymentRefusedError";
  constructor(
    readonly reason: string,
    message: string,
    readonly refresh = false,
  ) {
    super(message);
  }
}

/** A payment ready to go with one job request. */
export interface JobPayment {
  /** The Livepeer-Payment header value; undefined when the balance already covers the job. */
  readonly header: string | undefined;
  readonly tickets: number;
  /** Settles the ledger from the answer's headers (Livepeer-Balance, or Livepeer-Payment-Balance on SSE). */
  settle(headers: Readonly<Record<string, string | string[] | undefined>>): void;
}

/** Told of tickets, their value and realised spend, for metrics. Labels come from routed offers only. */
export interface PaymentObserver {
  ticketsSent(capability: string, orchestratorUri: string, tickets: number, value: Ratio): void;
  paymentRefused(capability: string, orchestratorUri: string, reason: string): void;
  spent(capability: string, orchestratorUri: string, wei: Ratio): void;
}

export interface ByocPayerOptions {
  readonly signer: LivepeerSigner;
  readonly chain: PayerChainView;
  readonly limits: SenderLimits;
  readonly observer?: PaymentObserver;
  readonly nonces?: NonceAllocator;
  readonly ledger?: CreditLedger;
}

/** Texts of orchestrator refusals that fresh params cure (pm/recipient.go, pm/sender.go errors). */
const REFRESH_ANSWER = /TicketParams expired|ticket params expired|invalid ticket senderNonce|too many values|invalid recipientRand/i;

/** Whether an orchestrator's error text says the ticket params are stale: refresh them and retry there once. */
export function answerAsksForFreshParams(text: string): boolean {
  return REFRESH_ANSWER.test(text);
}

const BALANCE_HEADERS = ["livepeer-balance", "livepeer-payment-balance"];

export class ByocPayer {
  private readonly nonces: NonceAllocator;
  private readonly ledger: CreditLedger;
  /** Tokens whose balance has been folded into the ledger: a cached token's balance is stale after its first job. */
  private readonly syncedTokens = new WeakSet<object>();

  constructor(private readonly options: ByocPayerOptions) {
    this.nonces = options.nonces ?? new NonceAllocator();
    this.ledger = options.ledger ?? new CreditLedger();
  }

  /** The payment for one attempt, or undefined for free work. Throws PaymentRefusedError, having signed nothing. */
  async prepare(request: PaymentRequest): Promise<JobPayment | undefined> {
    try {
      return await this.preparePayment(request);
    } catch (err) {
      if (err instanceof PaymentRefusedError) this.options.observer?.paymentRefused(request.capability, request.orchestratorUri, err.reason);
      throw err;
    }
  }

  private async preparePayment(request: PaymentRequest): Promise<JobPayment | undefined> {
    const { token, capability, orchestratorUri } = request;
    if (token.price.num === 0n) return undefined;
    const price = token.price;
    if (request.discoveredPrice !== undefined && compareRatios(price, multiplyRatios(request.discoveredPrice, ratio(2n))) > 0) {
      throw new PaymentRefusedError(
        "price-increase",
        `${orchestratorUri} now asks ${formatRatio(price)} wei/s for ${capability}, more than twice the ${formatRatio(request.discoveredPrice)} it advertised`,
      );
    }
    if (token.ticketParams === undefined || token.priceInfo === undefined) {
      throw new PaymentRefusedError("no-ticket-params", `${orchestratorUri} prices ${capability} at ${formatRatio(price)} wei/s but offered no ticket params to pay with`);
    }
    let params;
    try {
      params = parseTicketParams(token.ticketParams.message);
    } catch (err) {
      throw new PaymentRefusedError("malformed", `${orchestratorUri}: ${(err as Error).message}`);
    }
    const key = CreditLedger.key(params.recipient, capability);
    if (!this.syncedTokens.has(token)) {
      this.syncedTokens.add(token);
      this.ledger.set(key, ratio(token.balance ?? 0n));
    }
    const held = this.ledger.balance(key);
    const ev = ticketEV(params.faceValue, params.winProb);
    const stage = byocTicketCount({ pricePerSecond: price, timeoutSeconds: BigInt(request.timeoutSeconds), balance: held, ev });
    const settle = (credit: Ratio) => (headers: Readonly<Record<string, string | string[] | undefined>>) =>
      this.settle(key, capability, orchestratorUri, credit, headers);
    if (stage.tickets === 0) return { header: undefined, tickets: 0, settle: settle(held) };

    const { chain, limits } = this.options;
    try {
      validateTicketParams(params, stage.tickets, {
        lastSeenL1Block: chain.lastSeenL1Block,
        lastInitializedRound: chain.lastInitializedRound,
        senderInfo: () => chain.senderInfo,
        maxTicketEV: limits.maxTicketEV,
        maxTotalEV: limits.maxTotalEV,
        depositMultiplier: limits.depositMultiplier,
      });
    } catch (err) {
      if (!(err instanceof TicketParamsError)) throw err;
      throw new PaymentRefusedError(err.check, `ticket params from ${orchestratorUri}: ${err.message}`, err.check === "expired");
    }
    if (this.nonces.remaining(params.recipientRandHash) < stage.tickets) {
      throw new PaymentRefusedError("nonces-exhausted", `the ticket params from ${orchestratorUri} have too few nonces left for ${stage.tickets} tickets`, true);
    }
    let created;
    try {
      created = await createPayment({
        signer: this.options.signer,
        params,
        expectedPrice: token.priceInfo,
        nonces: this.nonces,
        tickets: stage.tickets,
        nestedExpirationParams: true, // BYOC sends the token's params whole
      });
    } catch (err) {
      if (err instanceof NonceError) throw new PaymentRefusedError("nonces-exhausted", err.message, true);
      throw err;
    }
    const credit = multiplyRatios(ev, ratio(BigInt(stage.tickets)));
    const after = addRatios(held, credit);
    this.ledger.set(key, after);
    this.options.observer?.ticketsSent(capability, orchestratorUri, stage.tickets, credit);
    return { header: created.header, tickets: stage.tickets, settle: settle(after) };
  }

  /** The orchestrator's reported balance replaces ours; what it took since is the realised spend. */
  private settle(
    key: string,
    capability: string,
    orchestratorUri: string,
    heldBefore: Ratio,
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): void {
    const reported = reportedBalance(headers);
    if (reported === undefined) return;
    const spent = addRatios(heldBefore, ratio(-reported.num, reported.den));
    if (spent.num > 0n) this.options.observer?.spent(capability, orchestratorUri, spent);
    this.ledger.set(key, reported);
  }
}


/** Livepeer-Balance (or -Payment-Balance): an integer of wei, possibly negative; anything else is ignored. */
function reportedBalance(headers: Readonly<Record<string, string | string[] | undefined>>): Ratio | undefined {
  for (const name of BALANCE_HEADERS) {
    const value = headers[name];
    if (typeof value === "string" && /^-?\d{1,40}$/.test(value.trim())) return ratio(BigInt(value.trim()));
  }
  return undefined;
}

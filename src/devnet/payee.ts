// A simulated go-livepeer ticket recipient: the orchestrator side of probabilistic micropayments (pm/recipient.go,
// pm/validator.go, core/orchestrator.go ProcessPayment), so that a gateway's payments meet the same checks, the same
// error texts and the same exact-ratio credit as on a real on-chain orchestrator (ref pm-eth §1.4, §1.6, §1.7, §3.3,
// §4.1).
//
// It issues TicketParams (faceValue/winProb from the gas cost and the EV, a fresh random seed, recipientRandHash from
// an HMAC over everything the sender must echo), and receives net.Payment messages: per ticket, the sender check, the
// validator's checks (recipient, sender, recipientRand, signature), the winning check, nonce bookkeeping and the
// expiry check, in go-livepeer's order, crediting each valid ticket's exact EV to balance(sender, manifestId).
//
// The chain is a synchronous view (PayeeChain) so that tests can drive blocks and rounds and the lead can adapt a
// real chain watcher. Winning tickets are recorded and handed to onWinningTicket (for redemption on a real chain).
import { createHmac, randomBytes } from "node:crypto";
import { getAddress } from "ethers/address";
import { ZeroAddress, ZeroHash } from "ethers/constants";
import { keccak256 } from "ethers/crypto";
import { getBytes, hexlify, toBigInt } from "ethers/utils";
import { type Wallet } from "ethers/wallet";
import type { Payment } from "../gen/net/lp_rpc_pb.js";
import { verifyDigestSignature } from "../eth/signature.js";
import { addRatios, compareRatios, ratio, type Ratio } from "../network/price.js";
import { MAX_TICKETS_PER_PARAMS, ticketEV } from "../payments/expected-value.js";
import { orchestratorFaceValue, orchestratorWinProb } from "../payments/orchestrator-params.js";
import { minimalBytes } from "../payments/payment.js";
import { MAX_UINT256, ticketAuxData, ticketHash, uint256Bytes, type Ticket } from "../payments/ticket.js";
import type { SenderInfo } from "../payments/ticket-params.js";
import type { TicketParamsInit } from "./byoc-wire.js";

/** starter.go defaultTicketEV: 8 gwei. */
export const DEFAULT_PAYEE_TICKET_EV = 8_000_000_000n;
/** starter.go redeemGasL2 (Arbitrum). */
export const DEFAULT_PAYEE_REDEEM_GAS = 1_200_000n;
/** A plausible Arbitrum gas price; go-livepeer reads it from its gas price monitor. */
export const DEFAULT_PAYEE_GAS_PRICE = 1_000_000_000n;
/** pm/recipient.go paramsExpirationBlock: params live this many L1 blocks. */
export const PARAMS_EXPIRATION_BLOCKS = 40n;

/** What the payee reads of the chain; synchronous so a real watcher's cached view adapts to it directly. */
export interface PayeeChain {
  /** The latest L1 block (on Arbitrum, the l1BlockNumber of the latest L2 header). */
  lastSeenL1Block(): bigint;
  lastInitializedRound(): bigint;
  /** 0x + 64 hex; ZeroHash when unknown (go-livepeer then falls back to the previous round). */
  blockHashForRound(round: bigint): string;
  /** TicketBroker getSenderInfo; undefined when unknown (then no max float caps the face value). */
  senderInfo?(sender: string): SenderInfo | undefined;
}

export interface StaticPayeeChain extends PayeeChain {
  setL1Block(block: bigint): void;
  /** Makes `round` the last initialized round, with its block hash. */
  setRound(round: bigint, hash: string): void;
  /** Sets (or with undefined clears) what getSenderInfo answers for a sender. */
  setSenderInfo(sender: string, info: SenderInfo | undefined): void;
}

/** A chain that moves only when told to, for tests and devnets without a chain. */
export function staticPayeeChain(init: Partial<{ l1Block: bigint; round: bigint; blockHash: string }> = {}): StaticPayeeChain {
  let l1Block = init.l1Block ?? 1_000n;
  let round = init.round ?? 100n;
  const hashes = new Map<bigint, string>([[round, init.blockHash ?? keccak256(Buffer.from(`devnet round ${round}`))]]);
  const senders = new Map<string, SenderInfo>();
  return {
    lastSeenL1Block: () => l1Block,
    lastInitializedRound: () => round,
    blockHashForRound: (r) => hashes.get(r) ?? ZeroHash,
    senderInfo: (sender) => senders.get(getAddress(sender)),
    setL1Block(block) {
      l1Block = block;
    },
    setRound(r, hash) {
      round = r;
      hashes.set(r, hexlify(getBytes(hash)));
    },
    setSenderInfo(sender, info) {
      if (info) senders.set(getAddress(sender), info);
      else senders.delete(getAddress(sender));
    },
  };
}

/** Everything recipientRand is derived from (pm/recipient.go rand), as the payee issued or received it. */
export interface RecipientRandInput {
  readonly seed: bigint;
  readonly sender: string;
  readonly faceValue: bigint;
  readonly winProb: bigint;
  readonly expirationBlock: bigint;
  /** The price the params were issued for; reduced here as big.Rat keeps it. */
  readonly price: Ratio;
  readonly creationRound: bigint;
  readonly creationRoundBlockHash: string;
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

/**
 * recipientRand = uint256(HMAC-SHA256(secret, seed ‖ sender(20) ‖ faceValue ‖ winProb ‖ expirationBlock ‖
 * price.num ‖ price.den ‖ auxData)), numbers as minimal big-endian bytes without length prefixes (ref pm-eth §1.7).
 */
export function recipientRand(secret: Uint8Array, input: RecipientRandInput): bigint {
  const price = ratio(input.price.num, input.price.den);
  const hmac = createHmac("sha256", secret);
  for (const part of [
    minimalBytes(input.seed),
    getBytes(getAddress(input.sender)),
    minimalBytes(input.faceValue),
    minimalBytes(input.winProb),
    minimalBytes(input.expirationBlock),
    minimalBytes(abs(price.num)), // big.Int.Bytes() is the magnitude
    minimalBytes(price.den),
    ticketAuxData(input.creationRound, input.creationRoundBlockHash),
  ]) {
    hmac.update(part);
  }
  return toBigInt(hmac.digest());
}

/** keccak256(leftPad32(recipientRand)): what TicketParams.recipient_rand_hash carries. */
export function recipientRandHash(rand: bigint): string {
  return keccak256(uint256Bytes(rand, "recipientRand"));
}

/** validator.IsWinningTicket: uint256(keccak256(sig ‖ leftPad32(recipientRand))) < winProb. */
export function isWinningTicket(sig: Uint8Array, rand: bigint, winProb: bigint): boolean {
  return toBigInt(keccak256(Buffer.concat([sig, uint256Bytes(rand, "recipientRand")]))) < winProb;
}

export type WinningTicketHook = (ticket: Ticket, sig: Uint8Array, recipientRand: bigint) => void | Promise<void>;

export interface SimulatedPayeeOptions {
  /** The orchestrator's recipient key; its address is TicketParams.recipient. */
  readonly recipientKey: Pick<Wallet, "address">;
  /** 32-byte HMAC secret (go-livepeer draws one at start-up). */
  readonly secret: Uint8Array;
  readonly chain: PayeeChain;
  /** -ticketEV, wei; default 8000000000. */
  readonly ticketEV?: bigint;
  readonly redeemGas?: bigint;
  /** Wei per gas; default 1 gwei. */
  readonly gasPrice?: bigint;
  /** -maxFaceValue, wei; absent or 0 = no cap. */
  readonly maxFaceValue?: bigint;
  /** Transcoder pool size: a sender's max float is its reserve / poolSize (when its sender info is known). */
  readonly poolSize?: bigint;
  readonly onWinningTicket?: WinningTicketHook;
  /** 32 random bytes for each seed; default crypto.randomBytes. For deterministic tests. */
  readonly randomSeed?: () => Uint8Array;
}

/** Why a ticket (or a whole payment) was not credited. */
export type RejectionReason =
  | "no-sender"
  | "no-expiration-params"
  | "invalid-expected-price"
  | "sender-unlocking"
  | "recipient"
  | "sender"
  | "recipient-rand"
  | "signature"
  | "nonce-seen"
  | "nonce-limit"
  | "expired"
  /** Valid, but after an earlier ticket of the same payment failed (go: receiveErr is sticky). */
  | "after-earlier-error";

export interface PaymentReceipt {
  /** Sum of the EVs credited to balance(sender, manifestId) by this payment. */
  readonly credited: Ratio;
  /** Tickets credited. */
  readonly tickets: number;
  /** Winning tickets found (credited or not: go-livepeer redeems them either way). */
  readonly winning: number;
  /** The first error, in go-livepeer's words; absent when every ticket was credited. */
  readonly error?: string;
  readonly reason?: RejectionReason;
  /** The payment was refused outright or the ticket loop aborted (go: a payment-level error or FatalReceiveErr). */
  readonly fatal: boolean;
}

export interface WinningTicketRecord {
  readonly ticket: Ticket;
  readonly sig: Uint8Array;
  readonly recipientRand: bigint;
}

export interface PayeeStats {
  readonly paymentsReceived: number;
  readonly ticketsReceived: number;
  readonly ticketsCredited: number;
  readonly ticketsRejected: Readonly<Partial<Record<RejectionReason, number>>>;
  readonly winningTickets: number;
  readonly totalCredited: Ratio;
  readonly totalDebited: Ratio;
}

/** How many winning tickets are kept for inspection. */
export const WINNING_TICKETS_KEPT = 1000;

const ZERO = ratio(0n);

/** go-ethereum BytesToAddress: the last 20 bytes, left-padded with zeros. */
function goBytesToAddress(bytes: Uint8Array): string {
  const tail = bytes.subarray(Math.max(0, bytes.length - 20));
  const padded = new Uint8Array(20);
  padded.set(tail, 20 - tail.length);
  return getAddress(hexlify(padded));
}

/** go-ethereum BytesToHash: the last 32 bytes, left-padded with zeros, as lowercase hex. */
function goBytesToHash(bytes: Uint8Array): string {
  const tail = bytes.subarray(Math.max(0, bytes.length - 32));
  const padded = new Uint8Array(32);
  padded.set(tail, 32 - tail.length);
  return hexlify(padded);
}

/** big.Int.SetBytes. */
const goSetBytes = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : toBigInt(bytes));

/** A ticket or payment refused, in go-livepeer's words. `won`: a winning ticket refused after the winning check. */
class Rejection extends Error {
  won = false;
  constructor(
    readonly reason: RejectionReason,
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }

  withWon(won: boolean): this {
    this.won = won;
    return this;
  }
}

interface NonceSet {
  readonly seen: Set<number>;
  readonly expirationBlock: bigint;
}

export class SimulatedPayee {
  /** EIP-55 TicketParams.recipient. */
  readonly recipient: string;
  readonly ticketEV: bigint;
  readonly redeemGas: bigint;
  readonly gasPrice: bigint;
  readonly chain: PayeeChain;
  private readonly secret: Uint8Array;
  private readonly maxFaceValue: bigint;
  private readonly poolSize: bigint;
  private readonly onWinning: WinningTicketHook | undefined;
  private readonly randomSeed: () => Uint8Array;
  private readonly balances = new Map<string, Ratio>();
  /** Seen nonces per recipientRand (decimal), dropped once their params expire. */
  private readonly nonces = new Map<string, NonceSet>();
  private noncesCleanedAt = -1n;
  private readonly winners: WinningTicketRecord[] = [];
  private counts = {
    paymentsReceived: 0,
    ticketsReceived: 0,
    ticketsCredited: 0,
    winningTickets: 0,
    totalCredited: ZERO,
    totalDebited: ZERO,
  };
  private readonly rejected: Partial<Record<RejectionReason, number>> = {};

  constructor(options: SimulatedPayeeOptions) {
    if (options.secret.length !== 32) throw new RangeError(`payee secret must be 32 bytes, got ${options.secret.length}`);
    this.recipient = getAddress(options.recipientKey.address);
    this.secret = Uint8Array.from(options.secret);
    this.chain = options.chain;
    this.ticketEV = options.ticketEV ?? DEFAULT_PAYEE_TICKET_EV;
    this.redeemGas = options.redeemGas ?? DEFAULT_PAYEE_REDEEM_GAS;
    this.gasPrice = options.gasPrice ?? DEFAULT_PAYEE_GAS_PRICE;
    this.maxFaceValue = options.maxFaceValue ?? 0n;
    this.poolSize = options.poolSize ?? 1n;
    this.onWinning = options.onWinningTicket;
    this.randomSeed = options.randomSeed ?? (() => randomBytes(32));
    if (this.ticketEV <= 0n) throw new RangeError(`ticketEV must be positive, got ${this.ticketEV}`);
    if (this.poolSize <= 0n) throw new RangeError(`poolSize must be positive, got ${this.poolSize}`);
  }

  /**
   * pm/recipient.go TicketParams for `sender` at `price` (wei per unit): the net.TicketParams init, expiration
   * params included. Price ≤ 0 gives faceValue 0 and winProb 0. Throws "insufficient sender reserve" when the
   * sender's max float cannot carry one ticket of the EV.
   */
  ticketParams(sender: string, price: Ratio): TicketParamsInit {
    const senderAddress = getAddress(sender);
    const faceValue = price.num > 0n ? this.faceValueFor(senderAddress) : 0n;
    const winProb = orchestratorWinProb(faceValue, this.ticketEV);
    const seed = toBigInt(this.randomSeed());
    const expirationBlock = this.chain.lastSeenL1Block() + PARAMS_EXPIRATION_BLOCKS;
    const { creationRound, creationRoundBlockHash } = this.expirationParams();
    const rand = recipientRand(this.secret, {
      seed,
      sender: senderAddress,
      faceValue,
      winProb,
      expirationBlock,
      price,
      creationRound,
      creationRoundBlockHash,
    });
    return {
      recipient: getBytes(this.recipient),
      faceValue: minimalBytes(faceValue),
      winProb: minimalBytes(winProb),
      recipientRandHash: getBytes(recipientRandHash(rand)),
      seed: minimalBytes(seed),
      expirationBlock: minimalBytes(expirationBlock),
      expirationParams: { creationRound, creationRoundBlockHash: getBytes(creationRoundBlockHash) },
    };
  }

  /** recipient.ticketExpirationsParams: the last initialized round, or the one before when its hash is zero. */
  private expirationParams(): { creationRound: bigint; creationRoundBlockHash: string } {
    const round = this.chain.lastInitializedRound();
    const hash = hexlify(getBytes(this.chain.blockHashForRound(round)));
    if (hash !== ZeroHash || round === 0n) return { creationRound: round, creationRoundBlockHash: hash };
    return { creationRound: round - 1n, creationRoundBlockHash: hexlify(getBytes(this.chain.blockHashForRound(round - 1n))) };
  }

  private faceValueFor(sender: string): bigint {
    const info = this.chain.senderInfo?.(sender);
    // Unknown sender info: nothing caps the face value (a watcher that has not seen the sender yet).
    const maxFloat = info ? info.reserveFundsRemaining / this.poolSize : MAX_UINT256;
    return orchestratorFaceValue({
      ticketEV: this.ticketEV,
      redeemGas: this.redeemGas,
      gasPrice: this.gasPrice,
      maxFloat,
      maxFaceValue: this.maxFaceValue,
    });
  }

  /**
   * core/orchestrator.go ProcessPayment + recipient.ReceiveTicket for one net.Payment whose credit goes to
   * (payment.sender, manifestId). Never throws for a bad payment: the receipt says what go-livepeer would.
   */
  receivePayment(payment: Payment, manifestId: string): PaymentReceipt {
    this.counts.paymentsReceived++;
    const params = payment.ticketParams;
    // No ticket params: price 0, nothing to credit.
    if (!params) return { credited: ZERO, tickets: 0, winning: 0, fatal: false };
    try {
      this.checkPaymentFields(payment);
    } catch (error) {
      const rejection = error as Rejection;
      this.reject(rejection.reason, payment.ticketSenderParams.length);
      return { credited: ZERO, tickets: 0, winning: 0, error: rejection.message, reason: rejection.reason, fatal: true };
    }
    const expiration = payment.expirationParams!;
    const price = payment.expectedPrice!;
    const sender = goBytesToAddress(payment.sender);
    const base = {
      recipient: goBytesToAddress(params.recipient),
      sender,
      faceValue: goSetBytes(params.faceValue),
      winProb: goSetBytes(params.winProb),
      recipientRandHash: goBytesToHash(params.recipientRandHash),
      creationRound: expiration.creationRound,
      creationRoundBlockHash: goBytesToHash(expiration.creationRoundBlockHash),
      paramsExpirationBlock: goSetBytes(params.expirationBlock),
    };
    const seed = goSetBytes(params.seed);
    const expectedPrice = ratio(price.pricePerUnit, price.pixelsPerUnit);

    let credited = ZERO;
    let tickets = 0;
    let winning = 0;
    let firstError: Rejection | undefined;
    for (const [index, senderParams] of payment.ticketSenderParams.entries()) {
      this.counts.ticketsReceived++;
      const ticket: Ticket = { ...base, senderNonce: senderParams.senderNonce };
      let won = false;
      let failure: Rejection | undefined;
      try {
        won = this.receiveTicket(ticket, senderParams.sig, seed, expectedPrice);
      } catch (error) {
        if (!(error instanceof Rejection)) throw error;
        failure = error;
        won = error.won;
      }
      if (failure?.fatal) {
        // FatalReceiveErr: the loop stops; the remaining tickets are never looked at.
        this.reject(failure.reason, payment.ticketSenderParams.length - index);
        return { credited, tickets, winning, error: failure.message, reason: failure.reason, fatal: true };
      }
      if (won) winning++;
      if (failure) {
        this.reject(failure.reason, 1);
        firstError ??= failure;
      } else if (firstError) {
        this.reject("after-earlier-error", 1);
      } else {
        const ev = ticketEV(ticket.faceValue, ticket.winProb);
        this.credit(sender, manifestId, ev);
        credited = addRatios(credited, ev);
        tickets++;
      }
    }
    if (!firstError) return { credited, tickets, winning, fatal: false };
    return { credited, tickets, winning, error: firstError.message, reason: firstError.reason, fatal: false };
  }

  /** Payment-level checks of ProcessPayment, before any ticket. */
  private checkPaymentFields(payment: Payment): void {
    if (payment.sender.length === 0) {
      throw new Rejection("no-sender", "Could not find Sender for payment", true);
    }
    if (!payment.expectedPrice) {
      throw new Rejection("invalid-expected-price", "invalid expected price sent with payment err=expected price is nil", true);
    }
    if (payment.expectedPrice.pixelsPerUnit === 0n) {
      throw new Rejection("invalid-expected-price", 'invalid expected price sent with payment err="pixels per unit is 0"', true);
    }
    if (!payment.expirationParams) {
      // go-livepeer dereferences payment.ExpirationParams unchecked: a nil pointer panic, no answer at all.
      throw new Rejection(
        "no-expiration-params",
        "payment has ticket_params but no expiration_params: go-livepeer panics (nil pointer dereference)",
        true,
      );
    }
  }

  /** recipient.ReceiveTicket: returns whether the ticket won; throws a Rejection (which may still carry `won`). */
  private receiveTicket(ticket: Ticket, sig: Uint8Array, seed: bigint, price: Ratio): boolean {
    const chainSender = this.chain.senderInfo?.(ticket.sender);
    const round = this.chain.lastInitializedRound();
    if (chainSender && chainSender.withdrawRound !== 0n && chainSender.withdrawRound <= round + 1n) {
      throw new Rejection("sender-unlocking", `sender ${ticket.sender} deposit and reserve is set to unlock soon`, true);
    }
    if (ticket.recipient !== this.recipient) throw new Rejection("recipient", "invalid ticket recipient", true);
    if (ticket.sender === ZeroAddress) throw new Rejection("sender", "invalid ticket sender", true);
    let rand: bigint;
    try {
      rand = recipientRand(this.secret, {
        seed,
        sender: ticket.sender,
        faceValue: ticket.faceValue,
        winProb: ticket.winProb,
        expirationBlock: ticket.paramsExpirationBlock,
        price,
        creationRound: ticket.creationRound,
        creationRoundBlockHash: ticket.creationRoundBlockHash,
      });
    } catch {
      rand = -1n; // unrepresentable fields (e.g. a negative round): cannot be what this payee issued
    }
    if (rand < 0n || recipientRandHash(rand) !== ticket.recipientRandHash) {
      throw new Rejection("recipient-rand", "invalid recipientRand for ticket recipientRandHash", true);
    }
    try {
      verifyDigestSignature(ticket.sender, getBytes(ticketHash(ticket)), sig);
    } catch {
      throw new Rejection("signature", "invalid ticket signature", false);
    }
    const won = isWinningTicket(sig, rand, ticket.winProb);
    if (won) this.recordWinner(ticket, sig, rand);
    const nonceError = this.useNonce(rand, ticket);
    if (nonceError) throw nonceError.withWon(won);
    if (ticket.paramsExpirationBlock <= this.chain.lastSeenL1Block()) {
      throw new Rejection("expired", "TicketParams expired", false).withWon(won);
    }
    return won;
  }

  /** pm/recipient.go updateSenderNonce: each nonce once per recipientRand, at most 600 of them. */
  private useNonce(rand: bigint, ticket: Ticket): Rejection | undefined {
    const latest = this.chain.lastSeenL1Block();
    // senderNoncesCleanupLoop, done lazily once per new L1 block: sets of expired params are dropped.
    if (latest !== this.noncesCleanedAt) {
      this.noncesCleanedAt = latest;
      for (const [key, set] of this.nonces) if (set.expirationBlock <= latest) this.nonces.delete(key);
    }
    const key = rand.toString();
    let set = this.nonces.get(key);
    if (!set) {
      set = { seen: new Set(), expirationBlock: ticket.paramsExpirationBlock };
      this.nonces.set(key, set);
    }
    const where = `sender=${ticket.sender} nonce=${ticket.senderNonce}`;
    if (set.seen.has(ticket.senderNonce)) {
      return new Rejection("nonce-seen", `invalid ticket senderNonce ${where}: already seen`, false);
    }
    if (set.seen.size >= MAX_TICKETS_PER_PARAMS) {
      return new Rejection("nonce-limit", `invalid ticket senderNonce ${where}: too many values`, false);
    }
    set.seen.add(ticket.senderNonce);
    return undefined;
  }

  private recordWinner(ticket: Ticket, sig: Uint8Array, rand: bigint): void {
    this.counts.winningTickets++;
    const record = { ticket, sig: Uint8Array.from(sig), recipientRand: rand };
    this.winners.push(record);
    if (this.winners.length > WINNING_TICKETS_KEPT) this.winners.shift();
    if (!this.onWinning) return;
    try {
      // Redemption is asynchronous in go-livepeer too; its failure never affects the payment.
      void Promise.resolve(this.onWinning(record.ticket, record.sig, rand)).catch(() => undefined);
    } catch {
      // A throwing hook is the hook's problem.
    }
  }

  private reject(reason: RejectionReason, tickets: number): void {
    if (tickets <= 0) return;
    this.rejected[reason] = (this.rejected[reason] ?? 0) + tickets;
  }

  private static key(sender: string, manifestId: string): string {
    return `${getAddress(sender)}\n${manifestId}`;
  }

  private credit(sender: string, manifestId: string, amount: Ratio): void {
    const key = SimulatedPayee.key(sender, manifestId);
    this.balances.set(key, addRatios(this.balances.get(key) ?? ZERO, amount));
    this.counts.ticketsCredited++;
    this.counts.totalCredited = addRatios(this.counts.totalCredited, amount);
  }

  /** core/accounting.go Balances.Balance: what (sender, manifestId) holds, exact; 0 when unknown. */
  balance(sender: string, manifestId: string): Ratio {
    return this.balances.get(SimulatedPayee.key(sender, manifestId)) ?? ZERO;
  }

  /** Balances.Debit: subtracts `amount` (may go negative) and returns the new balance. */
  debit(sender: string, manifestId: string, amount: Ratio): Ratio {
    if (compareRatios(amount, ZERO) < 0) throw new RangeError("a debit must not be negative");
    const key = SimulatedPayee.key(sender, manifestId);
    const next = addRatios(this.balances.get(key) ?? ZERO, ratio(-amount.num, amount.den));
    this.balances.set(key, next);
    this.counts.totalDebited = addRatios(this.counts.totalDebited, amount);
    return next;
  }

  /** Winning tickets seen, oldest first (the last WINNING_TICKETS_KEPT). */
  winningTickets(): readonly WinningTicketRecord[] {
    return [...this.winners];
  }

  stats(): PayeeStats {
    return { ...this.counts, ticketsRejected: { ...this.rejected } };
  }
}

/** What a simulated orchestrator's BYOC side does with payments (byoc-server.ts on-chain mode). */
export interface ByocPayments {
  readonly payee: SimulatedPayee;
  /**
   * An invalid payment: "drop" (default) ends the exchange without an answer, as go-livepeer's BYOC handler panics
   * on one; "reject" answers 400 with the error text, as go-livepeer's AI endpoints do.
   */
  readonly onBadPayment?: "drop" | "reject";
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * A balance as a JobToken's int64 `balance` (common.PriceToInt64): ×1000 truncated toward zero and saturated to
 * int64, then divided by 1000 (truncating), so it saturates near 9.22e15 wei.
 */
export function tokenBalance(balance: Ratio): bigint {
  let fixed = (balance.num * 1000n) / balance.den; // bigint division truncates toward zero, as big.Float.Int64 does
  if (fixed > INT64_MAX) fixed = INT64_MAX;
  if (fixed < INT64_MIN) fixed = INT64_MIN;
  return fixed / 1000n;
}

/** big.Rat.FloatString(prec): `prec` decimals, the last rounded to nearest with halves away from zero. */
export function goFloatString(value: Ratio, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const magnitude = value.num < 0n ? -value.num : value.num;
  let scaled = (magnitude * scale) / value.den;
  const remainder = (magnitude * scale) % value.den;
  if (remainder * 2n >= value.den) scaled++;
  const sign = value.num < 0n ? "-" : "";
  if (prec === 0) return `${sign}${scaled}`;
  return `${sign}${scaled / scale}.${(scaled % scale).toString().padStart(prec, "0")}`;
}

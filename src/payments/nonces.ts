// Sender nonces, one counter per ticket-params set (keyed by recipient_rand_hash, as go-livepeer's sender keys its
// sessions). The first ticket gets 1, then 2, 3, … (pm/sender.go CreateTicketBatch). A nonce is never handed out
// twice for the same recipient_rand_hash: the orchestrator refuses a repeat ("already seen") and more than 600
// distinct nonces per set ("too many values"), so the allocator refuses to go past 600 and the caller must fetch
// fresh params first.
//
// Allocation is synchronous: concurrent callers in one process cannot interleave inside allocate(), so each batch
// gets a contiguous, unshared range. Memory is bounded: counters of params that can no longer be used (expired by
// the L1 block, the same rule validateTicketParams applies) are dropped, and past maxSessions live entries a new
// set is refused rather than an old counter forgotten (forgetting one could reuse its nonces).

import { MAX_TICKETS_PER_PARAMS } from "./expected-value.js";
import { PARAMS_EXPIRY_BUFFER } from "./ticket-params.js";

export class NonceError extends Error {
  override readonly name = "NonceError";
  constructor(
    readonly reason: "exhausted" | "too-many-sessions" | "bad-count",
    message: string,
  ) {
    super(message);
  }
}

interface Session {
  /** The last nonce handed out; 0 before the first. */
  last: number;
  expirationBlock: bigint;
}

export interface NonceAllocatorOptions {
  /** Most nonces per params set; default 600 (the orchestrator's limit). */
  readonly limit?: number;
  /** Most params sets tracked at once; default 4096. */
  readonly maxSessions?: number;
}

export class NonceAllocator {
  private readonly sessions = new Map<string, Session>();
  private readonly limit: number;
  private readonly maxSessions: number;
  private lastSeenL1Block = 0n;

  constructor(options: NonceAllocatorOptions = {}) {
    this.limit = options.limit ?? MAX_TICKETS_PER_PARAMS;
    this.maxSessions = options.maxSessions ?? 4096;
    if (!Number.isSafeInteger(this.limit) || this.limit < 1 || this.limit > MAX_TICKETS_PER_PARAMS) {
      throw new RangeError(`nonce limit must be 1..${MAX_TICKETS_PER_PARAMS}, got ${this.limit}`);
    }
    if (!Number.isSafeInteger(this.maxSessions) || this.maxSessions < 1) {
      throw new RangeError(`maxSessions must be ≥ 1, got ${this.maxSessions}`);
    }
  }

  /**
   * `count` fresh nonces for the params identified by recipientRandHash: a contiguous range continuing from the
   * last one handed out. All or nothing: throws NonceError("exhausted") if the set has fewer than `count` left.
   */
  allocate(params: { recipientRandHash: string; expirationBlock: bigint }, count: number): number[] {
    if (!Number.isSafeInteger(count) || count < 0) throw new NonceError("bad-count", `ticket count must be a non-negative integer, got ${count}`);
    const key = params.recipientRandHash.toLowerCase();
    let session = this.sessions.get(key);
    if (!session) {
      if (this.sessions.size >= this.maxSessions) this.prune(this.lastSeenL1Block);
      if (this.sessions.size >= this.maxSessions) {
        throw new NonceError("too-many-sessions", `more than ${this.maxSessions} ticket params sets are in use; none has expired yet`);
      }
      session = { last: 0, expirationBlock: params.expirationBlock };
      this.sessions.set(key, session);
    }
    if (count > this.limit - session.last) {
      throw new NonceError(
        "exhausted",
        `ticket params ${key} have ${this.limit - session.last} of ${this.limit} nonces left, ${count} asked: fetch fresh ticket params`,
      );
    }
    const first = session.last + 1;
    session.last += count;
    return Array.from({ length: count }, (_, i) => first + i);
  }

  /** Nonces still available for these params (the full limit for params never used). */
  remaining(recipientRandHash: string): number {
    return this.limit - (this.sessions.get(recipientRandHash.toLowerCase())?.last ?? 0);
  }

  /**
   * Drops counters of params that the sender would refuse as expired at this L1 block (expirationBlock −
   * lastSeenL1Block ≤ 1), so they can never be used again. Returns how many were dropped.
   */
  prune(lastSeenL1Block: bigint): number {
    if (lastSeenL1Block > this.lastSeenL1Block) this.lastSeenL1Block = lastSeenL1Block;
    let dropped = 0;
    for (const [key, session] of this.sessions) {
      if (session.expirationBlock - this.lastSeenL1Block <= PARAMS_EXPIRY_BUFFER) {
        this.sessions.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.sessions.size;
  }
}

// BYOC job tokens cached per (orchestrator, capability), instead of go-livepeer's one token request to every
// orchestrator for every job (ref byoc-wire §6.3).
//
// Freshness. A token carries three things that age differently:
//   - available_capacity and balance change with every job, so a token is refreshed in the background once it is
//     `refreshAfterMs` old (30 s by default) if someone asked for it meanwhile; until the new one arrives the old one
//     is served (stale-while-revalidate);
//   - ticket params are valid for 40 L1 blocks (about 8 min) from issue, and a payment built on expired params is
//     refused; a token is therefore never served once it is `maxAgeMs` old (5 min by default, well inside that
//     window, leaving room for a job's own duration);
//   - each fetch also brings a new seed, so background refreshes give payments a fresh nonce space.
// Failures are remembered for `errorTtlMs` (1 s) so that a dead orchestrator is not asked again by every job; a
// failed background refresh drops the old token too (the orchestrator just failed to answer). Concurrent callers of
// one key share a single fetch. A token nobody asked for since it arrived is not refreshed; it is dropped when it
// expires, so idle (orchestrator, capability) pairs cost no requests.

import { untilAborted } from "../util/abortable.js";
import { ByocTransportError } from "./byoc-http.js";
import type { JobToken } from "./byoc-token.js";

export const DEFAULT_REFRESH_AFTER_MS = 30_000;
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;
export const DEFAULT_ERROR_TTL_MS = 1_000;
export const DEFAULT_MAX_ENTRIES = 4_096;

/** Fetches one token; must honour the signal (the cache aborts it on close). */
export type TokenFetcher = (serviceUri: string, capability: string, signal: AbortSignal) => Promise<JobToken>;

/** Time and timers, injectable for tests. `now` must not go backwards. */
export interface CacheClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: CacheClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TokenCacheOptions {
  fetch: TokenFetcher;
  refreshAfterMs?: number;
  maxAgeMs?: number;
  errorTtlMs?: number;
  maxEntries?: number;
  clock?: CacheClock;
}

interface Entry {
  readonly serviceUri: string;
  readonly capability: string;
  token: JobToken | undefined;
  fetchedAt: number;
  error: unknown;
  failedAt: number;
  inflight: Promise<JobToken> | undefined;
  controller: AbortController | undefined;
  timer: unknown;
  /** A get was served from this token since it arrived. */
  usedSinceFetch: boolean;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly fetcher: TokenFetcher;
  private readonly refreshAfterMs: number;
  private readonly maxAgeMs: number;
  private readonly errorTtlMs: number;
  private readonly maxEntries: number;
  private readonly clock: CacheClock;
  private closed = false;

  constructor(options: TokenCacheOptions) {
    this.fetcher = options.fetch;
    this.refreshAfterMs = options.refreshAfterMs ?? DEFAULT_REFRESH_AFTER_MS;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.errorTtlMs = options.errorTtlMs ?? DEFAULT_ERROR_TTL_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.clock = options.clock ?? systemClock;
    if (!(this.refreshAfterMs > 0 && this.refreshAfterMs < this.maxAgeMs)) {
      throw new RangeError(`refreshAfterMs (${this.refreshAfterMs}) must be positive and below maxAgeMs (${this.maxAgeMs})`);
    }
    if (!(this.errorTtlMs >= 0)) throw new RangeError(`errorTtlMs must not be negative, got ${this.errorTtlMs}`);
    if (!(Number.isInteger(this.maxEntries) && this.maxEntries > 0)) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
  }

  /**
   * A token for (serviceUri, capability): the cached one while younger than maxAgeMs, otherwise a fetch shared with
   * every concurrent caller. A recent failure is rethrown without fetching. The caller's signal only stops its own
   * wait, never the shared fetch.
   */
  get(serviceUri: string, capability: string, signal?: AbortSignal): Promise<JobToken> {
    if (this.closed) return Promise.reject(new ByocTransportError("aborted", "the token cache is closed"));
    if (signal?.aborted) return Promise.reject(cancelled(serviceUri));
    const now = this.clock.now();
    const key = cacheKey(serviceUri, capability);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = {
        serviceUri,
        capability,
        token: undefined,
        fetchedAt: 0,
        error: undefined,
        failedAt: 0,
        inflight: undefined,
        controller: undefined,
        timer: undefined,
        usedSinceFetch: false,
      };
      this.entries.set(key, entry);
      this.evictOverflow();
    } else {
      // Map order is recency order: move the entry to the end.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }

    if (entry.token !== undefined && now - entry.fetchedAt < this.maxAgeMs) {
      entry.usedSinceFetch = true;
      // The refresh timer normally does this; a late timer (a busy event loop) must not leave a stale token.
      if (now - entry.fetchedAt >= this.refreshAfterMs && entry.inflight === undefined) this.startFetch(entry);
      return Promise.resolve(entry.token);
    }
    if (entry.inflight === undefined && entry.error !== undefined && now - entry.failedAt < this.errorTtlMs) {
      return Promise.reject(entry.error);
    }
    const inflight = entry.inflight ?? this.startFetch(entry);
    return signal === undefined ? inflight : untilAborted(inflight, signal, () => cancelled(serviceUri));
  }

  /** The cached token if it may still be used, without fetching or counting as a use. */
  peek(serviceUri: string, capability: string): JobToken | undefined {
    const entry = this.entries.get(cacheKey(serviceUri, capability));
    if (entry?.token === undefined || this.clock.now() - entry.fetchedAt >= this.maxAgeMs) return undefined;
    return entry.token;
  }

  /**
   * Forgets the token (e.g. after a 503, or a connection dropped after paying); the next get fetches anew. Without a
   * capability, every token of that orchestrator. A fetch already running still answers its waiters but is not kept.
   */
  invalidate(serviceUri: string, capability?: string): void {
    if (capability !== undefined) {
      this.drop(cacheKey(serviceUri, capability));
      return;
    }
    for (const [key, entry] of this.entries) {
      if (entry.serviceUri === serviceUri) this.drop(key);
    }
  }

  /** Number of (orchestrator, capability) entries held, failures included. */
  get size(): number {
    return this.entries.size;
  }

  /** Stops every timer and aborts every fetch; later gets are refused. */
  close(): void {
    this.closed = true;
    for (const key of [...this.entries.keys()]) {
      const entry = this.entries.get(key);
      this.drop(key);
      entry?.controller?.abort();
    }
  }

  private startFetch(entry: Entry): Promise<JobToken> {
    const controller = new AbortController();
    const inflight = this.fetchInto(entry, controller.signal);
    entry.inflight = inflight;
    entry.controller = controller;
    // Registered before any waiter's handler, so waiters already see the fetch as finished.
    const settle = (): void => {
      if (entry.inflight !== inflight) return;
      entry.inflight = undefined;
      entry.controller = undefined;
    };
    // A background refresh may have no waiter: its failure is kept in the entry, not lost as an unhandled rejection.
    inflight.then(settle, settle);
    return inflight;
  }

  private async fetchInto(entry: Entry, signal: AbortSignal): Promise<JobToken> {
    const current = (): boolean => this.entries.get(cacheKey(entry.serviceUri, entry.capability)) === entry;
    try {
      const token = await this.fetcher(entry.serviceUri, entry.capability, signal);
      if (current()) {
        entry.token = token;
        entry.fetchedAt = this.clock.now();
        entry.error = undefined;
        entry.usedSinceFetch = false;
        this.scheduleRefresh(entry);
      }
      return token;
    } catch (err) {
      if (current() && !signal.aborted) {
        entry.token = undefined;
        entry.error = err;
        entry.failedAt = this.clock.now();
        this.clearTimer(entry);
      }
      throw err;
    }
  }

  /**
   * At refreshAfterMs: refresh when the token was asked for since it arrived; otherwise leave it until it expires
   * (a later get refreshes it then, in the background) and drop it at maxAgeMs. Idle entries cost no requests.
   */
  private scheduleRefresh(entry: Entry): void {
    this.clearTimer(entry);
    const key = cacheKey(entry.serviceUri, entry.capability);
    const fetchedAt = entry.fetchedAt;
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      if (this.closed || this.entries.get(key) !== entry || entry.inflight !== undefined) return;
      if (entry.usedSinceFetch) {
        this.startFetch(entry);
        return;
      }
      entry.timer = this.clock.setTimeout(() => {
        entry.timer = undefined;
        if (this.entries.get(key) === entry && entry.inflight === undefined && entry.fetchedAt === fetchedAt) this.drop(key);
      }, Math.max(0, fetchedAt + this.maxAgeMs - this.clock.now()));
    }, this.refreshAfterMs);
  }

  private clearTimer(entry: Entry): void {
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.clearTimer(entry);
    this.entries.delete(key);
  }

  /** Least recently used first. */
  private evictOverflow(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) return;
      this.drop(key);
    }
  }
}

function cacheKey(serviceUri: string, capability: string): string {
  return `${serviceUri}\n${capability}`;
}

function cancelled(serviceUri: string): ByocTransportError {
  return new ByocTransportError("aborted", `token request to ${serviceUri} cancelled`, { target: serviceUri });
}


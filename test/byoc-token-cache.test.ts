// TokenCache with a fake clock and a scripted fetcher: no real timers, no wall-clock assertions.
import { describe, expect, it } from "vitest";
import { ByocTransportError } from "../src/orchestrator/byoc-http.js";
import type { JobToken } from "../src/orchestrator/byoc-token.js";
import { type CacheClock, TokenCache, type TokenCacheOptions } from "../src/orchestrator/byoc-token-cache.js";

class FakeClock implements CacheClock {
  private time = 0;
  private nextId = 1;
  readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, running due timers in order (a bounded number of them). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let i = 0; i < 1_000; i++) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].callback();
    }
    this.time = end;
  }
}

interface Call {
  serviceUri: string;
  capability: string;
  signal: AbortSignal;
  resolve: (token: JobToken) => void;
  reject: (err: unknown) => void;
}

/** A fetcher whose answers the test gives by hand. */
class ScriptedFetcher {
  readonly calls: Call[] = [];
  readonly fetch = (serviceUri: string, capability: string, signal: AbortSignal): Promise<JobToken> =>
    new Promise<JobToken>((resolve, reject) => {
      this.calls.push({ serviceUri, capability, signal, resolve, reject });
      signal.addEventListener("abort", () => reject(new ByocTransportError("aborted", "fetch aborted")), { once: true });
    });

  last(): Call {
    const call = this.calls.at(-1);
    if (call === undefined) throw new Error("no fetch was made");
    return call;
  }
}

let serial = 0;
function token(capacity = 1): JobToken {
  serial++;
  return {
    senderAddress: undefined,
    ticketParams: undefined,
    balance: BigInt(serial),
    priceInfo: undefined,
    price: { num: 0n, den: 1n },
    serviceAddr: "https://o1:8935",
    availableCapacity: capacity,
  };
}

/** Lets settled promises run their handlers. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const O1 = "https://o1:8935";
const O2 = "https://o2:8935";

function setup(options: Partial<TokenCacheOptions> = {}): { cache: TokenCache; clock: FakeClock; fetcher: ScriptedFetcher } {
  const clock = new FakeClock();
  const fetcher = new ScriptedFetcher();
  const cache = new TokenCache({ fetch: fetcher.fetch, clock, ...options });
  return { cache, clock, fetcher };
}

describe("TokenCache", () => {
  it("single-flight: concurrent callers share one fetch", async () => {
    const { cache, fetcher } = setup();
    const waits = [cache.get(O1, "a"), cache.get(O1, "a"), cache.get(O1, "a")];
    expect(fetcher.calls).toHaveLength(1);
    expect(fetcher.last()).toMatchObject({ serviceUri: O1, capability: "a" });
    const t = token();
    fetcher.last().resolve(t);
    expect(await Promise.all(waits)).toEqual([t, t, t]);
    // Cached afterwards.
    expect(await cache.get(O1, "a")).toBe(t);
    expect(fetcher.calls).toHaveLength(1);
    // Keys are (orchestrator, capability).
    void cache.get(O1, "b").catch(() => undefined);
    void cache.get(O2, "a").catch(() => undefined);
    expect(fetcher.calls.map((c) => [c.serviceUri, c.capability])).toEqual([
      [O1, "a"],
      [O1, "b"],
      [O2, "a"],
    ]);
    cache.close();
  });

  it("refreshes a used token in the background and serves the old one meanwhile", async () => {
    const { cache, clock, fetcher } = setup({ refreshAfterMs: 30_000, maxAgeMs: 300_000 });
    const first = token();
    const getting = cache.get(O1, "a");
    fetcher.last().resolve(first);
    await getting;
    clock.advance(10_000);
    expect(await cache.get(O1, "a")).toBe(first); // a use since it arrived
    clock.advance(20_000); // 30 s after the fetch: the refresh timer fires
    expect(fetcher.calls).toHaveLength(2);
    expect(await cache.get(O1, "a")).toBe(first); // still served while the refresh runs
    const second = token();
    fetcher.last().resolve(second);
    await flush();
    expect(await cache.get(O1, "a")).toBe(second);
    expect(fetcher.calls).toHaveLength(2);
    cache.close();
  });

  it("does not refresh an idle token and drops it when it expires", async () => {
    const { cache, clock, fetcher } = setup({ refreshAfterMs: 30_000, maxAgeMs: 300_000 });
    const getting = cache.get(O1, "a");
    const first = token();
    fetcher.last().resolve(first);
    await getting;
    clock.advance(30_000);
    expect(fetcher.calls).toHaveLength(1); // nobody used it: no background request
    expect(cache.peek(O1, "a")).toBe(first);
    // A get between refreshAfter and maxAge serves it and refreshes in the background.
    clock.advance(100_000);
    expect(await cache.get(O1, "a")).toBe(first);
    expect(fetcher.calls).toHaveLength(2);
    fetcher.last().resolve(token());
    await flush();
    // Unused again: expires maxAge after its fetch, then the entry is gone.
    clock.advance(300_000);
    expect(cache.size).toBe(0);
    expect(cache.peek(O1, "a")).toBeUndefined();
    void cache.get(O1, "a").catch(() => undefined);
    expect(fetcher.calls).toHaveLength(3);
    cache.close();
  });

  it("never serves a token older than maxAgeMs", async () => {
    const { cache, clock, fetcher } = setup({ refreshAfterMs: 1_000, maxAgeMs: 2_000 });
    const getting = cache.get(O1, "a");
    const first = token();
    fetcher.last().resolve(first);
    await getting;
    // The refresh timer fires but the refresh is still running when the token expires.
    expect(await cache.get(O1, "a")).toBe(first);
    clock.advance(1_000);
    expect(fetcher.calls).toHaveLength(2);
    clock.advance(1_000);
    const waiting = cache.get(O1, "a"); // expired: waits for the running refresh
    expect(fetcher.calls).toHaveLength(2);
    const second = token();
    fetcher.last().resolve(second);
    expect(await waiting).toBe(second);
    cache.close();
  });

  it("caches a failure briefly, then asks again", async () => {
    const { cache, clock, fetcher } = setup({ errorTtlMs: 1_000 });
    const getting = cache.get(O1, "a");
    const failure = new ByocTransportError("connect", "https://o1:8935/process/token: connect ECONNREFUSED");
    fetcher.last().reject(failure);
    await expect(getting).rejects.toBe(failure);
    await expect(cache.get(O1, "a")).rejects.toBe(failure);
    clock.advance(999);
    await expect(cache.get(O1, "a")).rejects.toBe(failure);
    expect(fetcher.calls).toHaveLength(1);
    clock.advance(1);
    const retry = cache.get(O1, "a");
    expect(fetcher.calls).toHaveLength(2);
    const t = token();
    fetcher.last().resolve(t);
    expect(await retry).toBe(t);
    cache.close();
  });

  it("a failed background refresh drops the token and is cached like any failure", async () => {
    const { cache, clock, fetcher } = setup({ refreshAfterMs: 30_000, errorTtlMs: 1_000 });
    const getting = cache.get(O1, "a");
    fetcher.last().resolve(token());
    await getting;
    await cache.get(O1, "a");
    clock.advance(30_000);
    const failure = new ByocTransportError("reset", "socket hang up");
    fetcher.last().reject(failure);
    await flush();
    expect(cache.peek(O1, "a")).toBeUndefined();
    await expect(cache.get(O1, "a")).rejects.toBe(failure);
    expect(fetcher.calls).toHaveLength(2);
    cache.close();
  });

  it("invalidate forgets a token; a fetch running at that moment is not kept", async () => {
    const { cache, fetcher } = setup();
    const getting = cache.get(O1, "a");
    fetcher.last().resolve(token());
    await getting;
    cache.invalidate(O1, "a");
    const afterInvalidate = cache.get(O1, "a");
    expect(fetcher.calls).toHaveLength(2);
    cache.invalidate(O1, "a"); // while it runs
    const fresh = token();
    fetcher.last().resolve(fresh);
    expect(await afterInvalidate).toBe(fresh); // its waiter still gets it
    const next = cache.get(O1, "a");
    expect(fetcher.calls).toHaveLength(3); // but it was not cached
    fetcher.last().resolve(token());
    await next;
    cache.close();
  });

  it("invalidate without a capability forgets every token of that orchestrator", async () => {
    const { cache, fetcher } = setup();
    const all = [cache.get(O1, "a"), cache.get(O1, "b"), cache.get(O2, "a")];
    for (const call of fetcher.calls) call.resolve(token());
    await Promise.all(all);
    cache.invalidate(O1);
    expect(cache.peek(O1, "a")).toBeUndefined();
    expect(cache.peek(O1, "b")).toBeUndefined();
    expect(cache.peek(O2, "a")).toBeDefined();
    cache.close();
  });

  it("is bounded: the least recently used entry goes first", async () => {
    const { cache, fetcher } = setup({ maxEntries: 2 });
    const resolveLast = async (p: Promise<JobToken>): Promise<JobToken> => {
      fetcher.last().resolve(token());
      return p;
    };
    await resolveLast(cache.get(O1, "a"));
    await resolveLast(cache.get(O1, "b"));
    await cache.get(O1, "a"); // a is now more recent than b
    await resolveLast(cache.get(O1, "c"));
    expect(cache.size).toBe(2);
    expect(cache.peek(O1, "a")).toBeDefined();
    expect(cache.peek(O1, "b")).toBeUndefined();
    expect(cache.peek(O1, "c")).toBeDefined();
    cache.close();
  });

  it("a caller's abort ends only its own wait", async () => {
    const { cache, fetcher } = setup();
    const controller = new AbortController();
    const impatient = cache.get(O1, "a", controller.signal);
    const patient = cache.get(O1, "a");
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ kind: "aborted" });
    expect(fetcher.last().signal.aborted).toBe(false);
    const t = token();
    fetcher.last().resolve(t);
    expect(await patient).toBe(t);
    await expect(cache.get(O1, "a", AbortSignal.abort())).rejects.toBeInstanceOf(ByocTransportError);
    cache.close();
  });

  it("close stops every timer, aborts fetches and refuses later gets", async () => {
    const { cache, clock, fetcher } = setup();
    const getting = cache.get(O1, "a");
    fetcher.last().resolve(token());
    await getting;
    const running = cache.get(O2, "a");
    expect(clock.timers.size).toBe(1);
    cache.close();
    expect(clock.timers.size).toBe(0);
    expect(fetcher.last().signal.aborted).toBe(true);
    await expect(running).rejects.toMatchObject({ kind: "aborted" });
    await expect(cache.get(O1, "a")).rejects.toThrow("the token cache is closed");
    expect(cache.size).toBe(0);
  });

  it("checks its options", () => {
    const fetch = new ScriptedFetcher().fetch;
    expect(() => new TokenCache({ fetch, refreshAfterMs: 10, maxAgeMs: 10 })).toThrow(RangeError);
    expect(() => new TokenCache({ fetch, maxEntries: 0 })).toThrow(RangeError);
    expect(() => new TokenCache({ fetch, errorTtlMs: -1 })).toThrow(RangeError);
  });
});

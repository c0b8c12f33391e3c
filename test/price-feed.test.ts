// src/eth/price-feed.ts: the go-livepeer vectors on the pure parts (eth/pricefeed_test.go TestComputePriceData,
// core/autoconvertedprice_test.go), and the contract read and hourly watcher against a Chainlink-shaped
// aggregator deployed on anvil. The aggregator is a few dozen bytes of hand-assembled EVM code (no compiler
// needed) that answers description(), decimals() and latestRoundData() with fixed ABI-encoded results; a "price
// update" replaces its code with anvil_setCode. Timers are injected, so hours of polling run instantly.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress, Wallet } from "ethers";
import { convertToWei } from "../src/network/currency.js";
import { divideRatios, ratio, type Ratio } from "../src/network/price.js";
import {
  computePrice,
  fetchPriceFeed,
  msUntilNextPeriod,
  parseFeedPair,
  PRICE_UPDATE_PERIOD_MS,
  priceFeedRate,
  PriceFeedWatcher,
  type SetTimer,
} from "../src/eth/price-feed.js";
import { ANVIL_PLATFORM, type Anvil, startAnvil } from "./support/anvil.js";
import { aggregatorRuntime, creationCode, type FeedState } from "./support/chainlink-mock.js";

const FEED = "0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612";

describe("price feed arithmetic (go-livepeer vectors)", () => {
  it("computePrice is answer / 10^decimals, exact", () => {
    expect(computePrice(420666000n, 6)).toEqual(ratio(210333n, 500n));
    expect(computePrice(420666000n, 6)).toEqual({ num: 210333n, den: 500n });
    expect(computePrice(0n, 8)).toEqual({ num: 0n, den: 1n });
    expect(computePrice(13n, 0)).toEqual({ num: 13n, den: 1n });
    expect(computePrice(300000000000n, 8n)).toEqual({ num: 3000n, den: 1n });
    expect(() => computePrice(1n, 256)).toThrow(/uint8/);
    // updatedAt is unix seconds: the Go vector's 1626192000 is 2021-07-13 16:00:00 UTC.
    expect(new Date(1626192000 * 1000).toISOString()).toBe("2021-07-13T16:00:00.000Z");
  });

  it("parseFeedPair splits the description on '/' and trims", () => {
    expect(parseFeedPair("ETH / USD")).toEqual({ base: "ETH", quote: "USD" });
    expect(parseFeedPair(" usd/eth ")).toEqual({ base: "USD", quote: "ETH" });
    expect(() => parseFeedPair("ETHUSD")).toThrow(/not a pair/);
    expect(() => parseFeedPair("ETH / USD / EUR")).toThrow(/not a pair/);
  });

  /** core/autoconvertedprice_test.go: (feed pair, feed price, base price in USD) → wei. */
  const conversions: Array<[string, Ratio, Ratio, Ratio]> = [
    ["ETH / USD", ratio(100n), ratio(2n), ratio(2n * 10n ** 16n)],
    ["USD / ETH", ratio(1n, 420n), ratio(66n), ratio(11n * 10n ** 17n, 7n)],
    ["ETH / USD", ratio(3000n), ratio(50n), ratio(5n * 10n ** 16n, 3n)],
    ["ETH / USD", ratio(6000n), ratio(50n), ratio(5n * 10n ** 16n, 6n)],
  ];
  it.each(conversions)("%s at %o converts %o USD to %o wei", (description, price, usd, wei) => {
    const rate = priceFeedRate({ ...parseFeedPair(description), price, updatedAt: 0n }, FEED);
    expect(rate.currency).toBe("USD");
    expect(convertToWei(usd, "USD", rate)).toEqual(wei);
  });

  it("the ref §5.5 worked example: 0.5 USD per 1e12 pixels at 3000 USD/ETH is 500/3 wei per pixel", () => {
    const rate = priceFeedRate({ base: "ETH", quote: "USD", price: computePrice(300000000000n, 8), updatedAt: 0n }, FEED);
    expect(convertToWei(divideRatios(ratio(1n, 2n), ratio(10n ** 12n)), "USD", rate)).toEqual(ratio(500n, 3n));
    expect(rate.source).toBe(`Chainlink ETH/USD feed ${FEED}`);
  });

  it("refuses pairs without ETH and non-positive prices", () => {
    expect(() => priceFeedRate({ base: "BTC", quote: "USD", price: ratio(1n), updatedAt: 0n }, FEED)).toThrow(/ETH on exactly one side/);
    expect(() => priceFeedRate({ base: "ETH", quote: "USD", price: ratio(0n), updatedAt: 0n }, FEED)).toThrow(/must be positive/);
  });

  it("hourly polls align to wall-clock hours", () => {
    const tenFifteen = Date.UTC(2024, 0, 1, 10, 15, 0);
    expect(msUntilNextPeriod(tenFifteen)).toBe(45 * 60 * 1000);
    expect(msUntilNextPeriod(Date.UTC(2024, 0, 1, 11, 0, 0))).toBe(PRICE_UPDATE_PERIOD_MS);
    expect(msUntilNextPeriod(Date.UTC(2024, 0, 1, 11, 59, 59, 999))).toBe(1);
  });
});

/** A fake clock and timer queue: fire() runs the one pending timer and waits for the watcher to schedule the next. */
function fakeTimers(startMs: number) {
  let now = startMs;
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const live = () => timers.filter((t) => !t.cancelled);
  const setTimer: SetTimer = (fn, ms) => {
    const timer = { fn, ms, cancelled: false };
    timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  };
  return {
    now: () => now,
    setTimer,
    pendingDelays: () => live().map((t) => t.ms),
    /** Advances the clock to the pending timer, runs it, and returns its delay once the next timer is set. */
    async fire(): Promise<number> {
      const pending = live();
      expect(pending).toHaveLength(1);
      const timer = pending[0]!;
      timer.cancelled = true;
      now += timer.ms;
      const before = timers.length;
      timer.fn();
      const deadline = Date.now() + 5000;
      while (timers.length === before) {
        if (Date.now() > deadline) throw new Error("the watcher scheduled nothing after a timer fired");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return timer.ms;
    },
  };
}

describe.skipIf(!ANVIL_PLATFORM)("a Chainlink-shaped aggregator on anvil", () => {
  let anvil: Anvil;
  let deployer: Wallet;
  let feed: string;
  const hour10 = Date.UTC(2024, 5, 1, 10, 0, 0) / 1000;
  const initial: FeedState = { description: "ETH / USD", decimals: 8, roundId: 1n, answer: 300000000000n, updatedAt: BigInt(hour10) };

  const setFeed = async (state: FeedState | null) =>
    anvil.provider.send("anvil_setCode", [feed, state ? aggregatorRuntime(state) : "0x"]);

  beforeAll(async () => {
    anvil = await startAnvil();
    deployer = await anvil.newWallet();
    const tx = await deployer.sendTransaction({ data: creationCode(aggregatorRuntime(initial)) });
    const receipt = await tx.wait();
    feed = getAddress(receipt!.contractAddress!);
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it("the deployed aggregator answers like AggregatorV3", async () => {
    expect(await anvil.provider.getCode(feed)).toBe(aggregatorRuntime(initial));
    expect(await fetchPriceFeed(anvil.provider, feed)).toEqual({ base: "ETH", quote: "USD", price: { num: 3000n, den: 1n }, updatedAt: BigInt(hour10) });
    // The go vector through a real contract read.
    await setFeed({ ...initial, answer: 420666000n, decimals: 6 });
    expect((await fetchPriceFeed(anvil.provider, feed)).price).toEqual({ num: 210333n, den: 500n });
    await setFeed({ ...initial, description: "USD / ETH", answer: 238095238095238n, decimals: 18 });
    const inverse = priceFeedRate(await fetchPriceFeed(anvil.provider, feed), feed);
    expect(inverse.perEth).toEqual(ratio(10n ** 18n, 238095238095238n));
    await setFeed(initial);
  });

  it("PriceFeedWatcher: reads at start, polls on the hour, applies only newer answers", async () => {
    const clock = fakeTimers(hour10 * 1000 + 15 * 60 * 1000); // 10:15
    const updates: string[] = [];
    const watcher = await PriceFeedWatcher.start(anvil.provider, feed, {
      now: clock.now,
      setTimer: clock.setTimer,
      onUpdate: (rate) => updates.push(`${rate.perEth.num}/${rate.perEth.den}`),
    });
    try {
      expect(watcher.current()).toEqual({ currency: "USD", perEth: { num: 3000n, den: 1n }, source: `Chainlink ETH/USD feed ${feed}` });
      expect(clock.pendingDelays()).toEqual([45 * 60 * 1000]); // the next poll is at 11:00

      // 11:00: a newer answer is applied.
      await setFeed({ ...initial, roundId: 2n, answer: 600000000000n, updatedAt: BigInt(hour10 + 3600) });
      expect(await clock.fire()).toBe(45 * 60 * 1000);
      expect(watcher.current().perEth).toEqual({ num: 6000n, den: 1n });
      expect(clock.pendingDelays()).toEqual([PRICE_UPDATE_PERIOD_MS]); // 12:00

      // 12:00: a different answer with an older updatedAt is ignored, as is one with the same updatedAt.
      await setFeed({ ...initial, roundId: 3n, answer: 100000000000n, updatedAt: BigInt(hour10 + 1800) });
      await clock.fire();
      await setFeed({ ...initial, roundId: 3n, answer: 100000000000n, updatedAt: BigInt(hour10 + 3600) });
      await clock.fire();
      expect(watcher.current().perEth).toEqual({ num: 6000n, den: 1n });
      expect(watcher.data.updatedAt).toBe(BigInt(hour10 + 3600));
      expect(updates).toEqual(["6000/1"]);
    } finally {
      watcher.stop();
      await setFeed(initial);
    }
    expect(clock.pendingDelays()).toEqual([]);
  });

  it("PriceFeedWatcher: 5 attempts 30 s apart doubling, then waits for the next hour, keeping the old price", async () => {
    const clock = fakeTimers(hour10 * 1000);
    const warnings: string[] = [];
    const logger = { warn: (_obj: object, msg: string) => void warnings.push(msg), info: () => undefined };
    const watcher = await PriceFeedWatcher.start(anvil.provider, feed, { now: clock.now, setTimer: clock.setTimer, logger: logger as never });
    try {
      await setFeed(null); // the feed breaks: calls return no data
      const delays = [await clock.fire()];
      for (let i = 0; i < 4; i++) delays.push(await clock.fire());
      // The hourly poll, then the retries after attempts 1–4.
      expect(delays).toEqual([PRICE_UPDATE_PERIOD_MS, 30_000, 60_000, 120_000, 240_000]);
      // After the 5th failed attempt (at 11:07:30) the next try is at 12:00.
      expect(clock.pendingDelays()).toEqual([PRICE_UPDATE_PERIOD_MS - 450_000]);
      expect(warnings.filter((w) => w.includes("retrying"))).toHaveLength(4);
      expect(warnings.at(-1)).toBe("reading the price feed failed; keeping the previous ETH price until the next hour");
      expect(watcher.current().perEth).toEqual({ num: 3000n, den: 1n });

      // A feed that answers a zero price counts as a failure too.
      await setFeed({ ...initial, answer: 0n, updatedAt: BigInt(hour10 + 7200) });
      expect(await clock.fire()).toBe(PRICE_UPDATE_PERIOD_MS - 450_000);
      expect(clock.pendingDelays()).toEqual([30_000]);

      // Recovered on the retry.
      await setFeed({ ...initial, answer: 350000000000n, updatedAt: BigInt(hour10 + 7200) });
      await clock.fire();
      expect(watcher.current().perEth).toEqual({ num: 3500n, den: 1n });
    } finally {
      watcher.stop();
      await setFeed(initial);
    }
  });

  it("PriceFeedWatcher.start fails clearly for a missing feed or a pair without ETH", async () => {
    const nobody = Wallet.createRandom().address;
    await expect(PriceFeedWatcher.start(anvil.provider, nobody)).rejects.toThrow(`cannot read the ETH price from feed ${nobody}: `);
    await setFeed({ ...initial, description: "BTC / USD" });
    await expect(PriceFeedWatcher.start(anvil.provider, feed)).rejects.toThrow(
      `cannot read the ETH price from feed ${feed}: Chainlink BTC/USD feed ${feed}: pair BTC/USD must have ETH on exactly one side`,
    );
    await setFeed(initial);
  });
});

// The ETH price from a Chainlink AggregatorV3 feed, for prices written in USD (or another fiat). Follows
// go-livepeer (eth/pricefeed.go, eth/watchers/pricefeedwatcher.go, ref §5.5):
// * the pair comes from description() ("ETH / USD" → base ETH, quote USD);
// * price = answer / 10^decimals, exactly (a Ratio, never a float);
// * one fetch at start, then one per hour aligned to wall-clock hours, each tried up to 5 times with a 30 s
//   retry delay that doubles; an answer replaces the current one only if its updatedAt is newer.

import { getAddress } from "ethers/address";
import { Contract } from "ethers/contract";
import type { ContractRunner } from "ethers/providers";
import type { Logger } from "../log.js";
import { type EthUsdRate, rateFromPriceFeed } from "../network/currency.js";
import { formatRatio, ratio, type Ratio } from "../network/price.js";

const AGGREGATOR_V3_ABI = [
  "function description() view returns (string)",
  "function decimals() view returns (uint8)",
  "function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)",
];

/** One reading of the feed. */
export interface PriceFeedData {
  /** Upper case, trimmed: "ETH" for "ETH / USD". */
  readonly base: string;
  readonly quote: string;
  /** Units of quote per unit of base: answer / 10^decimals. */
  readonly price: Ratio;
  /** latestRoundData's updatedAt, unix seconds. */
  readonly updatedAt: bigint;
}

/** answer / 10^decimals as an exact ratio (go: computePriceData). */
export function computePrice(answer: bigint, decimals: number | bigint): Ratio {
  const places = BigInt(decimals);
  if (places < 0n || places > 255n) throw new RangeError(`decimals must be a uint8, got ${decimals}`);
  return ratio(answer, 10n ** places);
}

/** "ETH / USD" → { base: "ETH", quote: "USD" } (go: parseCurrencies). */
export function parseFeedPair(description: string): { base: string; quote: string } {
  const parts = description.split("/").map((part) => part.trim().toUpperCase());
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(`price feed description ${JSON.stringify(description)} is not a pair like "ETH / USD"`);
  }
  return { base: parts[0], quote: parts[1] };
}

/** Reads description(), decimals() and latestRoundData() from an AggregatorV3 at feedAddress. */
export async function fetchPriceFeed(runner: ContractRunner, feedAddress: string): Promise<PriceFeedData> {
  const feed = new Contract(getAddress(feedAddress), AGGREGATOR_V3_ABI, runner);
  const [description, decimals, round] = await Promise.all([
    feed.getFunction("description").staticCall() as Promise<string>,
    feed.getFunction("decimals").staticCall() as Promise<bigint>,
    feed.getFunction("latestRoundData").staticCall() as Promise<{ answer: bigint; updatedAt: bigint }>,
  ]);
  return { ...parseFeedPair(description), price: computePrice(round.answer, decimals), updatedAt: round.updatedAt };
}

/** The reading as the rate currency conversion uses; throws unless one side is ETH and the price is positive. */
export function priceFeedRate(data: PriceFeedData, feedAddress: string): EthUsdRate {
  return rateFromPriceFeed({ ...data, source: `Chainlink ${data.base}/${data.quote} feed ${getAddress(feedAddress)}` });
}

/** A cancellable timer; tests supply their own to run hours of polling instantly. */
export type SetTimer = (fn: () => void, ms: number) => { cancel(): void };

export interface PriceFeedWatcherOptions {
  /** Wall-clock ms (default Date.now); the hourly polls align to its multiples of one hour. */
  readonly now?: () => number;
  readonly setTimer?: SetTimer;
  readonly logger?: Pick<Logger, "warn" | "info">;
  /** Called after each applied update. */
  readonly onUpdate?: (rate: EthUsdRate, data: PriceFeedData) => void;
}

export const PRICE_UPDATE_PERIOD_MS = 60 * 60 * 1000;
export const PRICE_FETCH_ATTEMPTS = 5;
export const PRICE_RETRY_DELAY_MS = 30_000;

/** ms from `nowMs` to the next multiple of `periodMs` (a full period when exactly on one). */
export function msUntilNextPeriod(nowMs: number, periodMs: number = PRICE_UPDATE_PERIOD_MS): number {
  return periodMs - (((nowMs % periodMs) + periodMs) % periodMs);
}

const unrefTimer: SetTimer = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

export class PriceFeedWatcher {
  #data: PriceFeedData;
  #rate: EthUsdRate;
  #timer: { cancel(): void } | undefined;
  #stopped = false;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;

  private constructor(
    private readonly runner: ContractRunner,
    /** EIP-55. */
    readonly feedAddress: string,
    private readonly options: PriceFeedWatcherOptions,
    data: PriceFeedData,
    rate: EthUsdRate,
  ) {
    this.#data = data;
    this.#rate = rate;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? unrefTimer;
  }

  /** Reads the feed once (throws, naming the feed, if that fails or the pair has no ETH side), then polls hourly. */
  static async start(runner: ContractRunner, feedAddress: string, options: PriceFeedWatcherOptions = {}): Promise<PriceFeedWatcher> {
    const address = getAddress(feedAddress);
    let data: PriceFeedData;
    let rate: EthUsdRate;
    try {
      data = await fetchPriceFeed(runner, address);
      rate = priceFeedRate(data, address);
    } catch (err) {
      throw new Error(`cannot read the ETH price from feed ${address}: ${describe(err)}`);
    }
    const watcher = new PriceFeedWatcher(runner, address, options, data, rate);
    watcher.#scheduleHourly();
    return watcher;
  }

  /** The current rate (synchronous). */
  current(): EthUsdRate {
    return this.#rate;
  }

  /** The reading behind current(). */
  get data(): PriceFeedData {
    return this.#data;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(fn: () => void, ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.setTimer(fn, ms);
  }

  #scheduleHourly(): void {
    this.#schedule(() => void this.#attempt(1), msUntilNextPeriod(this.now()));
  }

  async #attempt(attempt: number): Promise<void> {
    try {
      const data = await fetchPriceFeed(this.runner, this.feedAddress);
      // Checked before applying: a zero or negative answer, or a pair without ETH, counts as a failed attempt.
      const rate = priceFeedRate(data, this.feedAddress);
      if (this.#stopped) return;
      if (data.updatedAt > this.#data.updatedAt) {
        this.#data = data;
        this.#rate = rate;
        this.options.logger?.info(
          { feed: this.feedAddress, price: formatRatio(data.price), updatedAt: data.updatedAt.toString() },
          "ETH price updated from the price feed",
        );
        this.options.onUpdate?.(rate, data);
      }
      this.#scheduleHourly();
    } catch (err) {
      if (this.#stopped) return;
      if (attempt >= PRICE_FETCH_ATTEMPTS) {
        this.options.logger?.warn(
          { feed: this.feedAddress, attempts: attempt, err: describe(err) },
          "reading the price feed failed; keeping the previous ETH price until the next hour",
        );
        this.#scheduleHourly();
        return;
      }
      const delay = PRICE_RETRY_DELAY_MS * 2 ** (attempt - 1);
      this.options.logger?.warn({ feed: this.feedAddress, attempt, retryInMs: delay, err: describe(err) }, "reading the price feed failed; retrying");
      this.#schedule(() => void this.#attempt(attempt + 1), delay);
    }
  }
}

/** A one-line reason; ethers' shortMessage leaves out request details. */
function describe(err: unknown): string {
  const e = err as { shortMessage?: unknown; message?: unknown };
  if (typeof e?.shortMessage === "string") return e.shortMessage;
  if (typeof e?.message === "string") return (e.message.split("\n")[0] as string).slice(0, 300);
  return String(err);
}

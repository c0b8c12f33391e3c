// Amounts written with a currency ("0.5USD", "0.00001ETH", "1000") and their exact conversion to wei.
import { divideRatios, formatRatio, multiplyRatios, parseDecimal, ratio, type Ratio } from "./price.js";

const WEI_PER_ETH: Ratio = ratio(10n ** 18n);

/** An amount as written on a command line or in a config: exact value, currency ("" = wei) and the text itself. */
export interface CurrencyAmount {
  readonly amount: Ratio;
  /** As written ("USD", "eth", ""); compared case-insensitively. */
  readonly currency: string;
  readonly text: string;
}

/**
 * go-livepeer's price syntax (starter.go parsePricePerUnit): digits, an optional fraction and an optional currency
 * of a letter followed by letters and digits — "1000", "0.13USD", "99.99eur", "420DOG3". No sign, no exponent.
 *
 * go-livepeer writes the currency class as [A-z], which also admits [ \ ] ^ _ and the backtick. This parser does
 * not: such a currency could only ever fail conversion later, so refusing it here gives the clearer error and
 * rejects nothing that worked.
 */
export function parsePricePerUnit(text: string, flag = "price"): CurrencyAmount {
  const match = /^(\d+(?:\.\d+)?)([A-Za-z][A-Za-z0-9]*)?$/.exec(text);
  const amount = match ? parseDecimal(match[1] as string) : undefined;
  if (!match || !amount) {
    throw new Error(`${flag} ${JSON.stringify(text)} must be a non-negative decimal with an optional currency, e.g. 1000, 0.5, 0.50USD, 0.00001ETH`);
  }
  return { amount, currency: match[2] ?? "", text };
}

/**
 * What one ETH is worth in a fiat currency, exactly. -ethUsdRate gives a fixed one; a Chainlink feed supplies the
 * same shape through rateFromPriceFeed.
 */
export interface EthUsdRate {
  /** The fiat side, upper case: "USD" for -ethUsdRate and for the default Arbitrum ETH/USD feed. */
  readonly currency: string;
  /** Units of `currency` per ETH; positive. */
  readonly perEth: Ratio;
  /** Where the rate came from, for explanations: "-ethUsdRate 3000.50". */
  readonly source: string;
}

/** The -ethUsdRate flag: a positive decimal number of USD per ETH, such as 3000.50. */
export function fixedEthUsdRate(text: string, flag = "-ethUsdRate"): EthUsdRate {
  const perEth = parseDecimal(text.trim());
  if (!perEth || perEth.num <= 0n) throw new Error(`${flag} ${JSON.stringify(text)} must be a positive number of USD per ETH, e.g. 3000.50`);
  return { currency: "USD", perEth, source: `${flag} ${text.trim()}` };
}

/**
 * A price feed's pair and answer as a rate: "ETH / USD" at 3000 is 3000 USD per ETH; "USD / ETH" at 1/420 is
 * 420 USD per ETH (core/autoconvertedprice.go currencyToWeiMultiplier covers both orientations). One side must be ETH.
 */
export function rateFromPriceFeed(feed: { base: string; quote: string; price: Ratio; source: string }): EthUsdRate {
  const base = feed.base.trim().toUpperCase();
  const quote = feed.quote.trim().toUpperCase();
  if (feed.price.num <= 0n) throw new Error(`${feed.source}: price ${formatRatio(feed.price)} must be positive`);
  if (base === "ETH" && quote !== "ETH") return { currency: quote, perEth: feed.price, source: feed.source };
  if (quote === "ETH" && base !== "ETH") return { currency: base, perEth: divideRatios(ratio(1n), feed.price), source: feed.source };
  throw new Error(`${feed.source}: pair ${base}/${quote} must have ETH on exactly one side`);
}

/** The rate as text for explanations: "3000.5 USD/ETH (-ethUsdRate 3000.50)". */
export function describeRate(rate: EthUsdRate): string {
  return `${formatRatio(rate.perEth)} ${rate.currency}/ETH (${rate.source})`;
}

/** Whether converting this currency to wei needs an exchange rate (anything but wei and ETH). */
export function needsExchangeRate(currency: string): boolean {
  const lower = currency.toLowerCase();
  return lower !== "" && lower !== "wei" && lower !== "eth";
}

/**
 * An amount in `currency` as exact wei: "" and "wei" unchanged, "ETH" × 1e18, the rate's currency × 1e18 / its
 * value per ETH. Throws naming the currency when it is unknown or its rate is missing.
 */
export function convertToWei(amount: Ratio, currency: string, rate: EthUsdRate | undefined): Ratio {
  if (!needsExchangeRate(currency)) return currency.toLowerCase() === "eth" ? multiplyRatios(amount, WEI_PER_ETH) : amount;
  const fiat = rate?.currency ?? "USD";
  if (currency.toUpperCase() !== fiat) {
    throw new Error(`unknown currency ${JSON.stringify(currency)}: prices may be in wei, ETH or ${fiat}`);
  }
  if (!rate) throw new Error(`currency ${JSON.stringify(currency)} needs an ETH/${fiat} rate (-ethUsdRate or a price feed)`);
  return divideRatios(multiplyRatios(amount, WEI_PER_ETH), rate.perEth);
}

// Prices in USD for people: a wei price per unit at an ETH/USD rate, as a decimal string. Display only; money
// decisions stay in exact wei.
import type { EthUsdRate } from "../network/currency.js";
import type { WeiPerUnit } from "../network/price.js";

const WEI_PER_ETH = 10n ** 18n;
/** Significant digits shown. */
const DIGITS = 6;

/** The last text worked out for each price object (offers keep theirs for a snapshot's life), and the rate it used. */
const memo = new WeakMap<WeiPerUnit, { rate: EthUsdRate; text: string }>();

/** USD per unit = wei/unit × (USD per ETH) / 1e18, rounded to 6 significant digits, e.g. "0.0000143051". */
export function usdPerUnit(price: WeiPerUnit, rate: EthUsdRate): string {
  const known = memo.get(price);
  if (known !== undefined && known.rate === rate) return known.text;
  const text = convert(price, rate);
  memo.set(price, { rate, text });
  return text;
}

function convert(price: WeiPerUnit, rate: EthUsdRate): string {
  const num = price.num * rate.perEth.num;
  const den = price.den * rate.perEth.den * WEI_PER_ETH;
  if (num === 0n) return "0";
  // Scale so that the integer part has DIGITS digits, then place the decimal point.
  let exponent = 0;
  while ((num * 10n ** BigInt(Math.max(0, exponent))) / (den * 10n ** BigInt(Math.max(0, -exponent))) < 10n ** BigInt(DIGITS - 1)) exponent++;
  while ((num * 10n ** BigInt(Math.max(0, exponent))) / (den * 10n ** BigInt(Math.max(0, -exponent))) >= 10n ** BigInt(DIGITS)) exponent--;
  const scaled = (num * 10n ** BigInt(Math.max(0, exponent)) * 2n + den * 10n ** BigInt(Math.max(0, -exponent))) / (2n * den * 10n ** BigInt(Math.max(0, -exponent)));
  if (exponent <= 0) return (scaled * 10n ** BigInt(-exponent)).toString();
  const digits = scaled.toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent).replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

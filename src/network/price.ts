// Exact rational numbers: prices (wei per unit of work), currency amounts, exchange rates and multipliers, as reduced
// fractions of bigints. Go's big.Rat plays this role in go-livepeer; money never passes through a binary float here.
// The one float view (ratioToNumber) exists for ranking and as a pre-filter; decisions fall back to the exact ratio.

/** num/den, reduced, den > 0. The sign lives in num. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

/** A price in wei per unit: a Ratio that is never negative (weiPerUnit checks). */
export type WeiPerUnit = Ratio;

/** 10^1000 is already absurd for a price; a bound keeps "1e999999999" from exhausting memory. */
const MAX_EXPONENT = 1000n;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** The reduced fraction num/den; a negative denominator moves its sign to num. Throws on a zero denominator. */
export function ratio(num: bigint, den: bigint = 1n): Ratio {
  if (den === 0n) throw new RangeError(`division by zero: ${num}/0`);
  if (den < 0n) [num, den] = [-num, -den];
  if (num === 0n) return { num: 0n, den: 1n };
  const divisor = gcd(num, den);
  return divisor === 1n ? { num, den } : { num: num / divisor, den: den / divisor };
}

/** A price: the reduced fraction num/den. Throws on a zero or negative denominator or a negative numerator. */
export function weiPerUnit(num: bigint, den: bigint): WeiPerUnit {
  if (den <= 0n) throw new RangeError(`price denominator must be positive, got ${den}`);
  if (num < 0n) throw new RangeError(`price must not be negative, got ${num}/${den}`);
  return ratio(num, den);
}

export const multiplyRatios = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.num, a.den * b.den);

export function divideRatios(a: Ratio, b: Ratio): Ratio {
  if (b.num === 0n) throw new RangeError("division by zero");
  return ratio(a.num * b.den, a.den * b.num);
}

export const addRatios = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.den + b.num * a.den, a.den * b.den);

/** -1, 0 or 1 as a is below, equal to or above b. */
export function compareRatios(a: Ratio, b: Ratio): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Prices are ratios; these names read better where the values are money. */
export const comparePrices = compareRatios;
export const addPrices = addRatios;

export const isInteger = (r: Ratio): boolean => r.den === 1n;

function bitLength(value: bigint): number {
  return (value < 0n ? -value : value).toString(2).length;
}

/**
 * The nearest double (within a few units in the last place), also for ratios whose parts overflow a double
 * (both are scaled down by the same power of two first). For ranking and fast pre-filters only: see exceedsRatio.
 */
export function ratioToNumber(r: Ratio): number {
  const num = Number(r.num);
  const den = Number(r.den);
  if (Number.isFinite(num) && Number.isFinite(den)) return num / den;
  const shift = BigInt(Math.max(bitLength(r.num), bitLength(r.den)) - 1000);
  return Number(r.num >> shift) / Number(r.den >> shift);
}

/** Doubles this far apart (relative) order the same way as the exact ratios they came from. */
const FLOAT_MARGIN = 1e-9;

/**
 * Whether a > b, exactly. `aFloat`, `bFloat` are ratioToNumber(a), ratioToNumber(b), kept by the caller: when they
 * are clearly apart they decide, otherwise (near-equal, both 0 or both Infinity) the bigints do.
 */
export function exceedsRatio(a: Ratio, aFloat: number, b: Ratio, bFloat: number): boolean {
  if (aFloat > bFloat * (1 + FLOAT_MARGIN)) return true;
  if (aFloat < bFloat * (1 - FLOAT_MARGIN)) return false;
  return a.num * b.den > b.num * a.den;
}

/**
 * A decimal number as an exact ratio: optional sign, digits, optional fraction, optional exponent ("12", "-0.5",
 * "0.0002", "1e12", "2.5E-3"); the numbers JSON and big.Rat.SetString's decimal form accept. undefined otherwise.
 */
export function parseDecimal(text: string): Ratio | undefined {
  const match = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = "", exponentText = "0"] = match;
  const exponent = BigInt(exponentText) - BigInt(fraction.length);
  if (exponent > MAX_EXPONENT || exponent < -MAX_EXPONENT) return undefined;
  const digits = BigInt(`${sign}${whole}${fraction}`);
  return exponent >= 0n ? ratio(digits * 10n ** exponent) : ratio(digits, 10n ** -exponent);
}

/** "0.0002" when the ratio has a finite decimal expansion, otherwise "500/3". */
export function formatRatio(r: Ratio): string {
  let den = r.den;
  let places = 0n;
  let scale = 1n;
  // A finite expansion exists exactly when den has no prime factors other than 2 and 5.
  for (const factor of [2n, 5n]) {
    while (den % factor === 0n) den /= factor;
  }
  if (den !== 1n) return `${r.num}/${r.den}`;
  while (scale % r.den !== 0n) {
    scale *= 10n;
    places++;
  }
  const scaled = (r.num * scale) / r.den;
  if (places === 0n) return `${scaled}`;
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(Number(places) + 1, "0");
  const point = digits.length - Number(places);
  return `${negative ? "-" : ""}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** "n" or "n/d", the way Go prints a big.Rat with RatString. */
export function formatPrice(price: WeiPerUnit): string {
  return price.den === 1n ? `${price.num}` : `${price.num}/${price.den}`;
}

/**
 * The price a net.PriceInfo states, or an error text naming what is wrong: go-livepeer's RatPriceInfo refuses
 * pixelsPerUnit 0, and a negative price is never a valid offer.
 */
export function priceFromPriceInfo(info: { pricePerUnit: bigint; pixelsPerUnit: bigint }): WeiPerUnit | string {
  if (info.pixelsPerUnit <= 0n) return `pixelsPerUnit must be positive, got ${info.pixelsPerUnit}`;
  if (info.pricePerUnit < 0n) return `pricePerUnit must not be negative, got ${info.pricePerUnit}`;
  return weiPerUnit(info.pricePerUnit, info.pixelsPerUnit);
}

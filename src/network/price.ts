// Exact prices: wei per unit of work as a reduced fraction of bigints. Money never becomes a JS number.

/** A non-negative exact price in wei per unit, always reduced, denominator > 0. */
export interface WeiPerUnit {
  readonly num: bigint;
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** The reduced fraction num/den. Throws on a zero or negative denominator or a negative numerator. */
export function weiPerUnit(num: bigint, den: bigint): WeiPerUnit {
  if (den <= 0n) throw new RangeError(`price denominator must be positive, got ${den}`);
  if (num < 0n) throw new RangeError(`price must not be negative, got ${num}/${den}`);
  if (num === 0n) return { num: 0n, den: 1n };
  const divisor = gcd(num, den);
  return { num: num / divisor, den: den / divisor };
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function comparePrices(a: WeiPerUnit, b: WeiPerUnit): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function addPrices(a: WeiPerUnit, b: WeiPerUnit): WeiPerUnit {
  return weiPerUnit(a.num * b.den + b.num * a.den, a.den * b.den);
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

// Exact rational numbers from decimal text: the arithmetic behind prices, currency amounts and exchange rates.
// Go's big.Rat plays this role in go-livepeer; nothing here ever passes through a binary float.

/** num/den, reduced, den > 0. The sign lives in num. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

/** 10^1000 is already absurd for a price; a bound keeps "1e999999999" from exhausting memory. */
const MAX_EXPONENT = 1000n;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function ratio(num: bigint, den: bigint = 1n): Ratio {
  if (den === 0n) throw new RangeError(`division by zero: ${num}/0`);
  if (den < 0n) [num, den] = [-num, -den];
  if (num === 0n) return { num: 0n, den: 1n };
  const divisor = gcd(num, den);
  return { num: num / divisor, den: den / divisor };
}

export const multiplyRatios = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.num, a.den * b.den);

export function divideRatios(a: Ratio, b: Ratio): Ratio {
  if (b.num === 0n) throw new RangeError("division by zero");
  return ratio(a.num * b.den, a.den * b.num);
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function compareRatios(a: Ratio, b: Ratio): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

export const isInteger = (r: Ratio): boolean => r.den === 1n;

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

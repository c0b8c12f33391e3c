const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go-style duration such as "500ms", "3s", "1m30s" or "2h", in ms. Throws naming the value when malformed. */
export function parseDuration(value: string, flag: string): number {
  const text = value.trim();
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== text) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not a duration (e.g. 500ms, 3s, 1m)`);
  }
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * (UNIT_MS[unit as string] ?? 0), 0);
}

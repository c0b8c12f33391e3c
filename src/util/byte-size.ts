// Sizes as operators write them: "1048576", "512KiB", "32MiB", "1GiB" (binary units; "KB"/"MB" are taken as the same).

const UNITS: Readonly<Record<string, number>> = { "": 1, b: 1, kib: 1024, kb: 1024, mib: 1024 ** 2, mb: 1024 ** 2, gib: 1024 ** 3, gb: 1024 ** 3 };

/** Bytes from a size string; throws naming `what` when it is not a positive size below 2^53. */
export function parseByteSize(value: string, what: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`${what} ${JSON.stringify(value)} is not a size such as 1048576, 512KiB or 32MiB`);
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`${what} must be a positive size, got ${JSON.stringify(value)}`);
  return bytes;
}

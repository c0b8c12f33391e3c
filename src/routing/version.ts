/**
 * go-livepeer's isVersionCompatible(min, v) (core/capabilities.go): no minimum → compatible; an empty or
 * "undefined" version → incompatible; pre-release suffixes are ignored; then v >= min.
 * A minimum that is not a version is rejected at start-up instead of being ignored with a warning.
 */
export function parseVersion(text: string): number[] | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

export function versionAtLeast(version: string, minimum: readonly number[] | undefined): boolean {
  if (minimum === undefined) return true;
  const parsed = parseVersion(version);
  if (parsed === undefined) return false;
  for (let i = 0; i < 3; i++) {
    const a = parsed[i] ?? 0;
    const b = minimum[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

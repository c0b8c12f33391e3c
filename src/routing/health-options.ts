// Tuning of the health tracker: Envoy's outlier-detection anchors plus the BYOC guide's cold-start and eviction signals.

export interface HealthOptions {
  /** Outcomes in the sliding success-rate window. */
  windowSize: number;
  /** Weight of a new sample in the latency EWMA. */
  ewmaAlpha: number;
  /** Consecutive failures that eject a key (Envoy consecutive_5xx); Infinity turns ejection off. */
  consecutiveFailuresToEject: number;
  /** An ejection lasts base × ejections so far, capped at maxEjectionMs (Envoy, gRPC A50). */
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Never eject more than this share of a capability's orchestrators, except that one may always be ejected (Envoy). */
  maxEjectionPercent: number;
  /** Healthy time after a restore for the ejection count to drop by one (Envoy: one per 10 s sweep; see DEFAULT). */
  ejectionDecayMs: number;
  /** A probe whose outcome is not recorded within this time is handed to another caller. */
  probeTimeoutMs: number;
  /** A success after this long without one may meet an unloaded model. */
  coldStartIdleMs: number;
  /** A possibly cold success slower than this × the expected latency is a cold start. */
  coldStartFactor: number;
  /** A warm success slower than this × the EWMA flags a possible model eviction. */
  evictionFactor: number;
  /** How long possibleEviction stays set after the last flagged jump. */
  evictionFlagMs: number;
  /** Latency coefficient of variation above which the key is flagged as high variance (GPU contention). */
  highVarianceCv: number;
  /** Latency samples needed before eviction and variance are judged. */
  minLatencySamples: number;
}

export const DEFAULT_HEALTH_OPTIONS: Readonly<HealthOptions> = Object.freeze({
  windowSize: 50,
  ewmaAlpha: 0.2,
  consecutiveFailuresToEject: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 50,
  // Slower than Envoy's 10 s sweep on purpose: at low request rates a flapping orchestrator needs minutes to fail five
  // times again, and a 10 s decay would forget its history before then.
  ejectionDecayMs: 60_000,
  probeTimeoutMs: 60_000,
  coldStartIdleMs: 300_000,
  coldStartFactor: 3,
  evictionFactor: 4,
  evictionFlagMs: 300_000,
  highVarianceCv: 0.5,
  minLatencySamples: 5,
});

type Check = (value: number) => boolean;
const positive: Check = (v) => v > 0;
const nonNegative: Check = (v) => v >= 0;
const wholeAtLeastOne: Check = (v) => Number.isInteger(v) && v >= 1;

const CHECKS: Record<keyof HealthOptions, [Check, string]> = {
  windowSize: [(v) => wholeAtLeastOne(v) && v <= 100_000, "a whole number from 1 to 100000"],
  ewmaAlpha: [(v) => v > 0 && v <= 1, "in (0, 1]"],
  consecutiveFailuresToEject: [(v) => wholeAtLeastOne(v) || v === Infinity, "a whole number ≥ 1 or Infinity"],
  baseEjectionMs: [(v) => positive(v) && Number.isFinite(v), "a finite number > 0"],
  maxEjectionMs: [(v) => nonNegative(v) && Number.isFinite(v), "a finite number ≥ 0"],
  maxEjectionPercent: [(v) => v >= 0 && v <= 100, "in [0, 100]"],
  ejectionDecayMs: [positive, "> 0 (Infinity: never decay)"],
  probeTimeoutMs: [positive, "> 0"],
  coldStartIdleMs: [nonNegative, "≥ 0"],
  coldStartFactor: [(v) => v >= 1, "≥ 1"],
  evictionFactor: [(v) => v >= 1, "≥ 1"],
  evictionFlagMs: [nonNegative, "≥ 0"],
  highVarianceCv: [positive, "> 0"],
  minLatencySamples: [(v) => wholeAtLeastOne(v) && v >= 2, "a whole number ≥ 2"],
};

/** The defaults overridden by `options`; throws a RangeError naming the first bad value. */
export function resolveHealthOptions(options: Partial<HealthOptions> = {}): HealthOptions {
  const resolved: HealthOptions = { ...DEFAULT_HEALTH_OPTIONS };
  for (const name of Object.keys(CHECKS) as (keyof HealthOptions)[]) {
    const value = options[name];
    if (value === undefined) continue;
    const [check, expected] = CHECKS[name];
    if (typeof value !== "number" || Number.isNaN(value) || !check(value)) {
      throw new RangeError(`health option ${name} = ${String(value)} must be ${expected}`);
    }
    resolved[name] = value;
  }
  return resolved;
}

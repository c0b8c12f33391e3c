// Small statistics helpers shared by the benchmarks.

export interface LatencySummary {
  samples: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** Nearest-rank percentile (p in [0, 100]) of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Rounds for display and JSON: more digits than this are noise on a shared machine. */
export function round(value: number, decimals = 2): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Durations in nanoseconds (one per call) summarised in microseconds. */
export function summariseNs(durationsNs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(durationsNs).sort();
  let total = 0;
  for (const d of sorted) total += d;
  return {
    samples: sorted.length,
    meanUs: round(total / sorted.length / 1_000),
    p50Us: round(percentile(sorted, 50) / 1_000),
    p99Us: round(percentile(sorted, 99) / 1_000),
    maxUs: round((sorted[sorted.length - 1] ?? NaN) / 1_000),
  };
}

/**
 * Times each of `calls` once per iteration with process.hrtime.bigint(), taking turns so that all of them meet the
 * same machine conditions, after `warmup` untimed iterations. Bounded by wall time too: the warm-up stops after a
 * quarter of `maxMs`, the measurement when `maxMs` has passed in all. One array of durations (ns) per call.
 */
export function timeCalls(calls: ReadonlyArray<() => unknown>, options: { iterations: number; warmup: number; maxMs: number }): Float64Array[] {
  const started = performance.now();
  for (let i = 0; i < options.warmup && performance.now() - started < options.maxMs / 4; i++) for (const call of calls) call();
  const durations = calls.map(() => new Float64Array(options.iterations));
  let done = 0;
  while (done < options.iterations) {
    for (let c = 0; c < calls.length; c++) {
      const start = process.hrtime.bigint();
      (calls[c] as () => unknown)();
      (durations[c] as Float64Array)[done] = Number(process.hrtime.bigint() - start);
    }
    done++;
    if (performance.now() - started > options.maxMs) break; // outside the timed spans
  }
  return durations.map((d) => d.subarray(0, done));
}

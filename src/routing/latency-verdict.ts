// Reads one successful request's latency against what was expected: normal, a cold start, or a possible model eviction.

export type LatencyVerdict = "normal" | "cold_start" | "possible_eviction";

export interface SuccessLatency {
  latencyMs: number;
  /** The model may have been unloaded: the key's first success ever, the first after an ejection, or the first after idling. */
  maybeCold: boolean;
  /** The key's own latency EWMA and the number of samples in it. */
  ownMeanMs: number | undefined;
  ownSamples: number;
  /** The EWMA over every orchestrator of the same capability and model: the yardstick for a key with no history. */
  peerMeanMs: number | undefined;
}

export interface LatencyVerdictOptions {
  coldStartFactor: number;
  evictionFactor: number;
  /** Samples the own EWMA needs before a jump against it means anything. */
  minLatencySamples: number;
}

export function judgeSuccessLatency(sample: SuccessLatency, options: LatencyVerdictOptions): LatencyVerdict {
  if (sample.maybeCold) {
    const expected = sample.ownMeanMs ?? sample.peerMeanMs;
    // With nothing to compare against, a slow first answer cannot be told from a slow orchestrator.
    return expected !== undefined && sample.latencyMs > options.coldStartFactor * expected ? "cold_start" : "normal";
  }
  const mean = sample.ownMeanMs;
  if (mean !== undefined && sample.ownSamples >= options.minLatencySamples && sample.latencyMs > options.evictionFactor * mean) {
    return "possible_eviction";
  }
  return "normal";
}

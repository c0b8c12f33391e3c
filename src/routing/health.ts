// Health per (orchestrator, capability[, model]): fed outcomes by the router and the job executor, read on every routing
// decision. Keys are independent, so a degraded capability never drags down another one on the same orchestrator.
import { Ejection, ejectionAllowed } from "./ejection.js";
import { resolveHealthOptions, type HealthOptions } from "./health-options.js";
import { LatencyStats } from "./latency-stats.js";
import { judgeSuccessLatency } from "./latency-verdict.js";
import { OUTCOME_CLASSES, outcomeIndex, outcomeKind, type OutcomeClass } from "./outcome.js";
import { OutcomeWindow } from "./outcome-window.js";
import { ChangeJournal, type ChangeReader } from "./change-journal.js";
import { offerKey } from "../network/offers.js";

export { OUTCOME_CLASSES, outcomeKind, type OutcomeClass, type OutcomeKind } from "./outcome.js";
export { DEFAULT_HEALTH_OPTIONS, type HealthOptions } from "./health-options.js";
export { classifyFailure, transportErrorOf, type FailureEvidence } from "./classify-failure.js";

/** A key leaving service (ejected, or ejected again after a failed probe) or coming back (its probe succeeded). */
export type EjectionTransition = "ejected" | "recovered";

export interface HealthKey {
  orchestratorUri: string;
  capability: string;
  /** "" for BYOC, or when health is kept for the capability whatever the model. */
  modelId: string;
  /** offerKey(orchestratorUri, capability, modelId), when the caller has it precomputed (snapshot offers do). */
  readonly healthKey?: string;
}

/** What ranking reads of a key on every decision: a live view, read it at once rather than keeping it. */
export interface RankingStats {
  readonly ewmaLatencyMs: number | undefined;
  /** Successes and failures in the success-rate window, and the share of successes (1 when empty). */
  readonly samples: number;
  readonly successRate: number;
  readonly latencySamples: number;
  /** From the ejection until a probe succeeds; whether a request may go now is isAvailable's answer. */
  readonly ejected: boolean;
}

export interface HealthState {
  key: HealthKey;
  /** Successes and failures in the success-rate window (neutral outcomes are not in it). */
  samples: number;
  /** Over the window; 1 when it is empty. */
  successRate: number;
  /** EWMA of normal successes; cold starts are left out and eviction jumps clamped. */
  ewmaLatencyMs: number | undefined;
  latencyStdDevMs: number | undefined;
  latencySamples: number;
  consecutiveFailures: number;
  lastOutcome?: OutcomeClass;
  lastOutcomeAt?: number;
  /** From the ejection until a probe succeeds (so also while waiting for or running the probe). */
  ejected: boolean;
  ejectedUntil?: number;
  /** Ejections so far, decayed by healthy time; the next ejection lasts base × (this + 1). */
  ejections: number;
  /** The single probe request is out. */
  probing: boolean;
  coldStarts: number;
  /** A warm request was evictionFactor × slower than usual within the last evictionFlagMs. */
  possibleEviction: boolean;
  highVariance: boolean;
  outcomeCounts: Record<OutcomeClass, number>;
}

/**
 * The ejection state of every key that was never ejected: frozen, so that a write to it by mistake throws rather
 * than ejecting every such key at once. Tens of thousands of keys share it instead of holding one each.
 */
const NEVER_EJECTED = new Ejection();
Object.freeze(NEVER_EJECTED);
const SUCCESS_INDEX = outcomeIndex("success") as number;

/** One (orchestrator, capability, model): memory is bounded by the window size. */
class KeyHealth implements RankingStats {
  readonly window: OutcomeWindow;
  readonly latency = new LatencyStats();
  /** NEVER_EJECTED (shared, frozen) until the key's first ejection: most keys are never ejected. */
  ejection: Ejection = NEVER_EJECTED;
  /** Outcomes recorded, by class: successes apart, the rest per OUTCOME_CLASSES index once there is one. */
  successes = 0;
  otherCounts: number[] | undefined;
  consecutiveFailures = 0;
  coldStarts = 0;
  lastOutcome: OutcomeClass | undefined;
  lastOutcomeAt = 0;
  lastSuccessAt: number | undefined;
  lastEvictionAt: number | undefined;
  /** Set by an ejection: the container may have restarted, so the next success may be cold. */
  coldAfterEjection = false;

  constructor(
    readonly id: string,
    readonly key: HealthKey,
    readonly group: CapabilityGroup,
    windowSize: number,
  ) {
    this.window = new OutcomeWindow(windowSize);
  }

  get ewmaLatencyMs(): number | undefined {
    return this.latency.meanMs;
  }

  get samples(): number {
    return this.window.samples;
  }

  get successRate(): number {
    return this.window.successRate;
  }

  get latencySamples(): number {
    return this.latency.samples;
  }

  get ejected(): boolean {
    return this.ejection.ejected;
  }
}

/** Every key of one (capability, model) across orchestrators: the ejection budget and the latency yardstick. */
class CapabilityGroup {
  readonly entries = new Set<KeyHealth>();
  ejected = 0;
  readonly latency = new LatencyStats();
}

/** Lets a reader tell a key "in service" from "ejected, but its probe may go now" without handing the probe out. */
export type Availability = "available" | "ejected" | "probe";

export class HealthTracker {
  private readonly options: HealthOptions;
  /** One flat map, keyed by offerKey: a routing decision looks a key up with one get of a precomputed string. */
  private readonly entries = new Map<string, KeyHealth>();
  private readonly byOrchestrator = new Map<string, KeyHealth[]>();
  private readonly groups = new Map<string, Map<string, CapabilityGroup>>(); // capability → model
  private readonly journal = new ChangeJournal();
  private readonly transitionListeners: Array<(key: HealthKey, transition: EjectionTransition) => void> = [];

  /**
   * populationOf: how many orchestrators serve a (capability, model), for the ejection budget; without it the tracker
   * counts the keys it knows for that (capability, model).
   */
  constructor(
    options: Partial<HealthOptions> = {},
    private readonly now: () => number = Date.now,
    private readonly populationOf?: (capability: string, modelId: string) => number,
  ) {
    this.options = resolveHealthOptions(options);
  }

  /** Calls `listener` whenever a key is ejected (again, after a failed probe) or recovers (its probe succeeded). */
  onEjectionTransition(listener: (key: HealthKey, transition: EjectionTransition) => void): void {
    this.transitionListeners.push(listener);
  }

  /** Keys whose ranking figures (latency, success rate, ejection) changed, for rankings that keep up incrementally. */
  get changes(): ChangeReader {
    return this.journal;
  }

  /**
   * Records one outcome and returns the key's new state. A "success" that the latency rules read as a cold start is
   * recorded as "cold_start": a success, counted in coldStarts, and kept out of the EWMA.
   */
  record(key: HealthKey, outcome: OutcomeClass, latencyMs: number): HealthState {
    if (outcomeIndex(outcome) === undefined) throw new RangeError(`unknown outcome class ${JSON.stringify(outcome)}`);
    const now = this.now();
    const entry = this.entryFor(key);
    const group = entry.group;
    const kind = outcomeKind(outcome);
    let recorded = outcome;
    if (kind === "success") recorded = this.recordSuccessLatency(entry, group, outcome, latencyMs, now);
    if (kind !== "neutral") entry.window.push(kind === "failure");
    const countIndex = outcomeIndex(recorded) as number;
    if (countIndex === SUCCESS_INDEX) entry.successes++;
    else {
      const counts = (entry.otherCounts ??= new Array<number>(OUTCOME_CLASSES.length).fill(0));
      counts[countIndex] = (counts[countIndex] as number) + 1;
    }
    entry.lastOutcome = recorded;
    entry.lastOutcomeAt = now;
    this.updateEjection(entry, group, kind, now);
    this.journal.add(entry.id);
    return this.snapshot(entry, now);
  }

  /**
   * False while ejected. When the ejection time is up, true for exactly one caller (the probe) until its outcome is
   * recorded, or until probeTimeoutMs passes without one. O(1), allocation-free.
   */
  isAvailable(key: HealthKey): boolean {
    const entry = this.lookup(key);
    if (entry === undefined || !entry.ejection.ejected) return true;
    return entry.ejection.admit(this.now(), this.options);
  }

  /** What isAvailable would answer, without handing out the probe: rank first, then claim it for the chosen one. */
  availability(key: HealthKey): Availability {
    const entry = this.lookup(key);
    if (entry === undefined || !entry.ejection.ejected) return "available";
    const now = this.now();
    return now >= entry.ejection.ejectedUntil && !entry.ejection.probing(now, this.options) ? "probe" : "ejected";
  }

  /** The figures ranking needs, as a live view (no copy); undefined for a key with no outcomes yet. */
  rankingStats(key: HealthKey): RankingStats | undefined {
    return this.lookup(key);
  }

  /** The key's state; an unknown key reads as fresh and healthy (and is not stored). */
  state(key: HealthKey): HealthState {
    const entry = this.lookup(key);
    return entry === undefined ? freshState(key) : this.snapshot(entry, this.now());
  }

  /** Whether anything was recorded for the key (a key without history reads as freshState). */
  has(key: HealthKey): boolean {
    return this.lookup(key) !== undefined;
  }

  /** Every known key matching the filter (all of them without one), e.g. for GetCapabilityHealth. */
  states(filter: { capability?: string; modelId?: string; orchestratorUri?: string } = {}): HealthState[] {
    const now = this.now();
    const matches = (entry: KeyHealth): boolean =>
      (filter.capability === undefined || entry.key.capability === filter.capability) &&
      (filter.modelId === undefined || entry.key.modelId === filter.modelId) &&
      (filter.orchestratorUri === undefined || entry.key.orchestratorUri === filter.orchestratorUri);
    let candidates: Iterable<KeyHealth>;
    if (filter.orchestratorUri !== undefined) candidates = this.byOrchestrator.get(filter.orchestratorUri) ?? [];
    else if (filter.capability !== undefined) candidates = [...(this.groups.get(filter.capability)?.values() ?? [])].flatMap((g) => [...g.entries]);
    else candidates = this.entries.values();
    const found: HealthState[] = [];
    for (const entry of candidates) if (matches(entry)) found.push(this.snapshot(entry, now));
    return found;
  }

  /** The orchestrator left the network: drop its keys and give back their share of the ejection budget. */
  forget(orchestratorUri: string): void {
    const entries = this.byOrchestrator.get(orchestratorUri);
    if (entries === undefined) return;
    for (const entry of entries) {
      const { group } = entry;
      group.entries.delete(entry);
      if (entry.ejection.ejected) group.ejected--;
      if (group.entries.size === 0) {
        const models = this.groups.get(entry.key.capability);
        models?.delete(entry.key.modelId);
        if (models?.size === 0) this.groups.delete(entry.key.capability);
      }
      this.entries.delete(entry.id);
      this.journal.add(entry.id);
    }
    this.byOrchestrator.delete(orchestratorUri);
  }

  /** Folds a success's latency into the stats unless it was a cold start; returns the class to record it under. */
  private recordSuccessLatency(
    entry: KeyHealth,
    group: CapabilityGroup,
    outcome: OutcomeClass,
    latencyMs: number,
    now: number,
  ): OutcomeClass {
    const { options } = this;
    const maybeCold =
      entry.lastSuccessAt === undefined || now - entry.lastSuccessAt > options.coldStartIdleMs || entry.coldAfterEjection;
    entry.lastSuccessAt = now;
    // A late answer to a request sent before the ejection says nothing about the container after it.
    if (!entry.ejection.ejected || entry.ejection.timeUp(now)) entry.coldAfterEjection = false;
    if (outcome === "cold_start") {
      entry.coldStarts++;
      return outcome;
    }
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return outcome; // no usable measurement
    const ownMeanMs = entry.latency.meanMs;
    const verdict = judgeSuccessLatency(
      { latencyMs, maybeCold, ownMeanMs, ownSamples: entry.latency.samples, peerMeanMs: group.latency.meanMs },
      options,
    );
    if (verdict === "cold_start") {
      entry.coldStarts++;
      return "cold_start";
    }
    let sample = latencyMs;
    if (verdict === "possible_eviction" && ownMeanMs !== undefined) {
      entry.lastEvictionAt = now;
      // Clamped rather than dropped: one reload does not poison the EWMA, a lasting slowdown still shows within a few samples.
      sample = options.evictionFactor * ownMeanMs;
    }
    entry.latency.add(sample, options.ewmaAlpha);
    group.latency.add(sample, options.ewmaAlpha);
    return outcome;
  }

  private updateEjection(entry: KeyHealth, group: CapabilityGroup, kind: "success" | "failure" | "neutral", now: number): void {
    const { ejection } = entry;
    if (kind === "neutral") {
      // Busy or a payment problem says nothing about the capability: neither a failure streak breaker nor a verdict.
      if (ejection.timeUp(now)) ejection.releaseProbe();
      return;
    }
    if (kind === "success") {
      entry.consecutiveFailures = 0;
      if (ejection.timeUp(now)) {
        ejection.restore(now);
        group.ejected--;
        this.announce(entry.key, "recovered");
        // The failures that caused the ejection were answered by it; kept in the window, they would rank the key last
        // and starve it of the traffic it needs to show it recovered. The window starts again from this success.
        entry.window.clear();
        entry.window.push(false);
      }
      return;
    }
    entry.consecutiveFailures++;
    if (ejection.ejected) {
      // A failed probe ejects again, for longer. Failures of requests sent before the ejection change nothing.
      if (ejection.timeUp(now)) this.eject(entry, now);
      return;
    }
    if (entry.consecutiveFailures < this.options.consecutiveFailuresToEject) return;
    // Over budget the key stays in service and every further failure asks again, so it goes as soon as room frees up.
    if (!ejectionAllowed(group.ejected, this.population(entry.key, group), this.options.maxEjectionPercent)) return;
    this.eject(entry, now);
    group.ejected++;
  }

  private eject(entry: KeyHealth, now: number): void {
    if (entry.ejection === NEVER_EJECTED) entry.ejection = new Ejection();
    entry.ejection.eject(now, this.options);
    entry.coldAfterEjection = true;
    this.announce(entry.key, "ejected");
  }

  private announce(key: HealthKey, transition: EjectionTransition): void {
    for (const listener of this.transitionListeners) listener(key, transition);
  }

  private population(key: HealthKey, group: CapabilityGroup): number {
    return this.populationOf === undefined ? group.entries.size : Math.max(1, this.populationOf(key.capability, key.modelId));
  }

  private lookup(key: HealthKey): KeyHealth | undefined {
    return this.entries.get(key.healthKey ?? offerKey(key.orchestratorUri, key.capability, key.modelId));
  }

  private entryFor(key: HealthKey): KeyHealth {
    const id = key.healthKey ?? offerKey(key.orchestratorUri, key.capability, key.modelId);
    let entry = this.entries.get(id);
    if (entry === undefined) {
      const ownKey = Object.freeze({ orchestratorUri: key.orchestratorUri, capability: key.capability, modelId: key.modelId });
      const group = this.groupFor(key.capability, key.modelId);
      entry = new KeyHealth(id, ownKey, group, this.options.windowSize);
      this.entries.set(id, entry);
      group.entries.add(entry);
      getOrCreate(this.byOrchestrator, key.orchestratorUri, () => []).push(entry);
    }
    return entry;
  }

  private groupFor(capability: string, modelId: string): CapabilityGroup {
    const models = getOrCreate(this.groups, capability, () => new Map<string, CapabilityGroup>());
    return getOrCreate(models, modelId, () => new CapabilityGroup());
  }

  private snapshot(entry: KeyHealth, now: number): HealthState {
    const { options } = this;
    const { ejection, latency } = entry;
    const cv = latency.coefficientOfVariation;
    const state: HealthState = {
      key: entry.key,
      samples: entry.window.samples,
      successRate: entry.window.successRate,
      ewmaLatencyMs: latency.meanMs,
      latencyStdDevMs: latency.stdDevMs,
      latencySamples: latency.samples,
      consecutiveFailures: entry.consecutiveFailures,
      ejected: ejection.ejected,
      ejections: ejection.ejections(now, options),
      probing: ejection.ejected && ejection.probing(now, options),
      coldStarts: entry.coldStarts,
      possibleEviction: entry.lastEvictionAt !== undefined && now - entry.lastEvictionAt < options.evictionFlagMs,
      highVariance: latency.samples >= options.minLatencySamples && cv !== undefined && cv > options.highVarianceCv,
      outcomeCounts: countsRecord(entry.successes, entry.otherCounts),
    };
    if (entry.lastOutcome !== undefined) {
      state.lastOutcome = entry.lastOutcome;
      state.lastOutcomeAt = entry.lastOutcomeAt;
    }
    if (ejection.ejected) state.ejectedUntil = ejection.ejectedUntil;
    return state;
  }
}

function freshState(key: HealthKey): HealthState {
  return {
    key: { orchestratorUri: key.orchestratorUri, capability: key.capability, modelId: key.modelId },
    samples: 0,
    successRate: 1,
    ewmaLatencyMs: undefined,
    latencyStdDevMs: undefined,
    latencySamples: 0,
    consecutiveFailures: 0,
    ejected: false,
    ejections: 0,
    probing: false,
    coldStarts: 0,
    possibleEviction: false,
    highVariance: false,
    outcomeCounts: countsRecord(0, undefined),
  };
}

function countsRecord(successes: number, otherCounts: readonly number[] | undefined): Record<OutcomeClass, number> {
  const record = {} as Record<OutcomeClass, number>;
  OUTCOME_CLASSES.forEach((outcome, index) => {
    record[outcome] = index === SUCCESS_INDEX ? successes : (otherCounts?.[index] ?? 0);
  });
  return record;
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

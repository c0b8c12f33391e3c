// Pre-ranked offers per (capability, model), kept in score order between decisions so that a decision walks only the
// best few offers (selector.ts) instead of scoring all of them.
//
// Each group's offers sit in sorted "runs": one run of offers with job history (scored on their job-latency EWMA) and
// one run per model of untried offers (see "Untried offers" below). A run is re-sorted only where a health change
// touched it: the tracker's change journal names the changed keys, and each is moved to its new place (binary search,
// then a shift of the entries in between). A group is rebuilt only for a new snapshot, or when the journal overran it.
//
// Score (lower is better) = latency weight × latency / latencyScale + price weight × price / priceScale
//                          + reliability weight × (1 + 10 × failure share).
// The scales are the group's lowest latency and lowest known price when the group was built, so each term is about 1
// for the best offers. They stay fixed for the snapshot's life (one discovery interval): a ratio to a moving minimum
// would reorder every offer whenever the minimum moved, which is what made scoring every offer per decision necessary.
//
// Untried offers: an orchestrator with no job history used to be ranked on its discovery round trip (15–55 ms), and one
// with history on its job latency (40–440 ms), on the same scale, so untried ones always won. Now an untried offer is
// ranked at the latency a typical orchestrator of its model has, adjusted by its network position: the median
// job-latency EWMA of the model's tried offers, plus its own discovery round trip, minus the model's median round trip.
// (A model nobody has tried yet borrows the median of the other models' medians. A job takes at least a round trip,
// so the median job latency counts as no less than the median round trip, and an estimate never drops below the
// offer's own round trip.) Neutral rather than optimistic: an untried offer beats tried ones slower than the median, so
// it still gets explored, and loses to the fast ones. With no job history anywhere in the group, every offer is untried
// and ranks on its round trip, as before. The estimate moves every untried offer of a model by the same amount, so
// their run keeps its order and that shift is added while walking.
import type { IndexedOffer, NetworkSnapshot } from "../network/snapshot.js";
import type { ChangeReader } from "./change-journal.js";
import type { Availability, HealthKey, RankingStats } from "./health.js";
import { versionAtLeast } from "./version.js";

/** What ranking needs from health tracking, per (orchestrator, capability, model); an offer is such a key. */
export interface RoutingHealth {
  rankingStats(key: HealthKey): RankingStats | undefined;
  /** Whether a request may go to the key now, without handing out the probe of an ejected key. */
  availability(key: HealthKey): Availability;
  /** Hands out the probe when the key's ejection time is up (call for the candidates actually returned). */
  isAvailable(key: HealthKey): boolean;
  readonly changes: ChangeReader;
}

export interface RankingWeights {
  latency: number;
  price: number;
  reliability: number;
  /** Candidates whose score is within this share of the best (same tier) are near-equals: their order is random. */
  nearEqualTolerance: number;
  /**
   * Share of decisions that put a random lower-ranked candidate of the best tier first. Without it an orchestrator
   * ranked down by a few failures (or a slow spell) gets no traffic again, so it can neither recover nor fail often
   * enough to be ejected and probed.
   */
  explorationShare: number;
}

/** Everything a ranking depends on besides the snapshot; a change of any of them means a new ranking. */
export interface RankingConfig {
  health: RoutingHealth;
  weights: RankingWeights;
  /** Orchestrator URI → region, as configured. */
  regionOf: (uri: string) => string | undefined;
  /** -orchMinLivepeerVersion, parsed; undefined = none. */
  minVersion?: readonly number[];
}

/** Price term of an offer whose price is unknown: well behind any known price. */
const UNKNOWN_PRICE_TERM = 10;
/**
 * Outcomes a key needs before its success rate counts in its score. Fewer say little, and weighed ten-fold (below) a
 * single early failure would rank a key last for good: it would get no more traffic, so it could neither be ejected
 * (five failures in a row) nor show that it works. Until then failures are the ejection's business alone.
 */
const RELIABILITY_MIN_SAMPLES = 5;

/** The success rate as the score counts it: 1 until it rests on RELIABILITY_MIN_SAMPLES outcomes. */
export function countedSuccessRate(entry: RankEntry): number {
  return entry.samples >= RELIABILITY_MIN_SAMPLES ? entry.successRate : 1;
}

/** One rankable offer of a group, with the health figures its score came from. */
export class RankEntry {
  tried = false;
  /** Job-latency EWMA; undefined when untried. */
  jobLatencyMs: number | undefined;
  successRate = 1;
  /** Outcomes behind successRate. */
  samples = 0;
  /** Ejected when last read; whether it may be used now is asked of the tracker, this only says "ask". */
  ejected = false;
  /** Score without the tier and, for untried offers, without the model's shift. The run is sorted by it. */
  base = 0;
  /** The run the entry sits in now. */
  run: RankEntry[] = [];

  constructor(
    readonly offer: IndexedOffer,
    /** Position in the group: the tie-breaker that makes orders deterministic. */
    readonly ordinal: number,
    /** Index of the offer's model in the group's models. */
    readonly model: number,
    readonly region: string | undefined,
    /** Discovery round trip, or the model's median when it has none. */
    readonly discoveryMs: number,
  ) {}
}

const before = (a: RankEntry, base: number, ordinal: number): boolean => a.base < base || (a.base === base && a.ordinal < ordinal);

/** First index in `run` not before (base, ordinal). */
function lowerBound(run: readonly RankEntry[], base: number, ordinal: number): number {
  let low = 0;
  let high = run.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (before(run[mid] as RankEntry, base, ordinal)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Moves run[from] to index `to`, shifting the entries in between by one. */
function moveWithin(run: RankEntry[], from: number, to: number): void {
  const moving = run[from] as RankEntry;
  if (from < to) for (let i = from; i < to; i++) run[i] = run[i + 1] as RankEntry;
  else for (let i = from; i > to; i--) run[i] = run[i - 1] as RankEntry;
  run[to] = moving;
}

/** A multiset of numbers kept sorted in one typed array: O(log n) to find, a memmove to add or remove, O(1) median. */
class SortedNumbers {
  private values: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.count = 0;
  }

  add(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    const at = this.lowerBound(value);
    this.values.copyWithin(at + 1, at, this.count);
    this.values[at] = value;
    this.count++;
  }

  remove(value: number): void {
    const at = this.lowerBound(value);
    if (at >= this.count || this.values[at] !== value) return;
    this.values.copyWithin(at, at + 1, this.count);
    this.count--;
  }

  /** The middle value (the lower of the two middle ones for an even count); NaN when empty. */
  median(): number {
    return this.count === 0 ? NaN : (this.values[(this.count - 1) >> 1] as number);
  }

  private lowerBound(value: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.values[mid] as number) < value) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** The offers of one capability (and model, or all models), ranked and kept ranked. */
export class RankedGroup {
  /** Offers of the capability (and model), including those no request can use. */
  readonly size: number;
  /** Offers left out whatever the request: full ("no capacity"), or older than -orchMinLivepeerVersion. */
  readonly staticLeftOut: { noCapacity: number; version: number };
  readonly models: readonly string[];
  /** runs[0]: offers with job history; runs[1 + m]: untried offers of models[m]. Each ascending by (base, ordinal). */
  readonly runs: RankEntry[][];
  /** Added to the base scores of each run while walking: 0 for the tried run, the untried estimate's offset otherwise. */
  readonly shifts: Float64Array;
  /** Job latency an untried offer of each model is ranked at before its round-trip adjustment; NaN: none known. */
  readonly jobReference: Float64Array;
  /** Median discovery round trip of each model's offers. */
  readonly discoveryReference: Float64Array;
  /** Rankable offers by warm state and region, for knowing when a walk has seen every offer of a tier. */
  readonly warmCount: number;
  readonly coldCount: number;
  private readonly byRegion = new Map<string, { warm: number; cold: number }>();

  private readonly entries: RankEntry[] = [];
  private readonly byKey = new Map<string, RankEntry>();
  /** Entries ejected when last read: few, and looked at on every decision in case one's probe is due. */
  readonly ejected = new Set<RankEntry>();
  /** Job-latency EWMAs of each model's tried entries, kept sorted for their median. */
  private readonly triedLatencies: SortedNumbers[];
  private latencyScale = 1;
  private priceScale: number | undefined;
  private cursor = 0;

  constructor(
    offers: readonly IndexedOffer[],
    private readonly config: RankingConfig,
  ) {
    this.size = offers.length;
    const models = [...new Set(offers.map((offer) => offer.modelId))].sort();
    const modelIndex = new Map(models.map((model, index) => [model, index]));
    this.models = models;
    this.runs = Array.from({ length: models.length + 1 }, () => []);
    this.shifts = new Float64Array(this.runs.length);
    this.jobReference = new Float64Array(models.length).fill(NaN);
    this.discoveryReference = new Float64Array(models.length);

    const roundTrips = models.map(() => new SortedNumbers(offers.length));
    for (const offer of offers) {
      const rtt = offer.orchestrator.observation.latencyMs;
      if (rtt !== undefined) roundTrips[modelIndex.get(offer.modelId) as number]?.add(rtt);
    }
    roundTrips.forEach((values, m) => (this.discoveryReference[m] = values.size === 0 ? 0 : values.median()));
    this.triedLatencies = models.map(() => new SortedNumbers(16));

    let noCapacity = 0;
    let version = 0;
    let warm = 0;
    let cold = 0;
    for (const offer of offers) {
      // Capacity counts only where advertised: 0 idle with some in use means full (live-video-to-video reports this).
      if (offer.capacity === 0 && offer.capacityInUse > 0) {
        noCapacity++;
        continue;
      }
      if (config.minVersion !== undefined && !versionAtLeast(offer.orchestrator.info?.version ?? "", config.minVersion)) {
        version++;
        continue;
      }
      const m = modelIndex.get(offer.modelId) as number;
      const region = config.regionOf(offer.orchestratorUri);
      const entry = new RankEntry(offer, this.entries.length, m, region, offer.orchestrator.observation.latencyMs ?? (this.discoveryReference[m] as number));
      this.entries.push(entry);
      this.byKey.set(offer.healthKey, entry);
      if (offer.warm) warm++;
      else cold++;
      if (region !== undefined) {
        const counts = this.byRegion.get(region) ?? { warm: 0, cold: 0 };
        if (offer.warm) counts.warm++;
        else counts.cold++;
        this.byRegion.set(region, counts);
      }
    }
    this.staticLeftOut = { noCapacity, version };
    this.warmCount = warm;
    this.coldCount = cold;
    this.rebuild();
  }

  /** Catches up with health changes since the last decision; cheap when nothing changed. */
  refresh(): void {
    const next = this.config.health.changes.readSince(this.cursor, (key) => {
      const entry = this.byKey.get(key);
      if (entry !== undefined) this.update(entry);
    });
    if (next < 0) this.rebuild();
    else this.cursor = next;
  }

  /** Rankable offers (not statically left out) in the tier: in `region` (or anywhere) and warm or cold. */
  countIn(region: string | undefined, warm: boolean): number {
    if (region === undefined) return warm ? this.warmCount : this.coldCount;
    const counts = this.byRegion.get(region);
    return counts === undefined ? 0 : warm ? counts.warm : counts.cold;
  }

  /** An entry's score, tier aside: its base plus its run's shift. */
  score(entry: RankEntry): number {
    return entry.base + (entry.tried ? 0 : (this.shifts[1 + entry.model] as number));
  }

  /** The latency an entry is ranked on: its job EWMA, or the untried estimate. */
  rankedLatencyMs(entry: RankEntry): number {
    if (entry.tried) return entry.jobLatencyMs as number;
    return entry.discoveryMs + this.untriedOffset(entry.model);
  }

  /**
   * What an untried offer of model m is ranked at beyond its own round trip: the model's median job latency less its
   * median round trip; 0 while the model has no job history. A job takes at least a round trip, so the median job
   * latency counts as no less than the median round trip: the estimate never drops below the offer's round trip.
   */
  private untriedOffset(m: number): number {
    const reference = this.jobReference[m] as number;
    if (Number.isNaN(reference)) return 0;
    const roundTrip = this.discoveryReference[m] as number;
    return Math.max(reference, roundTrip) - roundTrip;
  }

  /** Reads every entry's health again, re-sorts every run, and fixes the scales. */
  private rebuild(): void {
    const { health } = this.config;
    this.cursor = health.changes.cursor;
    for (const values of this.triedLatencies) values.clear();
    for (const entry of this.entries) {
      this.read(entry, health.rankingStats(entry.offer));
      if (entry.tried) this.triedLatencies[entry.model]?.add(entry.jobLatencyMs as number);
    }
    this.updateReferences();

    let lowestLatency = Infinity;
    let lowestPrice = Infinity;
    for (const entry of this.entries) {
      lowestLatency = Math.min(lowestLatency, this.rankedLatencyMs(entry));
      lowestPrice = Math.min(lowestPrice, entry.offer.priceFloat);
    }
    this.latencyScale = Number.isFinite(lowestLatency) ? Math.max(1, lowestLatency) : 1;
    // A free offer (or none priced) leaves nothing to compare prices against: every known price then weighs the same.
    this.priceScale = Number.isFinite(lowestPrice) && lowestPrice > 0 ? lowestPrice : undefined;

    for (const run of this.runs) run.length = 0;
    for (const entry of this.entries) {
      entry.base = this.baseScore(entry);
      entry.run = this.runFor(entry);
      entry.run.push(entry);
    }
    for (const run of this.runs) run.sort((a, b) => a.base - b.base || a.ordinal - b.ordinal);
    this.updateShifts();
  }

  private read(entry: RankEntry, stats: RankingStats | undefined): void {
    const tried = stats !== undefined && stats.latencySamples > 0;
    entry.tried = tried;
    entry.jobLatencyMs = tried ? stats.ewmaLatencyMs : undefined;
    entry.samples = stats?.samples ?? 0;
    entry.successRate = stats?.successRate ?? 1;
    const ejected = stats?.ejected ?? false;
    if (ejected !== entry.ejected) {
      if (ejected) this.ejected.add(entry);
      else this.ejected.delete(entry);
    }
    entry.ejected = ejected;
  }

  /** One key changed: re-read it and move it to its new place. */
  private update(entry: RankEntry): void {
    const before = entry.jobLatencyMs;
    this.read(entry, this.config.health.rankingStats(entry.offer));
    if (before !== entry.jobLatencyMs) {
      const latencies = this.triedLatencies[entry.model] as SortedNumbers;
      if (before !== undefined) latencies.remove(before);
      if (entry.jobLatencyMs !== undefined) latencies.add(entry.jobLatencyMs);
      this.updateReferences();
    }
    const base = this.baseScore(entry);
    const run = this.runFor(entry);
    if (base === entry.base && run === entry.run) return;
    const old = entry.run;
    let from = lowerBound(old, entry.base, entry.ordinal);
    if (old[from] !== entry) from = old.indexOf(entry); // never expected; keeps the runs consistent regardless
    if (run === old) {
      // Usually a short move: shift just the entries in between rather than splicing the whole run twice.
      let to = lowerBound(run, base, entry.ordinal);
      if (to > from) to--;
      entry.base = base;
      moveWithin(run, from, to);
      return;
    }
    old.splice(from, 1);
    entry.base = base;
    entry.run = run;
    run.splice(lowerBound(run, base, entry.ordinal), 0, entry);
  }

  private runFor(entry: RankEntry): RankEntry[] {
    return this.runs[entry.tried ? 0 : 1 + entry.model] as RankEntry[];
  }

  private baseScore(entry: RankEntry): number {
    const { weights } = this.config;
    const latency = entry.tried ? (entry.jobLatencyMs as number) : entry.discoveryMs;
    const price = entry.offer.priceFloat;
    const priceTerm = price === Infinity ? UNKNOWN_PRICE_TERM : this.priceScale === undefined ? 1 : price / this.priceScale;
    return (
      weights.latency * (latency / this.latencyScale) +
      weights.price * priceTerm +
      weights.reliability * (1 + (1 - countedSuccessRate(entry)) * 10)
    );
  }

  /**
   * The job latency untried offers are ranked at: the median of the model's tried offers, else (a model nobody tried
   * yet) the median of the other models' medians. O(models).
   */
  private updateReferences(): void {
    const known: number[] = [];
    for (let m = 0; m < this.models.length; m++) {
      const reference = (this.triedLatencies[m] as SortedNumbers).median();
      this.jobReference[m] = reference;
      if (!Number.isNaN(reference)) known.push(reference);
    }
    if (known.length > 0 && known.length < this.models.length) {
      known.sort((a, b) => a - b);
      const fallback = known[(known.length - 1) >> 1] as number;
      for (let m = 0; m < this.models.length; m++) if (Number.isNaN(this.jobReference[m] as number)) this.jobReference[m] = fallback;
    }
    this.updateShifts();
  }

  private updateShifts(): void {
    for (let m = 0; m < this.models.length; m++) this.shifts[1 + m] = (this.config.weights.latency * this.untriedOffset(m)) / this.latencyScale;
  }
}

/** The ranked groups of one snapshot, built on first use. */
export class Ranking {
  private readonly allModels = new Map<string, RankedGroup>();
  private readonly oneModel = new Map<string, Map<string, RankedGroup>>();

  constructor(
    readonly snapshot: NetworkSnapshot,
    readonly config: RankingConfig,
  ) {}

  /** The group of a capability's offers, of one model or (modelId undefined) of all; refreshed from health. */
  group(capability: string, modelId: string | undefined): RankedGroup {
    let groups = this.allModels;
    let key = capability;
    if (modelId !== undefined) {
      let models = this.oneModel.get(capability);
      if (models === undefined) this.oneModel.set(capability, (models = new Map()));
      groups = models;
      key = modelId;
    }
    let group = groups.get(key);
    if (group === undefined) {
      group = new RankedGroup(this.snapshot.offers(capability, modelId), this.config);
      groups.set(key, group);
    } else {
      group.refresh();
    }
    return group;
  }
}

const rankings = new WeakMap<NetworkSnapshot, Ranking[]>();
/** Rankings kept per snapshot: one per Router in practice; a benchmark or test may time a few side by side. */
const MAX_RANKINGS_PER_SNAPSHOT = 4;

const sameConfig = (a: RankingConfig, b: RankingConfig): boolean =>
  a.health === b.health && a.weights === b.weights && a.regionOf === b.regionOf && a.minVersion === b.minVersion;

/**
 * The ranking of a snapshot for this config, kept with the snapshot so that it lives exactly as long. Callers pass the
 * same config objects from one decision to the next (the Router does); other objects get a ranking of their own.
 */
export function rankingFor(snapshot: NetworkSnapshot, config: RankingConfig): Ranking {
  let kept = rankings.get(snapshot);
  if (kept === undefined) rankings.set(snapshot, (kept = []));
  for (const ranking of kept) if (sameConfig(ranking.config, config)) return ranking;
  const ranking = new Ranking(snapshot, { health: config.health, weights: config.weights, regionOf: config.regionOf, minVersion: config.minVersion });
  if (kept.length >= MAX_RANKINGS_PER_SNAPSHOT) kept.shift();
  kept.push(ranking);
  return ranking;
}

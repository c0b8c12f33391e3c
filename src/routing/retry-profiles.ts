// Retry profiles: how long one attempt may take, how long new attempts may start, and how many there may be, by
// the kind of work a capability does. The classes follow the network's routing guidance for gateways:
//
//   low-latency  warm models, sub-second answers (style transfer, image-to-image, video-to-video, text-to-image):
//                per-attempt timeout in the 5-10 s band; a slow answer means GPU contention, so move on.
//   per-frame    depth, segmentation, pose, SAM2: milliseconds once warm, but the first request may meet a cold
//                start, which the network expects to stay under 10 s, so the first attempt gets 10 s.
//   chained      several models in sequence (depth feeding diffusion): slower, and pays for combined compute, so
//                the global price ceiling is doubled for it.
//   batch        llm, audio-to-text, image-to-video, upscale, text-to-speech: multi-minute jobs; an attempt that
//                ran for minutes is not repeated, but fast failures still fail over.
//
// overallBudgetMs keeps go-livepeer's -aiProcessingRetryTimeout meaning: new attempts may start only within that
// long after the job began; an attempt already running keeps its own timeout. (go-livepeer gives batch attempts no
// timeout at all, and one window to every pipeline.) A client wanting a hard cap sends its own deadline.
import { formatRatio, type Ratio } from "../network/price.js";
import { parseDuration } from "../util/duration.js";
import { readJsonSetting } from "../util/json-setting.js";
import {
  PROFILE_FIELDS,
  readRetryProfileConfig,
  type Overrides,
  type ProfileField,
  type RetryProfile,
  type RetryProfileConfig,
  type RetryProfileName,
} from "./retry-profile-config.js";

export { RETRY_PROFILE_NAMES, type RetryProfile, type RetryProfileName } from "./retry-profile-config.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const ONE: Ratio = { num: 1n, den: 1n };

export const DEFAULT_RETRY_PROFILES: Readonly<Record<RetryProfileName, RetryProfile>> = {
  "low-latency": { perAttemptTimeoutMs: 8 * SECOND, firstAttemptTimeoutMs: 8 * SECOND, overallBudgetMs: 10 * SECOND, maxAttempts: 3, priceCeilingMultiplier: ONE },
  "per-frame": { perAttemptTimeoutMs: 3 * SECOND, firstAttemptTimeoutMs: 10 * SECOND, overallBudgetMs: 15 * SECOND, maxAttempts: 4, priceCeilingMultiplier: ONE },
  chained: { perAttemptTimeoutMs: 20 * SECOND, firstAttemptTimeoutMs: 30 * SECOND, overallBudgetMs: 30 * SECOND, maxAttempts: 3, priceCeilingMultiplier: { num: 2n, den: 1n } },
  batch: { perAttemptTimeoutMs: 10 * MINUTE, firstAttemptTimeoutMs: 10 * MINUTE, overallBudgetMs: 1 * MINUTE, maxAttempts: 3, priceCeilingMultiplier: ONE },
};

/**
 * The class of each capability known by name: go-livepeer's built-in pipelines and the BYOC descriptors the
 * network's guidance names. image-to-text (one captioning pass on a warm model) is counted as low-latency.
 */
export const DEFAULT_CAPABILITY_PROFILES: ReadonlyMap<string, RetryProfileName> = new Map([
  ["text-to-image", "low-latency"],
  ["image-to-image", "low-latency"],
  ["live-video-to-video", "low-latency"],
  ["image-to-text", "low-latency"],
  ["style-transfer", "low-latency"],
  ["video-to-video", "low-latency"],
  ["segment-anything-2", "per-frame"],
  ["depth", "per-frame"],
  ["segmentation", "per-frame"],
  ["pose", "per-frame"],
  ["llm", "batch"],
  ["audio-to-text", "batch"],
  ["image-to-video", "batch"],
  ["upscale", "batch"],
  ["text-to-speech", "batch"],
]);

/**
 * A capability nobody classified is taken to be a BYOC capability, and BYOC work is steered towards real-time,
 * frame-based containers that may cold-start: per-frame timing fits it. Its budget is -aiProcessingRetryTimeout.
 */
export const UNKNOWN_CAPABILITY_PROFILE: RetryProfileName = "per-frame";

/** go-livepeer's -aiProcessingRetryTimeout default. */
export const DEFAULT_AI_PROCESSING_RETRY_TIMEOUT = "2s";

export interface ResolvedRetryProfile extends RetryProfile {
  readonly capability: string;
  readonly profile: RetryProfileName;
  /** Why this class: "-retryProfiles capabilities.my-chain.profile", "built-in: depth is per-frame", ... */
  readonly profileSource: string;
  /** Where each value came from: "per-frame default", "-retryProfiles capabilities.depth.firstAttemptTimeout". */
  readonly sources: Readonly<Record<ProfileField, string>>;
}

export interface RetryProfileSettings {
  /** Inline JSON or the path of a file holding it: {"profiles":{...},"capabilities":{...}}. */
  readonly config?: string;
  /** A Go duration; the attempt-start window of capabilities without a class. */
  readonly aiProcessingRetryTimeout?: string;
}

/** Every configured class and capability resolved up front, so a bad config fails at start-up, not on a request. */
export class RetryProfiles {
  private readonly resolved = new Map<string, ResolvedRetryProfile>();

  private constructor(
    private readonly config: RetryProfileConfig,
    private readonly unknownBudget: { ms: number; source: string },
  ) {
    for (const capability of [...DEFAULT_CAPABILITY_PROFILES.keys(), ...config.capabilities.keys()]) {
      this.resolved.set(capability, this.resolve(capability));
    }
  }

  /** Reads the config (inline JSON or a file) and -aiProcessingRetryTimeout. Throws naming the bad key. */
  static fromSettings(settings: RetryProfileSettings = {}, flag = "-retryProfiles"): RetryProfiles {
    const given = settings.aiProcessingRetryTimeout?.trim() || undefined;
    const timeoutText = given ?? DEFAULT_AI_PROCESSING_RETRY_TIMEOUT;
    const budgetMs = parseDuration(timeoutText, "-aiProcessingRetryTimeout");
    if (budgetMs <= 0) throw new Error(`-aiProcessingRetryTimeout must be longer than 0, got ${JSON.stringify(timeoutText)}`);
    const budgetSource = `-aiProcessingRetryTimeout ${timeoutText}${given === undefined ? " (default)" : ""}`;

    const json = settings.config?.trim() ? readJsonSetting(settings.config, flag) : undefined;
    const config = readRetryProfileConfig(json, flag);
    return new RetryProfiles(config, { ms: budgetMs, source: budgetSource });
  }

  /** The profile in force for a capability (a pipeline or BYOC name); unknown names get UNKNOWN_CAPABILITY_PROFILE. */
  profileFor(capability: string): ResolvedRetryProfile {
    // Names from requests are not cached: a stream of made-up names must not grow this map.
    return this.resolved.get(capability) ?? this.resolve(capability);
  }

  private resolve(capability: string): ResolvedRetryProfile {
    const entry = this.config.capabilities.get(capability);
    const builtIn = DEFAULT_CAPABILITY_PROFILES.get(capability);
    const [profile, profileSource] = entry?.profile
      ? [entry.profile.name, entry.profile.source]
      : builtIn
        ? [builtIn, `built-in: ${capability} is ${builtIn}`]
        : [UNKNOWN_CAPABILITY_PROFILE, `not classified, so taken as a BYOC capability: ${UNKNOWN_CAPABILITY_PROFILE}`];

    const values: Mutable<RetryProfile> = { ...DEFAULT_RETRY_PROFILES[profile] };
    const sources = Object.fromEntries(PROFILE_FIELDS.map((field) => [field, `${profile} default`])) as Record<ProfileField, string>;
    const apply = (overrides: Overrides | undefined): void => {
      for (const [field, override] of Object.entries(overrides ?? {}) as Array<[ProfileField, { value: number | Ratio; source: string }]>) {
        Object.assign(values, { [field]: override.value });
        sources[field] = override.source;
      }
    };
    apply(this.config.profiles.get(profile));
    if (!entry?.profile && !builtIn) {
      values.overallBudgetMs = this.unknownBudget.ms;
      sources.overallBudgetMs = this.unknownBudget.source;
    }
    apply(entry?.overrides);
    // "0s" switches hedging off, including when a profile-wide setting switched it on.
    if (values.hedgeAfterMs === 0) delete values.hedgeAfterMs;

    const resolved: ResolvedRetryProfile = { capability, profile, profileSource, sources, ...values };
    checkHedging(resolved);
    return resolved;
  }
}

/** Hedging sends the same work, and its payment, twice: worth it only where latency is the product. */
function checkHedging(profile: ResolvedRetryProfile): void {
  if (profile.hedgeAfterMs === undefined) return;
  const source = profile.sources.hedgeAfterMs;
  if (profile.profile !== "low-latency") {
    throw new Error(`${source}: hedging is only for low-latency capabilities, and ${profile.capability} is ${profile.profile}`);
  }
  if (profile.hedgeAfterMs >= profile.firstAttemptTimeoutMs) {
    throw new Error(`${source}: ${profile.hedgeAfterMs} ms would never fire before the first attempt's ${profile.firstAttemptTimeoutMs} ms timeout`);
  }
}

/** The deadline of attempt `attempt` (1 = the first). */
export function attemptTimeoutMs(profile: RetryProfile, attempt: number): number {
  return attempt <= 1 ? profile.firstAttemptTimeoutMs : profile.perAttemptTimeoutMs;
}

/** Whether attempt `attempt` (1 = the first) may start `elapsedMs` after the job began. The first always may. */
export function mayStartAttempt(profile: RetryProfile, attempt: number, elapsedMs: number): boolean {
  return attempt <= 1 || (attempt <= profile.maxAttempts && elapsedMs < profile.overallBudgetMs);
}

/** One line for logs and the failover config shown in ListOfferings: "per-frame: 10s first, 3s per attempt, ...". */
export function describeRetryProfile(profile: ResolvedRetryProfile): string {
  const seconds = (ms: number): string => `${ms / SECOND}s`;
  const parts = [
    `${seconds(profile.firstAttemptTimeoutMs)} first attempt`,
    `${seconds(profile.perAttemptTimeoutMs)} per retry`,
    `attempts may start for ${seconds(profile.overallBudgetMs)}`,
    `at most ${profile.maxAttempts} attempts`,
  ];
  if (profile.hedgeAfterMs !== undefined) parts.push(`hedge after ${seconds(profile.hedgeAfterMs)}`);
  if (profile.priceCeilingMultiplier.num !== profile.priceCeilingMultiplier.den) parts.push(`global price ceiling × ${formatRatio(profile.priceCeilingMultiplier)}`);
  return `${profile.profile}: ${parts.join(", ")}`;
}

/** The profile's multiplier in the shape PriceCeilings.ceilingFor takes for scaling the global ceiling. */
export function globalCeilingMultiplier(profile: ResolvedRetryProfile): { factor: Ratio; source: string } {
  const source = profile.sources.priceCeilingMultiplier;
  return { factor: profile.priceCeilingMultiplier, source: source === `${profile.profile} default` ? `${profile.profile} profile` : source };
}

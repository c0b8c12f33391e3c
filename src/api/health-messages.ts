// Health and retry profiles as the public API's messages.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs, type Duration } from "@bufbuild/protobuf/wkt";
import {
  OutcomeClass as OutcomeClassMessage,
  RetryProfileSchema,
  type HealthSummary,
  type RetryProfile,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { HealthKey, HealthState, HealthTracker, OutcomeClass } from "../routing/health.js";
import type { ResolvedRetryProfile } from "../routing/retry-profiles.js";
import { BoundedCache } from "../util/bounded-cache.js";

const OUTCOMES: Readonly<Record<string, OutcomeClassMessage>> = {
  success: OutcomeClassMessage.SUCCESS,
  timeout: OutcomeClassMessage.TIMEOUT,
  connect_error: OutcomeClassMessage.CONNECT_ERROR,
  connection_reset: OutcomeClassMessage.CONNECTION_RESET,
  http_5xx: OutcomeClassMessage.HTTP_5XX,
  gpu_oom: OutcomeClassMessage.GPU_OOM,
  cold_start: OutcomeClassMessage.COLD_START,
  schema_mismatch: OutcomeClassMessage.SCHEMA_MISMATCH,
  payment_error: OutcomeClassMessage.PAYMENT_ERROR,
  no_capacity: OutcomeClassMessage.NO_CAPACITY,
  client_error: OutcomeClassMessage.CLIENT_ERROR,
};

const OUTCOMES_BY_MESSAGE = new Map(Object.entries(OUTCOMES).map(([name, value]) => [value, name as OutcomeClass]));

/** The tracker's class for an API enum value; undefined for UNSPECIFIED or unknown numbers. */
export function outcomeFromMessage(value: OutcomeClassMessage): OutcomeClass | undefined {
  return OUTCOMES_BY_MESSAGE.get(value);
}

/** The API enum value of a tracker's class. */
export function outcomeToProto(outcome: OutcomeClass): OutcomeClassMessage {
  return OUTCOMES[outcome] ?? OutcomeClassMessage.UNSPECIFIED;
}

/**
 * Durations of whole milliseconds, shared between messages (they are never modified once built): latencies repeat
 * from one answer to the next, and an answer's encoders encode a shared message once.
 */
const durations = new BoundedCache<number, Duration>(10_000);

export function wholeMilliseconds(ms: number): Duration {
  const whole = Math.round(ms);
  return durations.getOrCreate(whole, () => durationFromMs(whole));
}

const ms = (value: number | undefined) => (value === undefined ? undefined : wholeMilliseconds(value));

/**
 * Built as the plain object create() makes (the type lists every field): a Route answer has one per candidate with
 * history, and create() walks the schema field by field.
 */
export function healthSummary(state: HealthState): HealthSummary {
  return {
    $typeName: "livepeer.gateway.v1.HealthSummary",
    successRate: state.successRate,
    ewmaLatency: ms(state.ewmaLatencyMs),
    latencyStddev: ms(state.latencyStdDevMs),
    consecutiveFailures: state.consecutiveFailures,
    ejected: state.ejected,
    ejectedUntil: state.ejectedUntil === undefined ? undefined : timestampFromMs(state.ejectedUntil),
    ejections: state.ejections,
    possibleEviction: state.possibleEviction,
    highVariance: state.highVariance,
    coldStarts: state.coldStarts,
    samples: BigInt(state.samples),
    lastOutcome: state.lastOutcome === undefined ? OutcomeClassMessage.UNSPECIFIED : (OUTCOMES[state.lastOutcome] ?? OutcomeClassMessage.UNSPECIFIED),
    probing: state.probing,
  };
}

export function retryProfileMessage(profile: ResolvedRetryProfile): RetryProfile {
  return create(RetryProfileSchema, {
    name: profile.profile,
    perAttemptTimeout: ms(profile.perAttemptTimeoutMs),
    firstAttemptTimeout: ms(profile.firstAttemptTimeoutMs),
    overallBudget: ms(profile.overallBudgetMs),
    maxAttempts: profile.maxAttempts,
    hedgeAfter: ms(profile.hedgeAfterMs),
  });
}

/** Shared by every key without history: most candidates of a quiet capability, so built once rather than per candidate. */
let freshSummary: HealthSummary | undefined;

/** healthSummary of a candidate's key, without building a state for a key that has none. */
export function candidateHealthSummary(health: HealthTracker, key: HealthKey): HealthSummary {
  if (health.has(key)) return healthSummary(health.state(key));
  return (freshSummary ??= healthSummary(health.state(key)));
}

/** Whether `summary` is one answers share (never modified), rather than one built for a single answer. */
export function isSharedHealthSummary(summary: object): boolean {
  return summary === freshSummary;
}

/** Messages per resolved profile: the Router hands out the same profile object until it is reconfigured. */
const profileMessages = new WeakMap<ResolvedRetryProfile, RetryProfile>();

export function cachedRetryProfileMessage(profile: ResolvedRetryProfile): RetryProfile {
  let message = profileMessages.get(profile);
  if (message === undefined) profileMessages.set(profile, (message = retryProfileMessage(profile)));
  return message;
}

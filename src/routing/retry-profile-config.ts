// The retry-profile config: its shape, and checking a parsed one. Durations are Go-style strings, e.g.
//
//   {"profiles":{"low-latency":{"perAttemptTimeout":"8s"}},
//    "capabilities":{"depth":{"profile":"per-frame","firstAttemptTimeout":"12s"},"my-chain":{"profile":"chained"}}}
//
// Every value is checked here, and a bad one is an error naming its key; resolution is in retry-profiles.ts.
import { parseDecimal, type Ratio } from "../network/price.js";
import { parseDuration } from "../util/duration.js";
import { describeJson, isJsonObject, JsonNumber, type ExactJson, type ExactJsonObject } from "../util/exact-json.js";
import { similarNames } from "../util/similar-names.js";

export const RETRY_PROFILE_NAMES = ["low-latency", "per-frame", "chained", "batch"] as const;
export type RetryProfileName = (typeof RETRY_PROFILE_NAMES)[number];

export interface RetryProfile {
  /** Deadline of each attempt after the first: connection, upload, inference and answer. */
  readonly perAttemptTimeoutMs: number;
  /** Deadline of a job's first attempt, which is the one that may meet a cold start. */
  readonly firstAttemptTimeoutMs: number;
  /** New attempts may start only this long after the job began. */
  readonly overallBudgetMs: number;
  /** Attempts per job, the first included (go-livepeer's maxTries is 20). */
  readonly maxAttempts: number;
  /** Start a second, parallel attempt when the first has not answered by then. Off unless set; low-latency only. */
  readonly hedgeAfterMs?: number;
  /** Scales the global -maxPricePerUnit for these capabilities; explicit per-capability ceilings are not scaled. */
  readonly priceCeilingMultiplier: Ratio;
}

export type ProfileField = keyof RetryProfile;

/** Field values and their sources, as read from one object of the config. */
export type Overrides = Partial<Record<ProfileField, { value: number | Ratio; source: string }>>;

const DURATION_FIELDS = {
  perAttemptTimeout: "perAttemptTimeoutMs",
  firstAttemptTimeout: "firstAttemptTimeoutMs",
  overallBudget: "overallBudgetMs",
  hedgeAfter: "hedgeAfterMs",
} as const satisfies Record<string, ProfileField>;
const VALUE_KEYS = [...Object.keys(DURATION_FIELDS), "maxAttempts", "priceCeilingMultiplier"];
export const PROFILE_FIELDS: readonly ProfileField[] = [...Object.values(DURATION_FIELDS), "maxAttempts", "priceCeilingMultiplier"];
const MAX_ATTEMPTS_LIMIT = 20;

function checkKeys(object: ExactJsonObject, known: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const similar = similarNames(key, known);
    throw new Error(`${where}: unknown key ${JSON.stringify(key)}${similar.length > 0 ? `; did you mean ${similar.join(", ")}?` : ""} (known: ${known.join(", ")})`);
  }
}

function objectAt(value: ExactJson | undefined, where: string): ExactJsonObject {
  if (value === undefined) return Object.create(null) as ExactJsonObject;
  if (!isJsonObject(value)) throw new Error(`${where} must be a JSON object, got ${describeJson(value)}`);
  return value;
}

function readOverrides(object: ExactJsonObject, where: string): Overrides {
  const overrides: Overrides = {};
  for (const [key, field] of Object.entries(DURATION_FIELDS)) {
    const value = object[key];
    if (value === undefined) continue;
    const name = `${where}.${key}`;
    if (typeof value !== "string") throw new Error(`${name} must be a duration string such as "8s", got ${describeJson(value)}`);
    const ms = parseDuration(value, name);
    // hedgeAfter "0s" switches hedging off explicitly; every other duration must leave time to work.
    if (ms <= 0 && field !== "hedgeAfterMs") throw new Error(`${name} must be longer than 0, got ${JSON.stringify(value)}`);
    overrides[field] = { value: ms, source: name };
  }
  const attempts = object.maxAttempts;
  if (attempts !== undefined) {
    const name = `${where}.maxAttempts`;
    const n = attempts instanceof JsonNumber && /^\d+$/.test(attempts.text) ? Number(attempts.text) : NaN;
    if (!(n >= 1 && n <= MAX_ATTEMPTS_LIMIT)) throw new Error(`${name} must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${describeJson(attempts)}`);
    overrides.maxAttempts = { value: n, source: name };
  }
  const multiplier = object.priceCeilingMultiplier;
  if (multiplier !== undefined) {
    const name = `${where}.priceCeilingMultiplier`;
    const text = multiplier instanceof JsonNumber ? multiplier.text : typeof multiplier === "string" ? multiplier.trim() : "";
    const factor = parseDecimal(text);
    if (!factor || factor.num <= 0n) throw new Error(`${name} must be a positive number such as 2 or "1.5", got ${describeJson(multiplier)}`);
    overrides.priceCeilingMultiplier = { value: factor, source: name };
  }
  return overrides;
}

function profileName(value: ExactJson, where: string): RetryProfileName {
  const name = RETRY_PROFILE_NAMES.find((p) => p === value);
  if (name) return name;
  const similar = typeof value === "string" ? similarNames(value, RETRY_PROFILE_NAMES) : [];
  const shown = typeof value === "string" ? JSON.stringify(value) : describeJson(value);
  throw new Error(`${where}: ${shown} is not a profile${similar.length > 0 ? `; did you mean ${similar.join(", ")}?` : ""} (profiles: ${RETRY_PROFILE_NAMES.join(", ")})`);
}

export interface CapabilityEntry {
  readonly profile?: { name: RetryProfileName; source: string };
  readonly overrides: Overrides;
}

export interface RetryProfileConfig {
  /** Settings for a whole class. */
  readonly profiles: ReadonlyMap<RetryProfileName, Overrides>;
  /** Settings for one capability, optionally moving it to another class. */
  readonly capabilities: ReadonlyMap<string, CapabilityEntry>;
}

/** Checks a parsed config (undefined = none) and returns its settings. Throws naming the bad key. */
export function readRetryProfileConfig(json: ExactJson | undefined, flag: string): RetryProfileConfig {
  const root = objectAt(json, flag);
  checkKeys(root, ["profiles", "capabilities"], flag);

  const profiles = objectAt(root.profiles, `${flag} profiles`);
  const profileOverrides = new Map<RetryProfileName, Overrides>();
  for (const [key, value] of Object.entries(profiles)) {
    const name = profileName(key, `${flag} profiles`);
    const where = `${flag} profiles.${key}`;
    const object = objectAt(value, where);
    checkKeys(object, VALUE_KEYS, where);
    const overrides = readOverrides(object, where);
    if (name !== "low-latency" && overrides.hedgeAfterMs?.value) throw new Error(`${where}.hedgeAfter: hedging is only for the low-latency profile`);
    profileOverrides.set(name, overrides);
  }

  const capabilities = objectAt(root.capabilities, `${flag} capabilities`);
  const capabilityEntries = new Map<string, CapabilityEntry>();
  for (const [capability, value] of Object.entries(capabilities)) {
    const where = `${flag} capabilities.${capability}`;
    if (capability.trim() === "") throw new Error(`${flag} capabilities: a capability name must not be empty`);
    const object = objectAt(value, where);
    checkKeys(object, ["profile", ...VALUE_KEYS], where);
    const profile = object.profile === undefined ? undefined : { name: profileName(object.profile, `${where}.profile`), source: `${where}.profile` };
    capabilityEntries.set(capability, { profile, overrides: readOverrides(object, where) });
  }
  return { profiles: profileOverrides, capabilities: capabilityEntries };
}

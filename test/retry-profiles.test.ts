import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PIPELINE_CAPABILITY_IDS } from "../src/network/capabilities.js";
import { formatPrice, ratio } from "../src/network/price.js";
import { parsePriceCeilingConfig, PriceCeilings } from "../src/routing/price-ceilings.js";
import {
  attemptTimeoutMs,
  DEFAULT_CAPABILITY_PROFILES,
  DEFAULT_RETRY_PROFILES,
  describeRetryProfile,
  globalCeilingMultiplier,
  mayStartAttempt,
  RetryProfiles,
} from "../src/routing/retry-profiles.js";

const dir = mkdtempSync(join(tmpdir(), "retry-profiles-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BRIEF_EXAMPLE =
  '{"profiles":{"low-latency":{"perAttemptTimeout":"8s"}},"capabilities":{"depth":{"profile":"per-frame","firstAttemptTimeout":"12s"},"my-chain":{"profile":"chained"}}}';

describe("default profiles", () => {
  const profiles = RetryProfiles.fromSettings();

  it("classes every built-in pipeline", () => {
    for (const pipeline of PIPELINE_CAPABILITY_IDS.keys()) expect(DEFAULT_CAPABILITY_PROFILES.has(pipeline)).toBe(true);
    expect(profiles.profileFor("text-to-image").profile).toBe("low-latency");
    expect(profiles.profileFor("live-video-to-video").profile).toBe("low-latency");
    expect(profiles.profileFor("segment-anything-2").profile).toBe("per-frame");
    for (const batch of ["llm", "audio-to-text", "image-to-video", "upscale", "text-to-speech"]) expect(profiles.profileFor(batch).profile).toBe("batch");
  });

  it("classes the BYOC descriptors the network names", () => {
    for (const name of ["style-transfer", "image-to-image", "video-to-video"]) expect(profiles.profileFor(name).profile).toBe("low-latency");
    for (const name of ["depth", "segmentation", "pose"]) expect(profiles.profileFor(name).profile).toBe("per-frame");
  });

  it("keeps to the routing guidance", () => {
    const low = DEFAULT_RETRY_PROFILES["low-latency"];
    expect(low.perAttemptTimeoutMs).toBeGreaterThanOrEqual(5_000);
    expect(low.perAttemptTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(low.hedgeAfterMs).toBeUndefined();
    const perFrame = DEFAULT_RETRY_PROFILES["per-frame"];
    expect(perFrame.firstAttemptTimeoutMs).toBe(10_000);
    expect(perFrame.perAttemptTimeoutMs).toBeLessThan(perFrame.firstAttemptTimeoutMs);
    const chained = DEFAULT_RETRY_PROFILES.chained;
    expect(chained.perAttemptTimeoutMs).toBeGreaterThan(low.perAttemptTimeoutMs);
    expect(chained.priceCeilingMultiplier).toEqual(ratio(2n));
    expect(DEFAULT_RETRY_PROFILES.batch.perAttemptTimeoutMs).toBeGreaterThanOrEqual(5 * 60_000);
  });

  it("says where every value came from", () => {
    const depth = profiles.profileFor("depth");
    expect(depth.profileSource).toBe("built-in: depth is per-frame");
    expect(depth.sources.firstAttemptTimeoutMs).toBe("per-frame default");
    expect(describeRetryProfile(depth)).toBe("per-frame: 10s first attempt, 3s per retry, attempts may start for 15s, at most 4 attempts");
  });
});

describe("unknown (BYOC) capabilities", () => {
  it("get the per-frame class with -aiProcessingRetryTimeout as their budget (default 2s)", () => {
    const unknown = RetryProfiles.fromSettings().profileFor("my-byoc-thing");
    expect(unknown).toMatchObject({ profile: "per-frame", firstAttemptTimeoutMs: 10_000, perAttemptTimeoutMs: 3_000, overallBudgetMs: 2_000 });
    expect(unknown.profileSource).toMatch(/taken as a BYOC capability/);
    expect(unknown.sources.overallBudgetMs).toBe("-aiProcessingRetryTimeout 2s (default)");
  });

  it("take -aiProcessingRetryTimeout when given, which classified capabilities ignore", () => {
    const profiles = RetryProfiles.fromSettings({ aiProcessingRetryTimeout: "1m30s" });
    expect(profiles.profileFor("my-byoc-thing")).toMatchObject({ overallBudgetMs: 90_000 });
    expect(profiles.profileFor("my-byoc-thing").sources.overallBudgetMs).toBe("-aiProcessingRetryTimeout 1m30s");
    expect(profiles.profileFor("depth").overallBudgetMs).toBe(DEFAULT_RETRY_PROFILES["per-frame"].overallBudgetMs);
  });

  it("refuses a bad -aiProcessingRetryTimeout", () => {
    expect(() => RetryProfiles.fromSettings({ aiProcessingRetryTimeout: "2 seconds" })).toThrow(/-aiProcessingRetryTimeout "2 seconds" is not a duration/);
    expect(() => RetryProfiles.fromSettings({ aiProcessingRetryTimeout: "0s" })).toThrow(/-aiProcessingRetryTimeout must be longer than 0/);
  });
});

describe("configuration", () => {
  it("applies profile-wide and per-capability settings, recording their sources", () => {
    const profiles = RetryProfiles.fromSettings({ config: BRIEF_EXAMPLE });
    expect(profiles.profileFor("text-to-image")).toMatchObject({ profile: "low-latency", perAttemptTimeoutMs: 8_000 });
    expect(profiles.profileFor("text-to-image").sources.perAttemptTimeoutMs).toBe("-retryProfiles profiles.low-latency.perAttemptTimeout");
    const depth = profiles.profileFor("depth");
    expect(depth).toMatchObject({ profile: "per-frame", firstAttemptTimeoutMs: 12_000, perAttemptTimeoutMs: 3_000 });
    expect(depth.profileSource).toBe("-retryProfiles capabilities.depth.profile");
    expect(depth.sources.firstAttemptTimeoutMs).toBe("-retryProfiles capabilities.depth.firstAttemptTimeout");
    const chain = profiles.profileFor("my-chain");
    expect(chain).toMatchObject({ profile: "chained", overallBudgetMs: DEFAULT_RETRY_PROFILES.chained.overallBudgetMs });
  });

  it("moves a built-in pipeline to another class, and sets counts, multipliers and hedging", () => {
    const profiles = RetryProfiles.fromSettings({
      config: JSON.stringify({
        profiles: { chained: { priceCeilingMultiplier: "1.5" }, "low-latency": { hedgeAfter: "1s" } },
        capabilities: { llm: { profile: "chained", maxAttempts: 5 }, "image-to-image": { hedgeAfter: "0s" } },
      }),
    });
    expect(profiles.profileFor("llm")).toMatchObject({ profile: "chained", maxAttempts: 5, priceCeilingMultiplier: ratio(3n, 2n) });
    expect(profiles.profileFor("text-to-image").hedgeAfterMs).toBe(1_000);
    expect(profiles.profileFor("image-to-image").hedgeAfterMs).toBeUndefined();
  });

  it("keeps unclassified capabilities' budget from the flag unless their entry sets one", () => {
    const profiles = RetryProfiles.fromSettings({
      config: '{"capabilities":{"mine":{"firstAttemptTimeout":"20s"},"other":{"overallBudget":"9s"}}}',
      aiProcessingRetryTimeout: "4s",
    });
    expect(profiles.profileFor("mine")).toMatchObject({ profile: "per-frame", firstAttemptTimeoutMs: 20_000, overallBudgetMs: 4_000 });
    expect(profiles.profileFor("other").overallBudgetMs).toBe(9_000);
  });

  it("reads the config from a file", () => {
    const file = join(dir, "profiles.json");
    writeFileSync(file, BRIEF_EXAMPLE);
    expect(RetryProfiles.fromSettings({ config: file }).profileFor("my-chain").profile).toBe("chained");
  });

  it.each([
    ['{"profiles":{"low-latncy":{}}}', /-retryProfiles profiles: "low-latncy" is not a profile; did you mean low-latency\?/],
    ['{"capabilities":{"depth":{"profile":"fast"}}}', /-retryProfiles capabilities\.depth\.profile: "fast" is not a profile/],
    ['{"capabilities":{"depth":{"firstAttemptTimeout":"12q"}}}', /-retryProfiles capabilities\.depth\.firstAttemptTimeout "12q" is not a duration/],
    ['{"capabilities":{"depth":{"firstAttemptTimeout":12}}}', /capabilities\.depth\.firstAttemptTimeout must be a duration string such as "8s", got number 12/],
    ['{"capabilities":{"depth":{"perAttemptTimeout":"0s"}}}', /capabilities\.depth\.perAttemptTimeout must be longer than 0/],
    ['{"capabilities":{"depth":{"perAttemptTimout":"1s"}}}', /capabilities\.depth: unknown key "perAttemptTimout"; did you mean perAttemptTimeout/],
    ['{"capabilities":{"depth":{"maxAttempts":0}}}', /capabilities\.depth\.maxAttempts must be a whole number from 1 to 20, got number 0/],
    ['{"capabilities":{"depth":{"maxAttempts":"3"}}}', /capabilities\.depth\.maxAttempts must be a whole number/],
    ['{"capabilities":{"depth":{"maxAttempts":2.5}}}', /capabilities\.depth\.maxAttempts must be a whole number/],
    ['{"profiles":{"chained":{"priceCeilingMultiplier":0}}}', /profiles\.chained\.priceCeilingMultiplier must be a positive number/],
    ['{"capabilities":{"depth":{"hedgeAfter":"1s"}}}', /capabilities\.depth\.hedgeAfter: hedging is only for low-latency capabilities, and depth is per-frame/],
    ['{"profiles":{"low-latency":{"hedgeAfter":"9s"}}}', /profiles\.low-latency\.hedgeAfter: 9000 ms would never fire before the first attempt's 8000 ms timeout/],
    ['{"profiles":{"batch":{"hedgeAfter":"1s"}}}', /profiles\.batch\.hedgeAfter: hedging is only for the low-latency profile/],
    ['{"capabilities":{"depth":"per-frame"}}', /capabilities\.depth must be a JSON object, got string "per-frame"/],
    ['{"capabilities":{"":{}}}', /a capability name must not be empty/],
    ['{"profile":{}}', /-retryProfiles: unknown key "profile"; did you mean profiles/],
    ['{"profiles":{"chained":{}}', /-retryProfiles: invalid JSON: expected "," at line 1 column 27/],
  ])("refuses %s naming the key", (config, message) => {
    expect(() => RetryProfiles.fromSettings({ config })).toThrow(message);
  });
});

describe("attempt timing", () => {
  const profile = RetryProfiles.fromSettings().profileFor("depth");

  it("gives the first attempt its cold-start allowance", () => {
    expect(attemptTimeoutMs(profile, 1)).toBe(10_000);
    expect(attemptTimeoutMs(profile, 2)).toBe(3_000);
  });

  it("starts new attempts only inside the budget and under the attempt limit", () => {
    expect(mayStartAttempt(profile, 1, 60_000)).toBe(true);
    expect(mayStartAttempt(profile, 2, 14_999)).toBe(true);
    expect(mayStartAttempt(profile, 2, 15_000)).toBe(false);
    expect(mayStartAttempt(profile, 5, 0)).toBe(false);
  });
});

describe("price ceiling multiplier", () => {
  it("doubles the global ceiling for chained capabilities, and leaves explicit entries alone", () => {
    const profiles = RetryProfiles.fromSettings({ config: BRIEF_EXAMPLE });
    const ceilings = PriceCeilings.resolve(
      parsePriceCeilingConfig({ maxPricePerUnit: "100", maxPricePerCapability: '{"capabilities_prices":[{"pipeline":"other-chain","price_per_unit":150}]}' }),
    );
    const chain = profiles.profileFor("my-chain");
    expect(ceilings.ceilingFor("my-chain", undefined, globalCeilingMultiplier(chain))).toMatchObject({
      price: { num: 200n, den: 1n },
      source: "-maxPricePerUnit 100 × 2 (chained profile)",
    });
    expect(formatPrice(ceilings.ceilingFor("other-chain", undefined, globalCeilingMultiplier(chain))!.price)).toBe("150");
    expect(formatPrice(ceilings.ceilingFor("depth", undefined, globalCeilingMultiplier(profiles.profileFor("depth")))!.price)).toBe("100");
  });
});

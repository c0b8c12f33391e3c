import { describe, expect, it } from "vitest";
import { InFlight, orchestratorCapabilityKey } from "../src/jobs/in-flight.js";
import { RetryBudget } from "../src/jobs/retry-budget.js";

describe("RetryBudget", () => {
  it("allows the floor of retries with no traffic, then refuses", () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 10_000 }, () => now);
    let allowed = 0;
    for (let i = 0; i < 50; i++) if (budget.tryRetry("depth")) allowed++;
    expect(allowed).toBe(10);
    now += 10_001; // the window has passed: the floor is available again
    expect(budget.tryRetry("depth")).toBe(true);
  });

  it("adds a share of the requests seen in the window", () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 }, () => 5_000);
    for (let i = 0; i < 100; i++) budget.recordRequest("depth");
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (budget.tryRetry("depth")) allowed++;
    expect(allowed).toBe(20);
  });

  it("keeps capabilities apart", () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000 }, () => 0);
    expect(budget.tryRetry("depth")).toBe(true);
    expect(budget.tryRetry("depth")).toBe(false);
    expect(budget.tryRetry("segmentation")).toBe(true);
  });

  it("forgets requests older than the window", () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0, windowMs: 1_000 }, () => now);
    for (let i = 0; i < 5; i++) budget.recordRequest("depth");
    now = 5_000;
    expect(budget.tryRetry("depth")).toBe(false);
  });

  it("rejects nonsense options", () => {
    expect(() => new RetryBudget({ ratio: -1, minPerSecond: 0, windowMs: 1 })).toThrow(/ratio/);
  });
});

describe("InFlight", () => {
  it("caps jobs per (orchestrator, capability) and releases once", () => {
    const inFlight = new InFlight();
    const depth = orchestratorCapabilityKey("https://o1", "depth");
    const a = inFlight.tryAcquire(depth, 2);
    const b = inFlight.tryAcquire(depth, 2);
    expect(a && b).toBeTruthy();
    expect(inFlight.tryAcquire(depth, 2)).toBeUndefined();
    expect(inFlight.tryAcquire(orchestratorCapabilityKey("https://o1", "pose"), 2)).toBeDefined();
    a?.();
    a?.(); // a second release of the same slot changes nothing
    expect(inFlight.count(depth)).toBe(1);
    expect(inFlight.tryAcquire(depth, 2)).toBeDefined();
    expect(inFlight.tryAcquire(depth, 0)).toBeUndefined();
  });
});

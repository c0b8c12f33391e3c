import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_HEALTH_OPTIONS,
  HealthTracker,
  OUTCOME_CLASSES,
  classifyFailure,
  outcomeKind,
  transportErrorOf,
  type HealthKey,
  type HealthOptions,
  type OutcomeClass,
} from "../src/routing/health.js";
import { offerKey } from "../src/network/offers.js";

const START = 1_700_000_000_000;

function testClock() {
  let t = START;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function key(orchestratorUri: string, capability = "depth", modelId = ""): HealthKey {
  return { orchestratorUri, capability, modelId };
}

const O1 = "https://o1.example:8935";
const O2 = "https://o2.example:8935";
const O3 = "https://o3.example:8935";
const O4 = "https://o4.example:8935";

function setup(options: Partial<HealthOptions> = {}, populationOf?: (capability: string, modelId: string) => number) {
  const clock = testClock();
  const tracker = new HealthTracker(options, clock.now, populationOf);
  const fail = (k: HealthKey, times: number, outcome: OutcomeClass = "http_5xx") => {
    for (let i = 0; i < times; i++) tracker.record(k, outcome, 50);
  };
  /** Successes one second apart, so the key stays warm. */
  const succeed = (k: HealthKey, latencies: readonly number[]) => {
    for (const latency of latencies) {
      clock.advance(1_000);
      tracker.record(k, "success", latency);
    }
  };
  return { clock, tracker, fail, succeed };
}

const FAILURES: OutcomeClass[] = ["timeout", "connect_error", "connection_reset", "http_5xx", "gpu_oom", "schema_mismatch"];
const NEUTRAL: OutcomeClass[] = ["no_capacity", "payment_error", "client_error"];

describe("outcome classes", () => {
  it("sorts every class into success, failure or neutral", () => {
    expect(OUTCOME_CLASSES.filter((o) => outcomeKind(o) === "success")).toEqual(["success", "cold_start"]);
    expect(OUTCOME_CLASSES.filter((o) => outcomeKind(o) === "failure").sort()).toEqual([...FAILURES].sort());
    expect(OUTCOME_CLASSES.filter((o) => outcomeKind(o) === "neutral").sort()).toEqual([...NEUTRAL].sort());
  });

  it("rejects a string that is no outcome class", () => {
    const { tracker } = setup();
    expect(() => tracker.record(key(O1), "bogus" as OutcomeClass, 1)).toThrow(RangeError);
  });
});

describe("options", () => {
  it("has the documented defaults", () => {
    expect(DEFAULT_HEALTH_OPTIONS).toMatchObject({
      windowSize: 50,
      consecutiveFailuresToEject: 5,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 50,
    });
  });

  it("names the bad value", () => {
    expect(() => new HealthTracker({ windowSize: 0 })).toThrow(/windowSize = 0/);
    expect(() => new HealthTracker({ ewmaAlpha: 1.5 })).toThrow(/ewmaAlpha/);
    expect(() => new HealthTracker({ maxEjectionPercent: 101 })).toThrow(/maxEjectionPercent/);
    expect(() => new HealthTracker({ consecutiveFailuresToEject: Infinity })).not.toThrow();
  });
});

describe("success rate window", () => {
  it("reads as healthy for an unknown key without storing it", () => {
    const { tracker } = setup();
    const state = tracker.state(key(O1));
    expect(state).toMatchObject({ samples: 0, successRate: 1, ejected: false, ejections: 0, probing: false });
    expect(state.ewmaLatencyMs).toBeUndefined();
    expect(Object.values(state.outcomeCounts).every((n) => n === 0)).toBe(true);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    expect(tracker.states()).toEqual([]);
  });

  it("keeps only the last windowSize outcomes (bounded memory)", () => {
    const { tracker, fail, succeed } = setup({ windowSize: 10 });
    succeed(key(O1), Array.from({ length: 1_000 }, () => 100));
    fail(key(O1), 3);
    const state = tracker.state(key(O1));
    expect(state.samples).toBe(10);
    expect(state.successRate).toBeCloseTo(0.7);
    expect(state.outcomeCounts.success).toBe(1_000);
  });

  it("leaves neutral outcomes out of the rate but counts them", () => {
    const { tracker, fail } = setup();
    fail(key(O1), 1);
    for (const outcome of NEUTRAL) tracker.record(key(O1), outcome, 10);
    const state = tracker.state(key(O1));
    expect(state.samples).toBe(1);
    expect(state.successRate).toBe(0);
    expect(state.outcomeCounts).toMatchObject({ no_capacity: 1, payment_error: 1, client_error: 1, http_5xx: 1 });
    expect(state.lastOutcome).toBe("client_error");
  });
});

describe("outlier ejection", () => {
  it.each(FAILURES)("ejects after five consecutive %s", (outcome) => {
    const { tracker, fail, clock } = setup();
    fail(key(O1), 4, outcome);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    const state = tracker.record(key(O1), outcome, 50);
    expect(state).toMatchObject({ ejected: true, ejectedUntil: clock.now() + 30_000, ejections: 1, consecutiveFailures: 5 });
    expect(tracker.isAvailable(key(O1))).toBe(false);
  });

  it("starts the count again after a success", () => {
    const { tracker, fail, succeed } = setup();
    fail(key(O1), 4);
    succeed(key(O1), [100]);
    fail(key(O1), 4);
    expect(tracker.state(key(O1))).toMatchObject({ ejected: false, consecutiveFailures: 4 });
  });

  it.each(NEUTRAL)("never ejects for %s, and %s does not break a failure streak", (outcome) => {
    const { tracker, fail } = setup();
    fail(key(O1), 100, outcome);
    expect(tracker.state(key(O1))).toMatchObject({ ejected: false, consecutiveFailures: 0, samples: 0 });
    expect(tracker.state(key(O1)).outcomeCounts[outcome]).toBe(100);
    fail(key(O2), 3);
    fail(key(O2), 1, outcome);
    fail(key(O2), 2);
    expect(tracker.state(key(O2)).ejected).toBe(true);
  });

  it("lets exactly one probe through when the time is up and restores on its success", () => {
    const { tracker, fail, succeed, clock } = setup();
    fail(key(O1), 5);
    clock.advance(29_999);
    expect(tracker.isAvailable(key(O1))).toBe(false);
    clock.advance(1);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    expect(tracker.state(key(O1))).toMatchObject({ ejected: true, probing: true });
    for (let i = 0; i < 5; i++) expect(tracker.isAvailable(key(O1))).toBe(false);
    succeed(key(O1), [100]);
    expect(tracker.state(key(O1))).toMatchObject({ ejected: false, probing: false, consecutiveFailures: 0, ejections: 1 });
    expect(tracker.isAvailable(key(O1))).toBe(true);
    expect(tracker.isAvailable(key(O1))).toBe(true);
  });

  it("re-ejects for base × ejections after a failed probe, capped at maxEjectionMs", () => {
    const { tracker, fail, clock } = setup();
    fail(key(O1), 5);
    const durations: number[] = [];
    for (let i = 0; i < 12; i++) {
      const state = tracker.state(key(O1));
      durations.push((state.ejectedUntil as number) - clock.now());
      clock.advance(durations[i] as number);
      expect(tracker.isAvailable(key(O1))).toBe(true);
      fail(key(O1), 1);
    }
    expect(durations.map((ms) => ms / 1_000)).toEqual([30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300]);
  });

  it("hands the probe to another caller when its outcome never arrives", () => {
    const { tracker, fail, clock } = setup({ probeTimeoutMs: 10_000 });
    fail(key(O1), 5);
    clock.advance(30_000);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    clock.advance(9_999);
    expect(tracker.isAvailable(key(O1))).toBe(false);
    clock.advance(1);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    expect(tracker.isAvailable(key(O1))).toBe(false);
  });

  it("releases the probe on a neutral answer without restoring or extending", () => {
    const { tracker, fail, clock } = setup();
    fail(key(O1), 5);
    const until = tracker.state(key(O1)).ejectedUntil;
    clock.advance(30_000);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    tracker.record(key(O1), "no_capacity", 5);
    expect(tracker.state(key(O1))).toMatchObject({ ejected: true, ejectedUntil: until, probing: false });
    expect(tracker.isAvailable(key(O1))).toBe(true);
  });

  it("ignores outcomes of requests sent before the ejection while the time runs", () => {
    const { tracker, fail, succeed, clock } = setup();
    fail(key(O1), 5);
    const until = tracker.state(key(O1)).ejectedUntil;
    fail(key(O1), 3);
    succeed(key(O1), [100]);
    expect(tracker.state(key(O1))).toMatchObject({ ejected: true, ejectedUntil: until, ejections: 1 });
    clock.advance(30_000);
    // Once the time is up, any outcome is a verdict, whether or not a probe was handed out (e.g. a ReportOutcome).
    succeed(key(O1), [100]);
    expect(tracker.state(key(O1)).ejected).toBe(false);
  });

  it("decays the ejection count by one per ejectionDecayMs of health", () => {
    const { tracker, fail, succeed, clock } = setup();
    fail(key(O1), 5);
    clock.advance(30_000);
    succeed(key(O1), [100]); // restored at this moment, one ejection on record
    clock.advance(59_999); // just short of one decay
    expect(tracker.state(key(O1)).ejections).toBe(1);
    fail(key(O1), 5);
    expect((tracker.state(key(O1)).ejectedUntil as number) - clock.now()).toBe(60_000);

    clock.advance(60_000);
    succeed(key(O1), [100]); // restored with two on record
    clock.advance(120_000); // two decays
    expect(tracker.state(key(O1)).ejections).toBe(0);
    fail(key(O1), 5);
    expect((tracker.state(key(O1)).ejectedUntil as number) - clock.now()).toBe(30_000);
  });
});

describe("ejection budget (maxEjectionPercent)", () => {
  it("never ejects more than the share of the known orchestrators, and ejects the next as soon as room frees up", () => {
    const { tracker, fail, succeed, clock } = setup();
    for (const o of [O1, O2, O3, O4]) succeed(key(o), [100]);
    fail(key(O1), 5);
    fail(key(O2), 5);
    fail(key(O3), 8);
    expect(tracker.states({ capability: "depth" }).filter((s) => s.ejected).length).toBe(2);
    expect(tracker.state(key(O3))).toMatchObject({ ejected: false, consecutiveFailures: 8 });
    expect(tracker.isAvailable(key(O3))).toBe(true);

    clock.advance(30_000);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    succeed(key(O1), [100]);
    fail(key(O3), 1);
    expect(tracker.state(key(O3)).ejected).toBe(true);
  });

  it("always allows one ejection, like Envoy, even for a sole orchestrator", () => {
    const { tracker, fail } = setup({ maxEjectionPercent: 10 });
    fail(key(O1), 5);
    expect(tracker.state(key(O1)).ejected).toBe(true);
    fail(key(O2), 5);
    expect(tracker.state(key(O2)).ejected).toBe(false);
  });

  it("takes the population from populationOf when given", () => {
    const asked: string[] = [];
    const { tracker, fail } = setup({}, (capability, modelId) => {
      asked.push(`${capability}/${modelId}`);
      return 10;
    });
    for (const o of [O1, O2, O3, O4]) fail(key(o), 5);
    expect(tracker.states().every((s) => s.ejected)).toBe(true);
    expect(asked).toContain("depth/");
  });

  it("gives the budget back when an ejected orchestrator is forgotten", () => {
    const { tracker, fail, succeed } = setup({}, () => 4);
    succeed(key(O1, "style-transfer"), [100]);
    fail(key(O1), 5);
    fail(key(O2), 5);
    fail(key(O3), 5);
    expect(tracker.state(key(O3)).ejected).toBe(false);
    tracker.forget(O1);
    expect(tracker.state(key(O1))).toMatchObject({ samples: 0, ejected: false });
    expect(tracker.states({ orchestratorUri: O1 })).toEqual([]);
    fail(key(O3), 1);
    expect(tracker.state(key(O3)).ejected).toBe(true);
  });

  it("keeps one budget per capability and model", () => {
    const { tracker, fail } = setup({ maxEjectionPercent: 10 });
    fail(key(O1, "depth"), 5);
    fail(key(O2, "segmentation"), 5);
    fail(key(O3, "image-to-image", "model-a"), 5);
    fail(key(O4, "image-to-image", "model-b"), 5);
    expect(tracker.states().every((s) => s.ejected)).toBe(true);
  });
});

describe("what routing reads", () => {
  it("finds a key by its precomputed offerKey as by its parts", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1, "image-to-image", "m"), [120]);
    const precomputed = { ...key(O1, "image-to-image", "m"), healthKey: offerKey(O1, "image-to-image", "m") };
    expect(tracker.rankingStats(precomputed)).toMatchObject({ ewmaLatencyMs: 120, latencySamples: 1, successRate: 1, ejected: false });
    expect(tracker.rankingStats(key(O1, "image-to-image", "other"))).toBeUndefined();
    expect(tracker.has(precomputed)).toBe(true);
  });

  it("keys every (orchestrator, capability, model) apart with a short offerKey, the same one every time", () => {
    const triples: Array<[string, string, string]> = [
      [O1, "image-to-image", "a/b"],
      [O1, "image-to-image/a", "b"],
      [O1, "image-to-image", "a"],
      [O2, "image-to-image", "a"],
      [`${O1}/`, "image-to-image", "a"],
      [O1, "depth", ""],
      [O1, "", "depth"],
    ];
    const keys = triples.map((t) => offerKey(...t));
    expect(new Set(keys).size).toBe(triples.length);
    expect(triples.map((t) => offerKey(...t))).toEqual(keys);
    for (const k of keys) expect(k).toMatch(/^\d+\/\d+$/);
  });

  it("names every changed key in its journal, and tells a reader that fell too far behind to start over", () => {
    const { tracker, succeed, fail } = setup();
    const start = tracker.changes.cursor;
    succeed(key(O1), [100]);
    fail(key(O2), 1);
    tracker.forget(O1);
    const seen: string[] = [];
    const next = tracker.changes.readSince(start, (k) => seen.push(k));
    expect(seen).toEqual([offerKey(O1, "depth", ""), offerKey(O2, "depth", ""), offerKey(O1, "depth", "")]);
    expect(tracker.changes.readSince(next, () => expect.fail("nothing new"))).toBe(next);
    fail(key(O3), 10_000); // more changes than the journal holds
    expect(tracker.changes.readSince(next, () => undefined)).toBe(-1);
  });

  it("tells that an ejected key's probe may go without handing it out", () => {
    const { tracker, clock, fail } = setup();
    fail(key(O1), 5);
    expect(tracker.availability(key(O1))).toBe("ejected");
    clock.advance(30_000);
    expect(tracker.availability(key(O1))).toBe("probe");
    expect(tracker.availability(key(O1))).toBe("probe"); // asking hands nothing out
    expect(tracker.isAvailable(key(O1))).toBe(true); // this does
    expect(tracker.availability(key(O1))).toBe("ejected");
    expect(tracker.availability(key(O2))).toBe("available");
  });
});

describe("isolation", () => {
  it("ejecting depth on O1 leaves style-transfer on O1 available and unchanged", () => {
    const { tracker, fail, succeed } = setup();
    succeed(key(O1, "style-transfer"), [120, 80, 100, 140]);
    fail(key(O1, "style-transfer"), 1);
    const before = tracker.state(key(O1, "style-transfer"));
    fail(key(O1, "depth"), 5);
    expect(tracker.state(key(O1, "depth")).ejected).toBe(true);
    expect(tracker.isAvailable(key(O1, "depth"))).toBe(false);
    expect(tracker.isAvailable(key(O1, "style-transfer"))).toBe(true);
    expect(tracker.state(key(O1, "style-transfer"))).toEqual(before);
  });

  it("keeps two models of one capability apart", () => {
    const { tracker, fail, succeed } = setup();
    const modelA = key(O1, "image-to-image", "SG161222/RealVisXL_V4.0_Lightning");
    const modelB = key(O1, "image-to-image", "stabilityai/sd-turbo");
    succeed(modelB, [300, 320]);
    const before = tracker.state(modelB);
    fail(modelA, 5, "gpu_oom");
    expect(tracker.isAvailable(modelA)).toBe(false);
    expect(tracker.isAvailable(modelB)).toBe(true);
    expect(tracker.state(modelB)).toEqual(before);
  });

  it("filters states by orchestrator, capability and model", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1, "depth"), [1]);
    succeed(key(O1, "style-transfer"), [1]);
    succeed(key(O2, "depth"), [1]);
    succeed(key(O2, "image-to-image", "m"), [1]);
    const names = (filter: Parameters<HealthTracker["states"]>[0]) =>
      tracker
        .states(filter)
        .map((s) => `${s.key.orchestratorUri === O1 ? "O1" : "O2"} ${s.key.capability}${s.key.modelId ? `/${s.key.modelId}` : ""}`)
        .sort();
    expect(names({ capability: "depth" })).toEqual(["O1 depth", "O2 depth"]);
    expect(names({ orchestratorUri: O1 })).toEqual(["O1 depth", "O1 style-transfer"]);
    expect(names({ orchestratorUri: O2, capability: "image-to-image", modelId: "m" })).toEqual(["O2 image-to-image/m"]);
    expect(names(undefined)).toHaveLength(4);
  });
});

describe("cold starts", () => {
  it("reads a slow first success against the capability's other orchestrators, and keeps it out of the EWMA", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1), [100, 100, 100]);
    const state = tracker.record(key(O2), "success", 2_000);
    expect(state).toMatchObject({ lastOutcome: "cold_start", coldStarts: 1, successRate: 1, samples: 1, latencySamples: 0 });
    expect(state.ewmaLatencyMs).toBeUndefined();
    expect(state.outcomeCounts).toMatchObject({ cold_start: 1, success: 0 });
    expect(tracker.record(key(O2), "success", 110).ewmaLatencyMs).toBe(110);
  });

  it("takes a first success as a normal sample when nothing can be compared", () => {
    const { tracker } = setup();
    expect(tracker.record(key(O1), "success", 2_000)).toMatchObject({ lastOutcome: "success", ewmaLatencyMs: 2_000 });
  });

  it("flags a slow success after idling, and not a fast one", () => {
    const { tracker, succeed, clock } = setup();
    succeed(key(O1), [100, 100, 100, 100, 100]);
    clock.advance(DEFAULT_HEALTH_OPTIONS.coldStartIdleMs + 1);
    const cold = tracker.record(key(O1), "success", 900);
    expect(cold).toMatchObject({ lastOutcome: "cold_start", coldStarts: 1, ewmaLatencyMs: 100 });
    expect(tracker.record(key(O1), "success", 100).lastOutcome).toBe("success");
    clock.advance(DEFAULT_HEALTH_OPTIONS.coldStartIdleMs + 1);
    expect(tracker.record(key(O1), "success", 250)).toMatchObject({ lastOutcome: "success", coldStarts: 1 });
  });

  it("flags a slow first success after an ejection (the container may have restarted)", () => {
    const { tracker, fail, succeed, clock } = setup();
    succeed(key(O1), [100, 100, 100]);
    fail(key(O1), 5);
    clock.advance(30_000);
    expect(tracker.isAvailable(key(O1))).toBe(true);
    const probe = tracker.record(key(O1), "success", 5_000);
    expect(probe).toMatchObject({ lastOutcome: "cold_start", ejected: false, coldStarts: 1, ewmaLatencyMs: 100 });
  });

  it("accepts a cold start the caller already recognised", () => {
    const { tracker, fail, succeed } = setup();
    succeed(key(O1), [100]);
    fail(key(O1), 4);
    const state = tracker.record(key(O1), "cold_start", 8_000);
    expect(state).toMatchObject({ consecutiveFailures: 0, coldStarts: 1, ewmaLatencyMs: 100 });
  });
});

describe("latency signals", () => {
  it("flags a jump on a warm orchestrator as possible eviction, for evictionFlagMs, without poisoning the EWMA", () => {
    const { tracker, succeed, clock } = setup();
    succeed(key(O1), Array.from({ length: 10 }, () => 100));
    clock.advance(1_000);
    const jump = tracker.record(key(O1), "success", 2_000);
    expect(jump).toMatchObject({ lastOutcome: "success", possibleEviction: true, coldStarts: 0 });
    expect(jump.ewmaLatencyMs).toBeCloseTo(0.8 * 100 + 0.2 * 400); // clamped to evictionFactor × EWMA
    clock.advance(DEFAULT_HEALTH_OPTIONS.evictionFlagMs - 1);
    expect(tracker.state(key(O1)).possibleEviction).toBe(true);
    clock.advance(1);
    expect(tracker.state(key(O1)).possibleEviction).toBe(false);
  });

  it("waits for minLatencySamples before judging a jump", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1), [100, 100, 2_000]);
    expect(tracker.state(key(O1)).possibleEviction).toBe(false);
  });

  it("still follows a lasting slowdown within a few samples", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1), Array.from({ length: 10 }, () => 100));
    let samples = 0;
    while ((tracker.state(key(O1)).ewmaLatencyMs as number) < 900 && samples < 30) {
      succeed(key(O1), [1_000]);
      samples++;
    }
    expect(samples).toBeLessThanOrEqual(15);
  });

  it("surfaces high variance (GPU contention) after minLatencySamples, and not for steady latency", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1), [50, 250]);
    expect(tracker.state(key(O1)).highVariance).toBe(false);
    succeed(key(O1), Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 50 : 250)));
    const noisy = tracker.state(key(O1));
    expect(noisy.highVariance).toBe(true);
    expect(noisy.latencyStdDevMs as number).toBeGreaterThan(0.5 * (noisy.ewmaLatencyMs as number));

    succeed(key(O2), Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 95 : 105)));
    expect(tracker.state(key(O2)).highVariance).toBe(false);
  });

  it("keeps failures' latency out of the EWMA", () => {
    const { tracker, succeed } = setup();
    succeed(key(O1), [100]);
    tracker.record(key(O1), "timeout", 10_000);
    expect(tracker.state(key(O1)).ewmaLatencyMs).toBe(100);
  });
});

describe("classifyFailure", () => {
  it.each<[Parameters<typeof classifyFailure>[0], OutcomeClass]>([
    [{ status: 500, bodyText: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB" }, "gpu_oom"],
    [{ errorCode: "ECONNREFUSED" }, "connect_error"],
    [{ errorCode: "ENOTFOUND" }, "connect_error"],
    [{ errorCode: "ECONNRESET" }, "connection_reset"],
    [{ errorMessage: "socket hang up" }, "connection_reset"],
    [{ errorCode: "UND_ERR_SOCKET", status: 200 }, "connection_reset"],
    [{ errorCode: "UND_ERR_HEADERS_TIMEOUT" }, "timeout"],
    [{ errorCode: "AbortError" }, "timeout"],
    [{ errorCode: "TimeoutError" }, "timeout"],
    [{ status: 504 }, "timeout"],
    [{ status: 500, bodyText: "job not able to be processed, removing capability err=context deadline exceeded" }, "timeout"],
    [{ status: 503, bodyText: "insufficient capacity" }, "no_capacity"],
    [{ status: 429 }, "no_capacity"],
    [{ status: 503, bodyText: "No capacity available for capability" }, "http_5xx"],
    [{ status: 502 }, "http_5xx"],
    [{ status: 200, schemaValid: false }, "schema_mismatch"],
    [{ errorCode: "HPE_INVALID_CONSTANT" }, "schema_mismatch"],
    [{ status: 400, bodyText: "Insufficient balance for request" }, "payment_error"],
    [{ status: 400, bodyText: "TicketParams expired" }, "payment_error"],
    [{ status: 402 }, "payment_error"],
    [{ status: 422, bodyText: "prompt is required" }, "client_error"],
    [{ status: 200 }, "success"],
    [{}, "connection_reset"],
  ])("%j → %s", (evidence, expected) => {
    expect(classifyFailure(evidence)).toBe(expected);
  });

  it("finds the socket error fetch wraps in its cause", () => {
    const socketError = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const evidence = transportErrorOf(new TypeError("fetch failed", { cause: socketError }));
    expect(evidence).toEqual({ errorCode: "ECONNREFUSED", errorMessage: "fetch failed: connect ECONNREFUSED 127.0.0.1:9" });
    expect(transportErrorOf(new DOMException("timed out", "TimeoutError")).errorCode).toBe("TimeoutError");
    expect(transportErrorOf(new SyntaxError("Unexpected token")).errorCode).toBeUndefined();
    expect(transportErrorOf("not an error")).toEqual({});
  });
});

describe("classifyFailure against real sockets", () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server?.listening) {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    }
    server = undefined;
  });

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async function classifyFetch(url: string, signal?: AbortSignal): Promise<OutcomeClass> {
    try {
      const response = await fetch(url, signal === undefined ? {} : { signal });
      return classifyFailure({ status: response.status, bodyText: await response.text() });
    } catch (err) {
      return classifyFailure(transportErrorOf(err));
    }
  }

  it("connect_error for a closed port", async () => {
    const url = await listen(() => undefined);
    server?.close();
    await once(server as Server, "close");
    expect(await classifyFetch(url)).toBe("connect_error");
  });

  it("connection_reset when the peer drops the socket", async () => {
    const url = await listen((req) => req.socket.destroy());
    expect(await classifyFetch(url)).toBe("connection_reset");
  });

  it("timeout when the answer does not come in time", async () => {
    const url = await listen(() => undefined);
    expect(await classifyFetch(url, AbortSignal.timeout(50))).toBe("timeout");
  });

  it("gpu_oom from a 500 with a CUDA message", async () => {
    const url = await listen((_req, res) => res.writeHead(500).end("RuntimeError: CUDA error: out of memory"));
    expect(await classifyFetch(url)).toBe("gpu_oom");
  });
});

// Reliability of job forwarding over real sockets: a gateway in front of two simulated orchestrators serving the
// same BYOC capabilities, one of them faulty in each of the ways real ones fail. Every job must still succeed, the
// faulty orchestrator must be taken out of rotation, and traffic must return to it once it recovers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import type { ByocFault } from "../src/devnet/byoc-faults.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { weiPerUnit } from "../src/network/price.js";

const CAPABILITY = "echo";
const OTHER_CAPABILITY = "pose";
const JOBS = 200;
const CONCURRENCY = 4;

function spec(name: string): SimulatedOrchestratorSpec {
  return {
    name,
    version: "0.8.9",
    transcodingPrice: weiPerUnit(1000n, 1n),
    pipelines: {},
    byoc: [
      { name: CAPABILITY, pricePerSecond: weiPerUnit(1000n, 1n), capacity: 64 },
      { name: OTHER_CAPABILITY, pricePerSecond: weiPerUnit(1000n, 1n), capacity: 64 },
    ],
  };
}

let devnet: Devnet;
let gateway: Gateway;
let clock = Date.now();

beforeAll(async () => {
  devnet = await startDevnet({ specs: [spec("steady"), spec("faulty")] });
  const fast = { profile: "per-frame", firstAttemptTimeout: "400ms", perAttemptTimeout: "400ms", overallBudget: "20s" };
  gateway = await startGateway(
    parseConfig([
      "-orchAddr", devnet.orchAddr, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", "-selectionSeed", "11", "-explorationShare", "0.1",
      "-retryProfiles", JSON.stringify({ capabilities: { [CAPABILITY]: fast, [OTHER_CAPABILITY]: fast } }),
    ]),
    silentLogger(),
    { now: () => clock },
  );
  await gateway.discovery.refreshNow();
});

afterAll(async () => {
  await gateway?.close();
  await devnet?.close();
});

const faulty = () => devnet.orchestrator("faulty");
const steady = () => devnet.orchestrator("steady");

function livepeerHeader(capability: string, timeoutSeconds = 30): string {
  const job = { request: "{}", parameters: "{}", capability, timeout_seconds: timeoutSeconds };
  return Buffer.from(JSON.stringify(job)).toString("base64");
}

interface JobResult {
  status: number;
  body: string;
  orchestrator: string | null;
}

async function sendJob(input: string, capability = CAPABILITY): Promise<JobResult> {
  const response = await fetch(`${gateway.servers.api.url}/process/request/run`, {
    method: "POST",
    headers: { Livepeer: livepeerHeader(capability), "Content-Type": "text/plain" },
    body: input,
  });
  return { status: response.status, body: await response.text(), orchestrator: response.headers.get("x-orchestrator-url") };
}

/** Sends `count` jobs, `CONCURRENCY` at a time; returns them in order. */
async function sendJobs(count: number, capability = CAPABILITY): Promise<JobResult[]> {
  const results: JobResult[] = new Array<JobResult>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await sendJob(`job ${index}`, capability);
      }
    }),
  );
  return results;
}

function expectAllServed(results: JobResult[]): void {
  const failed = results.filter((r) => r.status !== 200);
  expect(failed, `failed jobs: ${JSON.stringify(failed.slice(0, 3))}`).toEqual([]);
  results.forEach((result, index) => {
    expect(JSON.parse(result.body).output).toBe(`job ${index}`.split("").reverse().join(""));
  });
}

/**
 * Keeps sending (every job must succeed) until the faulty orchestrator is ejected for the capability, up to a bound:
 * once ranked down it gets only the exploration share of jobs, so the ejection may need more than the first batch.
 */
async function expectEjected(capability = CAPABILITY): Promise<void> {
  for (let batch = 0; batch < 10 && !faultyHealth(capability)?.ejected; batch++) expectAllServed(await sendJobs(50, capability));
  expect(faultyHealth(capability)?.ejected).toBe(true);
}

function faultyHealth(capability = CAPABILITY) {
  return gateway.health.state({ orchestratorUri: faulty().uri, capability, modelId: "" });
}

/** After the fault is cleared and the ejection time is up, jobs reach the faulty orchestrator again. */
async function expectTrafficReturns(): Promise<void> {
  await faulty().byoc.clearFaults();
  clock += 10 * 60_000; // past the longest ejection
  const before = faulty().byoc.jobsReceived(CAPABILITY);
  for (let i = 0; i < 100 && faulty().byoc.jobsReceived(CAPABILITY) === before; i++) {
    expect((await sendJob(`probe ${i}`)).status).toBe(200);
  }
  expect(faulty().byoc.jobsReceived(CAPABILITY)).toBeGreaterThan(before);
  expect(faultyHealth()?.ejected).toBe(false);
}

const FAILURES: Array<[string, ByocFault, string]> = [
  ["500", { mode: "error-500" }, "http_5xx"],
  ["GPU out of memory", { mode: "gpu-oom" }, "gpu_oom"],
  ["crash mid-request", { mode: "crash" }, "connection_reset"],
  ["schema mismatch", { mode: "schema-mismatch" }, "schema_mismatch"],
  ["hang", { mode: "hang" }, "timeout"],
];

describe("one of two orchestrators failing", () => {
  it.each(FAILURES)("%s: every job succeeds, the faulty one is ejected, then traffic returns", async (_name, fault, outcome) => {
    await faulty().byoc.setFault(CAPABILITY, fault);
    expectAllServed(await sendJobs(JOBS));
    await expectEjected();
    const health = faultyHealth();
    expect(health?.outcomeCounts[outcome as keyof typeof health.outcomeCounts]).toBeGreaterThan(0);
    await expectTrafficReturns();
  });

  it("capability unregistered: after its 503 the fresh token shows no capacity, so jobs stop going there; traffic returns after", async () => {
    await faulty().byoc.setFault(CAPABILITY, { mode: "down" });
    const before = faulty().byoc.jobsReceived(CAPABILITY);
    expectAllServed(await sendJobs(JOBS));
    // Only jobs sent on the token cached before the fault reach it (at most one per job in flight): the 503 drops
    // that token, and the next one advertises no capacity.
    expect(faulty().byoc.jobsReceived(CAPABILITY) - before).toBeLessThanOrEqual(CONCURRENCY);
    await expectTrafficReturns();
  });

  it("orchestrator down (connection refused): every job succeeds, it is ejected, then traffic returns", async () => {
    await faulty().byoc.setFault("*", { mode: "down" });
    expectAllServed(await sendJobs(JOBS));
    await expectEjected();
    expect(faultyHealth()?.outcomeCounts.connect_error).toBeGreaterThan(0);
    await expectTrafficReturns();
  });

  it("latency: every job succeeds and most go to the fast one", async () => {
    await faulty().byoc.setFault(CAPABILITY, { mode: "latency", ms: 150 });
    const steadyBefore = steady().byoc.jobsReceived(CAPABILITY);
    const faultyBefore = faulty().byoc.jobsReceived(CAPABILITY);
    expectAllServed(await sendJobs(JOBS));
    const toSteady = steady().byoc.jobsReceived(CAPABILITY) - steadyBefore;
    const toFaulty = faulty().byoc.jobsReceived(CAPABILITY) - faultyBefore;
    expect(toSteady).toBeGreaterThan(toFaulty * 3);
    await faulty().byoc.clearFaults();
  });

  it("cold start: every job succeeds and the slow first answer is a cold start, not a failure", async () => {
    await faulty().byoc.setFault(CAPABILITY, { mode: "cold-start", ms: 250 });
    clock += 10 * 60_000; // idle long enough for a cold start to be expected
    expectAllServed(await sendJobs(JOBS));
    expect(faultyHealth()?.ejected).toBe(false);
    await faulty().byoc.clearFaults();
  });

  it("one capability degraded: the orchestrator's other capabilities keep being served there", async () => {
    await faulty().byoc.setFault(CAPABILITY, { mode: "error-500" });
    await expectEjected();
    const before = faulty().byoc.jobsReceived(OTHER_CAPABILITY);
    const other = await sendJobs(50, OTHER_CAPABILITY);
    expectAllServed(other);
    expect(faultyHealth(OTHER_CAPABILITY)?.ejected ?? false).toBe(false);
    expect(faulty().byoc.jobsReceived(OTHER_CAPABILITY)).toBeGreaterThan(before);
    await expectTrafficReturns();
  });
});

/** Timers and sockets alive in this process (gateway, orchestrators and test client all run here). */
function resources(): { timers: number; sockets: number } {
  const info = process.getActiveResourcesInfo();
  return { timers: info.filter((r) => r === "Timeout").length, sockets: info.filter((r) => r === "TCPSocketWrap" || r === "TLSSocketWrap").length };
}

describe("both orchestrators failing", () => {
  it("answers 503 quickly, listing every attempt", async () => {
    await faulty().byoc.setFault(CAPABILITY, { mode: "error-500" });
    await steady().byoc.setFault(CAPABILITY, { mode: "gpu-oom" });
    try {
      const result = await sendJob("doomed");
      expect(result.status).toBe(503);
      const body = JSON.parse(result.body) as { error: string; attempts: Array<{ orchestrator: string; outcome: string; status?: number }> };
      expect(body.error).toMatch(/every attempt failed|ejected|no orchestrator/);
      const outcomes = body.attempts.filter((a) => a.status !== undefined).map((a) => a.outcome).sort();
      expect(outcomes).toEqual(["gpu_oom", "http_5xx"]);
      // Twenty more failed jobs leave no timer or socket behind (a leak would grow with every job).
      const before = resources();
      for (let i = 0; i < 20; i++) expect((await sendJob(`doomed ${i}`)).status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const after = resources();
      expect(after.timers).toBeLessThanOrEqual(before.timers + 2);
      expect(after.sockets).toBeLessThanOrEqual(before.sockets + 2);
    } finally {
      await faulty().byoc.clearFaults();
      await steady().byoc.clearFaults();
    }
  });
});

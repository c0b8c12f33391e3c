// /metrics on both ports: job outcomes per capability, orchestrator and outcome class, failovers with their reason,
// discovery errors under go-livepeer's name, and the orchestrators known, usable and ejected.
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { weiPerUnit } from "../src/network/price.js";

const SPECS: SimulatedOrchestratorSpec[] = ["cheap", "dear"].map((name) => ({
  name,
  version: "0.8.9",
  transcodingPrice: weiPerUnit(1n, 1n),
  pipelines: {},
  byoc: [{ name: "echo", pricePerSecond: weiPerUnit(name === "cheap" ? 500n : 1000n, 1n), capacity: 8 }],
}));

let devnet: Devnet;
let gateway: Gateway;
let deadAddress: string;

/** A loopback port with nothing listening: every GetOrchestrator call to it fails. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  devnet = await startDevnet({ specs: SPECS });
  deadAddress = `127.0.0.1:${await closedPort()}`;
  gateway = await startGateway(
    parseConfig([
      "-orchAddr", `${devnet.orchAddr},${deadAddress}`, "-httpAddr", "127.0.0.1:0", "-cliAddr", "127.0.0.1:0",
      "-rankingWeights", "latency=0,price=1,reliability=0", "-explorationShare", "0",
    ]),
    silentLogger(),
  );
  await gateway.discovery.refreshNow();
});

afterAll(async () => {
  await gateway?.close();
  await devnet?.close();
});

async function sendJob(): Promise<number> {
  const header = Buffer.from(JSON.stringify({ request: "{}", parameters: "{}", capability: "echo", timeout_seconds: 10 })).toString("base64");
  const response = await fetch(`${gateway.servers.api.url}/process/request/run`, { method: "POST", headers: { Livepeer: header }, body: "x" });
  await response.text();
  return response.status;
}

/** The value of one sample line, e.g. metric('livepeer_gateway_jobs_total{capability="echo",result="success"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  it("counts jobs, attempts by orchestrator and outcome, failovers and discovery errors, on both ports", async () => {
    const cheap = devnet.orchestrator("cheap");
    await cheap.byoc.setFault("echo", { mode: "error-500" });
    try {
      for (let i = 0; i < 3; i++) expect(await sendJob()).toBe(200); // cheap fails first each time, dear answers
    } finally {
      await cheap.byoc.clearFaults();
    }
    for (const base of [gateway.servers.api.url, gateway.servers.cli?.url ?? ""]) {
      const response = await fetch(`${base}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      expect(sample(text, 'livepeer_gateway_jobs_total{capability="echo",result="success"}')).toBe(3);
      expect(sample(text, `livepeer_gateway_job_attempts_total{capability="echo",orchestrator="${cheap.uri}",outcome="http_5xx"}`)).toBe(3);
      expect(sample(text, `livepeer_gateway_job_attempts_total{capability="echo",orchestrator="${devnet.orchestrator("dear").uri}",outcome="success"}`)).toBe(3);
      expect(sample(text, 'livepeer_gateway_failovers_total{capability="echo",reason="http_5xx"}')).toBe(3);
      expect(sample(text, 'livepeer_gateway_job_duration_seconds_count{capability="echo",result="success"}')).toBe(3);
      expect(sample(text, "livepeer_discovery_errors_total")).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'livepeer_gateway_orchestrators{state="known"}')).toBe(3);
      expect(sample(text, 'livepeer_gateway_orchestrators{state="usable"}')).toBe(2);
      expect(sample(text, 'livepeer_gateway_capability_orchestrators{capability="echo",state="offering"}')).toBe(2);
      expect(sample(text, 'livepeer_gateway_capability_orchestrators{capability="echo",state="ejected"}')).toBe(0);
      expect(text).toContain("process_cpu_seconds_total");
    }
  });

  it("never turns a client's capability name into a label", async () => {
    const header = Buffer.from(JSON.stringify({ request: "{}", parameters: "{}", capability: "made-up-by-a-client", timeout_seconds: 10 })).toString("base64");
    const response = await fetch(`${gateway.servers.api.url}/process/request/run`, { method: "POST", headers: { Livepeer: header }, body: "x" });
    expect(response.status).toBe(404);
    const text = await (await fetch(`${gateway.servers.api.url}/metrics`)).text();
    expect(text).not.toContain("made-up-by-a-client");
  });
});

describe("ejection and recovery counters", () => {
  it("count each ejection, the re-ejection after a failed probe, and the recovery, per capability and orchestrator", async () => {
    const { HealthTracker } = await import("../src/routing/health.js");
    const { GatewayMetrics } = await import("../src/metrics/gateway-metrics.js");
    let now = 1_000_000;
    const health = new HealthTracker({ consecutiveFailuresToEject: 2, baseEjectionMs: 1_000, maxEjectionPercent: 100 }, () => now);
    const metrics = new GatewayMetrics({ snapshot: () => gateway.discovery.snapshot, healthStates: () => health.states({}) }, { defaultMetrics: false });
    health.onEjectionTransition((key, transition) => metrics.ejectionTransition(key, transition));
    const key = { orchestratorUri: "https://o1.example:8935", capability: "echo", modelId: "" };
    const series = (transition: string) =>
      `livepeer_gateway_ejection_transitions_total{capability="echo",orchestrator="https://o1.example:8935",transition="${transition}"}`;

    health.record(key, "http_5xx", 10);
    health.record(key, "http_5xx", 10); // second consecutive failure: ejected
    now += 1_001;
    expect(health.isAvailable(key)).toBe(true); // the probe
    health.record(key, "timeout", 10); // failed probe: ejected again
    now += 5_000;
    expect(health.isAvailable(key)).toBe(true);
    health.record(key, "success", 10); // the probe succeeded: recovered

    const text = (await metrics.exposition()).body;
    expect(sample(text, series("ejected"))).toBe(2);
    expect(sample(text, series("recovered"))).toBe(1);
  });

  it("report healthy orchestrators per capability as offering minus ejected", async () => {
    const text = await (await fetch(`${gateway.servers.api.url}/metrics`)).text();
    expect(sample(text, 'livepeer_gateway_capability_orchestrators{capability="echo",state="healthy"}')).toBe(2);
  });
});

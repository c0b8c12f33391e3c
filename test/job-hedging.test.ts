// Hedging for the low-latency profile: when the first orchestrator is slow to answer, the job also goes to the next
// one, the first answer wins, and the slower request is cancelled without being held against its orchestrator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { weiPerUnit } from "../src/network/price.js";

// style-transfer is in the low-latency profile by default; depth (per-frame) is not hedged. Ranking on price alone
// puts the cheaper "first" first every time.
const SPECS: SimulatedOrchestratorSpec[] = ["first", "second"].map((name) => ({
  name,
  version: "0.8.9",
  transcodingPrice: weiPerUnit(1n, 1n),
  pipelines: {},
  byoc: [
    { name: "style-transfer", pricePerSecond: weiPerUnit(name === "first" ? 500n : 1000n, 1n), capacity: 8 },
    { name: "depth", pricePerSecond: weiPerUnit(name === "first" ? 500n : 1000n, 1n), capacity: 8 },
  ],
}));
const SLOW_MS = 1_500;

let devnet: Devnet;
let gateway: Gateway;

beforeAll(async () => {
  devnet = await startDevnet({ specs: SPECS });
  gateway = await startGateway(
    parseConfig(["-orchAddr", devnet.orchAddr, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", "-hedgeAfter", "100ms", "-rankingWeights", "latency=0,price=1,reliability=0", "-explorationShare", "0"]),
    silentLogger(),
  );
  await gateway.discovery.refreshNow();
});

afterAll(async () => {
  await gateway?.close();
  await devnet?.close();
});

async function sendJob(capability: string): Promise<{ status: number; orchestrator: string | null; attempts: string | null; ms: number }> {
  const header = Buffer.from(JSON.stringify({ request: "{}", parameters: "{}", capability, timeout_seconds: 10 })).toString("base64");
  const started = performance.now();
  const response = await fetch(`${gateway.servers.api.url}/process/request/run`, { method: "POST", headers: { Livepeer: header }, body: "x" });
  await response.text();
  return {
    status: response.status,
    orchestrator: response.headers.get("x-orchestrator-url"),
    attempts: response.headers.get("livepeer-gateway-attempts"),
    ms: performance.now() - started,
  };
}

describe("hedging (-hedgeAfter)", () => {
  it("answers from the second orchestrator when the first is slow, cancels the slow request, and holds nothing against it", async () => {
    for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.setFault("style-transfer", { mode: "latency", ms: SLOW_MS });
    const fast = devnet.orchestrators[1];
    await fast?.byoc.setFault("style-transfer", { mode: "none" });
    try {
      const servedByFast: boolean[] = [];
      for (let i = 0; i < 10; i++) {
        const result = await sendJob("style-transfer");
        expect(result.status).toBe(200);
        expect(result.ms).toBeLessThan(SLOW_MS); // the injected delay itself: a hedge answered before it ran out
        servedByFast.push(result.orchestrator === fast?.serviceUri);
      }
      expect(servedByFast.every(Boolean)).toBe(true);
      // Every job went to the slow one first (cheaper, and a cancelled hedge is never held against it): all were hedged.
      expect(devnet.orchestrators[0]?.byoc.jobsReceived("style-transfer")).toBe(10);
      // The slow orchestrator's requests were cancelled: nothing stays in flight there.
      for (let i = 0; i < 100 && devnet.orchestrators.some((o) => o.byoc.inFlight("style-transfer") > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(devnet.orchestrators.map((o) => o.byoc.inFlight("style-transfer"))).toEqual([0, 0]);
      const slowHealth = gateway.health.state({ orchestratorUri: devnet.orchestrators[0]?.uri ?? "", capability: "style-transfer", modelId: "" });
      expect(slowHealth?.consecutiveFailures ?? 0).toBe(0);
    } finally {
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
    }
  });

  it("does not hedge capabilities outside the low-latency profile", async () => {
    for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.setFault("depth", { mode: "latency", ms: 300 });
    try {
      const result = await sendJob("depth");
      expect(result.status).toBe(200);
      expect(result.attempts).toBe("1");
      expect(result.ms).toBeGreaterThanOrEqual(300);
    } finally {
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
    }
  });
});

// Discovery against simulated orchestrators over real TLS gRPC on loopback.
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import { startGarbageServer, startSimulatedOrchestrator } from "../src/devnet/orchestrator.js";
import { DEFAULT_DEVNET_SPECS } from "../src/devnet/network.js";
import { Discovery, type DiscoveryOptions } from "../src/discovery/discovery.js";
import { StaticSource } from "../src/discovery/sources.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { silentLogger } from "../src/log.js";
import { getAddress } from "ethers";
import { offerKey } from "../src/network/offers.js";
import { weiPerUnit } from "../src/network/price.js";
import { OrchestratorClientPool } from "../src/orchestrator/orchestrator-client.js";

const REALVIS = "SG161222/RealVisXL_V4.0_Lightning";

function discoveryFor(uris: readonly string[], options: Partial<DiscoveryOptions> = {}, now?: () => number) {
  const clients = new OrchestratorClientPool();
  const discovery = new Discovery(
    { source: new StaticSource(uris), clients, signer: offchainIdentity(), logger: silentLogger(), now, random: () => 0.5 },
    { callTimeoutMs: 2_000, ...options },
  );
  return { discovery, clients };
}

describe("discovery against the simulated network", () => {
  let devnet: Devnet;
  beforeAll(async () => {
    devnet = await startDevnet();
  });
  afterAll(async () => {
    await devnet.close();
  });

  it("indexes every capability by name, AI pipelines and BYOC alike", async () => {
    const { discovery, clients } = discoveryFor(devnet.uris);
    try {
      const snapshot = await discovery.refreshNow();
      expect(snapshot.usableOrchestrators()).toHaveLength(devnet.uris.length);
      for (const name of ["image-to-image", "text-to-image", "llm", "live-video-to-video", "depth", "style-transfer", "segmentation"]) {
        expect(snapshot.capabilities()).toContain(name);
      }
      for (const byoc of ["depth", "style-transfer", "segmentation"]) {
        expect(new Set(snapshot.offers(byoc).map((o) => o.orchestratorUri)).size).toBeGreaterThanOrEqual(2);
      }
      const imageToImage = snapshot.offers("image-to-image", REALVIS);
      expect(imageToImage.some((o) => o.warm)).toBe(true);
      expect(imageToImage.some((o) => !o.warm)).toBe(true);
      // Worked out once per snapshot, not per request: the per-model list, the orchestrator, float price, key, address.
      expect(snapshot.offers("image-to-image", REALVIS)).toBe(imageToImage);
      for (const offer of snapshot.offers("image-to-image")) {
        expect(offer.orchestrator).toBe(snapshot.orchestrator(offer.orchestratorUri));
        expect(offer.healthKey).toBe(offerKey(offer.orchestratorUri, "image-to-image", offer.modelId));
        if (offer.price) expect(offer.priceFloat).toBeCloseTo(Number(offer.price.num) / Number(offer.price.den), 9);
        expect(offer.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
        expect(offer.address).toBe(getAddress(offer.address)); // EIP-55 checksummed
      }
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("keeps an orchestrator's IndexedInfo across refreshes while it lists the same, though every reply has a new auth token", async () => {
    const { discovery, clients } = discoveryFor(devnet.uris);
    try {
      const first = await discovery.refreshNow();
      const second = await discovery.refreshNow();
      expect(second).not.toBe(first);
      for (const uri of devnet.uris) {
        const info = first.orchestrator(uri)?.info;
        expect(info).toBeDefined();
        expect(second.orchestrator(uri)?.info).toBe(info);
        // The listings show no auth token: the index does not keep one.
        expect(info?.decode().authToken).toBeUndefined();
      }
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("learns exact sub-wei prices with capability-scoped quotes instead of the floored listing", async () => {
    const { discovery, clients } = discoveryFor(devnet.uris);
    try {
      const snapshot = await discovery.refreshNow();
      const alpha = devnet.orchestrators.find((o) => o.spec.name === "orch-alpha");
      const bravo = devnet.orchestrators.find((o) => o.spec.name === "orch-bravo");
      const offer = (uri: string | undefined) => snapshot.offers("image-to-image", REALVIS).find((o) => o.orchestratorUri === uri);
      // 4768.371 wei/pixel is listed as 4768; a third of a wei is listed as 0 and must not look free.
      expect(offer(alpha?.uri)).toMatchObject({ price: weiPerUnit(4768371n, 1000n), priceSource: "exact" });
      expect(offer(bravo?.uri)).toMatchObject({ price: weiPerUnit(1n, 3n), priceSource: "exact" });
      // BYOC prices are whole wei per second in the listing.
      const depth = snapshot.offers("depth").find((o) => o.orchestratorUri === alpha?.uri);
      expect(depth).toMatchObject({ price: weiPerUnit(50_000n, 1n), priceSource: "listed", modelId: "" });
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("publishes the listings before asking for price quotes, then the quoted prices", async () => {
    const { discovery, clients } = discoveryFor(devnet.uris);
    const bravoUri = devnet.orchestrators.find((o) => o.spec.name === "orch-bravo")?.uri;
    const published: Array<{ source?: string; price?: string; usable: number }> = [];
    discovery.onSnapshot((snapshot) => {
      // orch-bravo lists image-to-image at a third of a wei per pixel: floored to 0 in the listing.
      const bravo = snapshot.offers("image-to-image", REALVIS).find((offer) => offer.orchestratorUri === bravoUri);
      published.push({ source: bravo?.priceSource, price: bravo?.price && `${bravo.price.num}/${bravo.price.den}`, usable: snapshot.usableOrchestrators().length });
    });
    try {
      const last = await discovery.refreshNow();
      expect(published).toEqual([
        { source: "unknown", price: undefined, usable: devnet.uris.length },
        { source: "exact", price: "1/3", usable: devnet.uris.length },
      ]);
      expect(discovery.snapshot).toBe(last);
      // The next refresh has its quotes already (they have not aged): one snapshot, the same prices.
      await discovery.refreshNow();
      expect(published).toHaveLength(3);
      expect(published[2]).toEqual(published[1]);
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("never calls a model free when its quote fails and the listing says 0", async () => {
    const bravoSpec = DEFAULT_DEVNET_SPECS.find((s) => s.name === "orch-bravo");
    if (!bravoSpec) throw new Error("devnet spec orch-bravo missing");
    const orchestrator = await startSimulatedOrchestrator(bravoSpec);
    let calls = 0;
    const clients = new OrchestratorClientPool();
    // Let listings through and fail every price quote.
    clients.getPriceQuote = () => {
      calls += 1;
      return Promise.reject(new Error("quote refused"));
    };
    const discovery = new Discovery(
      { source: new StaticSource([orchestrator.uri]), clients, signer: offchainIdentity(), logger: silentLogger() },
      { callTimeoutMs: 2_000 },
    );
    try {
      const snapshot = await discovery.refreshNow();
      const offer = snapshot.offers("image-to-image", REALVIS)[0];
      expect(offer?.priceSource).toBe("unknown");
      expect(offer?.price).toBeUndefined();
      expect(calls).toBeGreaterThan(0);
    } finally {
      await discovery.stop();
      clients.close();
      await orchestrator.close();
    }
  });
});

describe("misbehaving orchestrators", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  async function healthyAndBroken(behaviour: Parameters<Awaited<ReturnType<typeof startSimulatedOrchestrator>>["setBehaviour"]>[0]) {
    const [good, bad] = await Promise.all([
      startSimulatedOrchestrator(DEFAULT_DEVNET_SPECS[0]!),
      startSimulatedOrchestrator(DEFAULT_DEVNET_SPECS[1]!),
    ]);
    closers.push(() => good.close(), () => bad.close());
    bad.setBehaviour(behaviour);
    return { good, bad };
  }

  it.each([
    ["a gRPC error", { kind: "error", code: grpc.status.INTERNAL, message: "boom" } as const, /INTERNAL: boom/],
    ["absurd fields", { kind: "absurd" } as const, /rejected its info: .*address is 7 bytes/],
    ["an oversized reply", { kind: "oversized" } as const, /too large|RESOURCE_EXHAUSTED|exceeds/i],
    ["no answer", { kind: "hang" } as const, /no answer within 1500 ms/],
  ])("leaves out an orchestrator that sends %s, keeps the others, and names the reason", async (_name, behaviour, reason) => {
    const { good, bad } = await healthyAndBroken(behaviour);
    const { discovery, clients } = discoveryFor([good.uri, bad.uri], { callTimeoutMs: 1_500 });
    try {
      const snapshot = await discovery.refreshNow();
      expect(snapshot.usableOrchestrators().map((o) => o.uri)).toEqual([good.uri]);
      const broken = snapshot.orchestrator(bad.uri);
      expect(broken?.usable).toBe(false);
      expect(broken?.observation.reachable).toBe(false);
      expect(broken?.observation.consecutiveFailures).toBe(1);
      expect(broken?.observation.lastError).toMatch(reason);
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("leaves out a port that answers garbage instead of gRPC", async () => {
    const garbage = await startGarbageServer();
    closers.push(() => garbage.close());
    const { discovery, clients } = discoveryFor([garbage.uri], { callTimeoutMs: 1_000 });
    try {
      const snapshot = await discovery.refreshNow();
      expect(snapshot.orchestrator(garbage.uri)?.observation.lastError).toBeTruthy();
      expect(snapshot.usableOrchestrators()).toHaveLength(0);
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("backs off a failing orchestrator, then brings it back when it recovers", async () => {
    const { bad } = await healthyAndBroken({ kind: "error", code: grpc.status.UNAVAILABLE, message: "down" });
    let clock = 1_000_000;
    const { discovery, clients } = discoveryFor([bad.uri], { backoffBaseMs: 10_000, backoffMaxMs: 40_000 }, () => clock);
    try {
      await discovery.refreshNow();
      expect(bad.getOrchestratorCalls).toBe(1);
      // Within the back-off the orchestrator is not asked again.
      clock += 5_000;
      await discovery.refreshNow();
      expect(bad.getOrchestratorCalls).toBe(1);
      // After it (10 s ± 20 %), it is; failures double the wait, capped.
      clock += 10_000;
      await discovery.refreshNow();
      expect(bad.getOrchestratorCalls).toBe(2);
      expect(discovery.snapshot.orchestrator(bad.uri)?.observation.consecutiveFailures).toBe(2);
      bad.setBehaviour({ kind: "normal" });
      clock += 19_000;
      await discovery.refreshNow();
      expect(bad.getOrchestratorCalls).toBe(2);
      clock += 2_000;
      const snapshot = await discovery.refreshNow();
      expect(snapshot.orchestrator(bad.uri)).toMatchObject({ usable: true, observation: { reachable: true, consecutiveFailures: 0 } });
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("drops an orchestrator from the index once its last answer is stale", async () => {
    const { good } = await healthyAndBroken({ kind: "normal" });
    let clock = 1_000_000;
    const { discovery, clients } = discoveryFor([good.uri], { staleAfterMs: 60_000, backoffBaseMs: 1_000 }, () => clock);
    try {
      expect((await discovery.refreshNow()).usableOrchestrators()).toHaveLength(1);
      good.setBehaviour({ kind: "error", code: grpc.status.UNAVAILABLE, message: "gone" });
      clock += 30_000;
      // One failed refresh does not drop it: the last answer is still fresh.
      expect((await discovery.refreshNow()).usableOrchestrators()).toHaveLength(1);
      clock += 40_000;
      expect((await discovery.refreshNow()).usableOrchestrators()).toHaveLength(0);
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("leaves out blocklisted orchestrators by node address", async () => {
    const { good, bad } = await healthyAndBroken({ kind: "normal" });
    const { discovery, clients } = discoveryFor([good.uri, bad.uri], { blocklist: new Set([bad.address.toLowerCase()]) });
    try {
      const snapshot = await discovery.refreshNow();
      expect(snapshot.usableOrchestrators().map((o) => o.uri)).toEqual([good.uri]);
      expect(snapshot.orchestrator(bad.uri)?.observation.lastError).toMatch(/blocklisted/);
    } finally {
      await discovery.stop();
      clients.close();
    }
  });

  it("reuses one channel per orchestrator across refreshes", async () => {
    const { good } = await healthyAndBroken({ kind: "normal" });
    const { discovery, clients } = discoveryFor([good.uri]);
    try {
      await discovery.refreshNow();
      const channel = (clients as unknown as { clients: Map<string, unknown> }).clients.get(good.uri);
      await discovery.refreshNow();
      expect((clients as unknown as { clients: Map<string, unknown> }).clients.get(good.uri)).toBe(channel);
    } finally {
      await discovery.stop();
      clients.close();
    }
  });
});

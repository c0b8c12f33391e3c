// What discovery builds once and reuses: encoded requests, the price-only decoding of quote replies, the grpc-js
// target of an address, the devnet's per-spec answer parts, and a snapshot's offers held once.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { OrchestratorInfoSchema, OrchestratorRequestSchema } from "../src/gen/net/lp_rpc_pb.js";
import { DEFAULT_DEVNET_SPECS } from "../src/devnet/network.js";
import { startSimulatedOrchestrator } from "../src/devnet/orchestrator.js";
import { orchestratorInfoFor } from "../src/devnet/orchestrator-info.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { byocOffer, offerKey, type Offer } from "../src/network/offers.js";
import { weiPerUnit } from "../src/network/price.js";
import { IndexedOffer, NetworkSnapshot, type OrchestratorState } from "../src/network/snapshot.js";
import { OrchestratorClientPool, decodePriceInfoOnly, grpcTarget } from "../src/orchestrator/orchestrator-client.js";
import { encodeOnce, listingRequest, preEncoded, priceQuoteRequest } from "../src/orchestrator/orchestrator-request.js";

const REALVIS = "SG161222/RealVisXL_V4.0_Lightning";

describe("encodeOnce", () => {
  it("registers the request's exact encoding and freezes it", () => {
    const request = priceQuoteRequest(offchainIdentity(), 4, REALVIS, "1.2.3");
    const expected = toBinary(OrchestratorRequestSchema, request);
    const same = encodeOnce(request);
    expect(same).toBe(request);
    expect(Object.isFrozen(request)).toBe(true);
    expect(new Uint8Array(preEncoded(request) as Buffer)).toEqual(expected);
  });

  it("knows only the objects it registered", () => {
    const registered = encodeOnce(listingRequest(offchainIdentity()));
    const other = listingRequest(offchainIdentity());
    expect(preEncoded(registered)).toBeInstanceOf(Buffer);
    expect(preEncoded(other)).toBeUndefined();
    expect(preEncoded(undefined)).toBeUndefined();
    expect(preEncoded("text")).toBeUndefined();
  });
});

describe("decodePriceInfoOnly", () => {
  const full = create(OrchestratorInfoSchema, {
    transcoder: "https://127.0.0.1:1",
    address: new Uint8Array(20).fill(7),
    priceInfo: { pricePerUnit: 1_000_000_007n, pixelsPerUnit: 3n, capability: 4, constraint: REALVIS },
    capabilities: { bitstring: [1n, 2n], capacities: { 4: 2 }, version: "0.8.8", constraints: { PerCapability: { 4: { models: { [REALVIS]: { warm: true, capacity: 1 } } } } } },
    capabilitiesPrices: [{ pricePerUnit: 5n, pixelsPerUnit: 1n, capability: 4, constraint: REALVIS }],
    authToken: { token: new Uint8Array(32).fill(1), sessionId: "abc", expiration: 99n },
    nodes: ["https://node.invalid"],
  });

  it("decodes price_info exactly as a full decode does, and nothing else", () => {
    const bytes = toBinary(OrchestratorInfoSchema, full);
    const priceOnly = decodePriceInfoOnly(bytes);
    expect(priceOnly.priceInfo).toEqual(fromBinary(OrchestratorInfoSchema, bytes).priceInfo);
    expect(priceOnly.capabilities).toBeUndefined();
    expect(priceOnly.capabilitiesPrices).toEqual([]);
    expect(priceOnly.transcoder).toBe("");
  });

  it("merges repeated price_info records as a full decode does", () => {
    const first = toBinary(OrchestratorInfoSchema, create(OrchestratorInfoSchema, { priceInfo: { pricePerUnit: 9n, pixelsPerUnit: 2n } }));
    const second = toBinary(OrchestratorInfoSchema, create(OrchestratorInfoSchema, { transcoder: "x", priceInfo: { pixelsPerUnit: 5n } }));
    const bytes = Buffer.concat([first, second]);
    const decoded = decodePriceInfoOnly(bytes).priceInfo;
    expect(decoded).toEqual(fromBinary(OrchestratorInfoSchema, bytes).priceInfo);
    expect(decoded?.pricePerUnit).toBe(9n);
    expect(decoded?.pixelsPerUnit).toBe(5n);
  });

  it("reads no price_info as none", () => {
    expect(decodePriceInfoOnly(toBinary(OrchestratorInfoSchema, create(OrchestratorInfoSchema, { transcoder: "x" }))).priceInfo).toBeUndefined();
  });

  it("refuses a truncated reply", () => {
    const bytes = toBinary(OrchestratorInfoSchema, full);
    expect(() => decodePriceInfoOnly(bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});

describe("grpcTarget", () => {
  it("sends IP addresses through the ip resolvers and names through dns, with the same authority", () => {
    expect(grpcTarget(new URL("https://127.0.0.1:8935"))).toBe("ipv4:127.0.0.1:8935");
    expect(grpcTarget(new URL("https://[::1]:8935"))).toBe("ipv6:[::1]:8935");
    expect(grpcTarget(new URL("https://10.0.0.1"))).toBe("ipv4:10.0.0.1");
    expect(grpcTarget(new URL("https://orch.example.com:8935"))).toBe("orch.example.com:8935");
    expect(grpcTarget(new URL("http://localhost:1234"))).toBe("localhost:1234");
  });
});

describe("OrchestratorClientPool with encoded requests and price-only replies", () => {
  it("gets the same answers as with plain requests", async () => {
    const spec = DEFAULT_DEVNET_SPECS.find((s) => s.name === "orch-alpha") as SimulatedOrchestratorSpec;
    const orchestrator = await startSimulatedOrchestrator(spec);
    const clients = new OrchestratorClientPool();
    try {
      const signer = offchainIdentity();
      const plain = await clients.getOrchestrator(orchestrator.uri, listingRequest(signer), { timeoutMs: 5_000 });
      const encoded = await clients.getOrchestrator(orchestrator.uri, encodeOnce(listingRequest(signer)), { timeoutMs: 5_000 });
      expect(encoded.info.capabilities).toEqual(plain.info.capabilities);
      expect(encoded.info.capabilitiesPrices).toEqual(plain.info.capabilitiesPrices);
      // The bytes come with the reply; the info is their decoding without what discovery never reads (auth token,
      // hardware, storage), and the hardware entries are counted.
      const whole = fromBinary(OrchestratorInfoSchema, Uint8Array.from(plain.bytes));
      expect(whole.hardware.length).toBeGreaterThan(0);
      expect(whole.authToken).toBeDefined();
      expect(plain.hardwareEntries).toBe(whole.hardware.length);
      const { authToken: _token, ...withoutToken } = whole;
      expect(plain.info).toEqual({ ...withoutToken, hardware: [], storage: [] });
      const quote = encodeOnce(priceQuoteRequest(signer, 28, REALVIS, "0.0.0"));
      const full = (await clients.getOrchestrator(orchestrator.uri, quote, { timeoutMs: 5_000 })).info;
      const priceOnly = await clients.getPriceQuote(orchestrator.uri, quote, { timeoutMs: 5_000 });
      expect(priceOnly.priceInfo).toEqual(full.priceInfo);
      expect(full.capabilities).toBeDefined();
      expect(priceOnly.capabilities).toBeUndefined();
    } finally {
      clients.close();
      await orchestrator.close();
    }
  });
});

describe("devnet answers built from kept parts", () => {
  const spec = DEFAULT_DEVNET_SPECS.find((s) => s.name === "orch-alpha") as SimulatedOrchestratorSpec;
  const identity = { serviceUri: "https://127.0.0.1:2", address: new Uint8Array(20).fill(1) };
  const listing = create(OrchestratorRequestSchema, {});

  it("gives every answer a fresh auth token and the same offers", () => {
    const first = orchestratorInfoFor(spec, identity, listing);
    const second = orchestratorInfoFor(spec, identity, listing);
    expect(second.authToken?.token).not.toEqual(first.authToken?.token);
    expect(second.authToken?.sessionId).not.toBe(first.authToken?.sessionId);
    expect(first.authToken?.token).toHaveLength(32);
    expect(first.authToken?.sessionId).toMatch(/^[0-9a-f]{16}$/);
    expect(toBinary(OrchestratorInfoSchema, { ...second, authToken: first.authToken })).toEqual(toBinary(OrchestratorInfoSchema, first));
  });

  it("lists a BYOC price only while it is registered, call by call", () => {
    const names = (registered: (name: string) => boolean) =>
      orchestratorInfoFor(spec, identity, listing, undefined, registered).capabilitiesPrices.map((p) => p.constraint);
    expect(names(() => true)).toContain("depth");
    expect(names((name) => name !== "depth")).not.toContain("depth");
    expect(names(() => true)).toContain("depth");
  });

  it("does not let one answer's list change the next answer", () => {
    const first = orchestratorInfoFor(spec, identity, listing);
    first.capabilitiesPrices.pop();
    first.hardware.pop();
    const second = orchestratorInfoFor(spec, identity, listing);
    expect(second.capabilitiesPrices).toHaveLength(first.capabilitiesPrices.length + 1);
    expect(second.hardware).toHaveLength(first.hardware.length + 1);
  });
});

describe("NetworkSnapshot holds each offer once", () => {
  const uri = "https://orch-1.invalid:8935";
  const offers: Offer[] = [
    {
      orchestratorUri: uri,
      capability: "image-to-image",
      capabilityId: 28,
      modelId: REALVIS,
      warm: true,
      capacity: 1,
      capacityInUse: 0,
      runnerVersion: "0.14.2",
      price: weiPerUnit(1n, 3n),
      priceSource: "exact",
    },
    byocOffer(uri, "depth", weiPerUnit(50_000n, 1n)),
  ];
  const state: OrchestratorState = { uri, offers, usable: true, observation: { consecutiveFailures: 0, reachable: true } };
  const idle: OrchestratorState = { uri: "https://orch-2.invalid:8935", offers, usable: false, observation: { consecutiveFailures: 1, reachable: false } };

  it("gives a usable orchestrator's state the indexed offers, the same objects offers() returns", () => {
    const snapshot = new NetworkSnapshot(1, 0, [state, idle]);
    const held = snapshot.orchestrator(uri)?.offers ?? [];
    expect(held).toHaveLength(2);
    for (const offer of held) expect(offer).toBeInstanceOf(IndexedOffer);
    expect(held[0]).toBe(snapshot.offers("image-to-image", REALVIS)[0]);
    expect(held[1]).toBe(snapshot.offers("depth")[0]);
    expect((held[0] as IndexedOffer).orchestrator).toBe(snapshot.orchestrator(uri));
    expect((held[0] as IndexedOffer).healthKey).toBe(offerKey(uri, "image-to-image", REALVIS));
    expect(Object.isFrozen(held)).toBe(true);
    // The state given is left as it was; an unusable one is kept as given.
    expect(state.offers).toBe(offers);
    expect(snapshot.orchestrator(idle.uri)).toBe(idle);
  });

  it("indexes its own indexed offers again, as discovery hands them back for the next snapshot", () => {
    const first = new NetworkSnapshot(1, 0, [state]);
    const firstState = first.orchestrator(uri) as OrchestratorState;
    const second = new NetworkSnapshot(2, 0, [{ ...firstState, observation: { consecutiveFailures: 0, reachable: true } }]);
    const again = second.offers("image-to-image", REALVIS)[0];
    expect(again).not.toBe(first.offers("image-to-image", REALVIS)[0]);
    expect(again?.orchestrator).toBe(second.orchestrator(uri));
    expect(again?.price).toEqual(weiPerUnit(1n, 3n));
    expect(again?.priceFloat).toBeCloseTo(1 / 3);
    expect(second.offers("depth")[0]?.modelId).toBe("");
  });

  it("takes offers discovery built as IndexedOffers as they are, once: a second snapshot copies them", () => {
    const built = offers.map((offer) => new IndexedOffer(offer));
    const fresh: OrchestratorState = { ...state, offers: built };
    const first = new NetworkSnapshot(1, 0, [fresh]);
    expect(first.offers("image-to-image", REALVIS)[0]).toBe(built[0]);
    expect(built[0]?.orchestrator).toBe(first.orchestrator(uri));
    const second = new NetworkSnapshot(2, 0, [fresh]);
    const copy = second.offers("image-to-image", REALVIS)[0];
    expect(copy).not.toBe(built[0]);
    expect(copy?.orchestrator).toBe(second.orchestrator(uri));
    // The first snapshot's offer still points at the first snapshot's state.
    expect(built[0]?.orchestrator).toBe(first.orchestrator(uri));
    expect(copy?.healthKey).toBe(built[0]?.healthKey);
  });
});

// Route, ReportOutcome, ListOfferings, GetCapabilityHealth and WatchNetworkCapabilities over real sockets, on the
// simulated network.
import { getAddress, hexlify } from "ethers";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { GatewayService, OutcomeClass, WarmPolicy, type WatchNetworkCapabilitiesResponse } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { silentLogger } from "../src/log.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";
import { grpcStatusMessage } from "../src/api/grpc-status-message.js";
import { watchNetworkCapabilities } from "../src/api/watch.js";
import { create } from "@bufbuild/protobuf";
import { OrchestratorInfoSchema } from "../src/gen/net/lp_rpc_pb.js";
import { IndexedInfo } from "../src/network/indexed-info.js";
import { byocOffer } from "../src/network/offers.js";
import { weiPerUnit } from "../src/network/price.js";
import { NetworkSnapshot, type OrchestratorState } from "../src/network/snapshot.js";

const REALVIS = "SG161222/RealVisXL_V4.0_Lightning";
let gateway: Gateway;
let client: Client<typeof GatewayService>;

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  return ConnectError.from(await promise.then(() => new Error("expected a failure"), (e: unknown) => e));
}

beforeAll(async () => {
  gateway = await startGateway(
    parseConfig([
      "-devnet", "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", "-selectionSeed", "7", "-explorationShare", "0", "-ethUsdRate", "3000",
      "-maxPricePerCapability", JSON.stringify({ capabilities_prices: [
        { pipeline: "image-to-image", model_id: "default", price_per_unit: 4000, pixels_per_unit: 1 },
        { pipeline: "segmentation", price_per_unit: 0.0000000003, pixels_per_unit: 1, currency: "ETH" },
        { pipeline: "depth", price_per_unit: 0.00000000001, pixels_per_unit: 1, currency: "USD" },
      ] }),
    ]),
    silentLogger(),
  );
  await gateway.discovery.refreshNow();
  client = createClient(GatewayService, createGrpcTransport({ baseUrl: gateway.servers.api.url }));
});
afterAll(async () => {
  await gateway?.close();
});

describe("Route", () => {
  it("ranks warm before cold and explains why, with the exact price and the ceiling that applied", async () => {
    const response = await client.route({ capability: "image-to-image", modelId: REALVIS, count: 5 });
    expect(response.routeId).toMatch(/^[0-9a-f]{24}$/);
    // orch-alpha (warm, 4768.371 wei/pixel) is over the 4000 ceiling; orch-bravo (cold, 1/3) fits.
    expect(response.candidates.map((c) => c.price)).toEqual([{ numerator: "1", denominator: "3", $typeName: "livepeer.gateway.v1.WeiPrice" }]);
    expect(response.ceiling?.numerator).toBe("4000");
    expect(response.ceilingSource).toMatch(/maxPricePerCapability\[0\] image-to-image\/default/);
    expect(response.summary).toMatch(/1 over ceiling/);
    expect(response.candidates[0]?.reason).toMatch(/cold; .* ms discovery round trip; 1\/3 wei\/unit \(exact\)/);
    expect(response.candidates[0]?.priceUsd).not.toBe("");
    expect(response.retryProfile?.name).toBe("low-latency");
  });

  it("applies ceilings given in ETH and USD, and answers RESOURCE_EXHAUSTED with the cheapest price when all are over", async () => {
    // segmentation ceiling 0.0000000003 ETH = 300 000 000 wei/s: every segmentation offer fits.
    expect((await client.route({ capability: "segmentation", count: 10 })).candidates.length).toBeGreaterThanOrEqual(2);
    // depth ceiling 1e-11 USD at 3000 USD/ETH = 1e7/3000 = 10000/3 wei/s: nothing fits.
    const err = await failure(client.route({ capability: "depth" }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/over the price ceiling of 10000\/3 wei\/unit .*the cheapest is 42000 wei\/unit/);
  });

  it("never lets a request raise the configured ceiling, only lower it", async () => {
    const raised = await client.route({ capability: "image-to-image", modelId: REALVIS, maxPricePerUnit: "100000", count: 5 });
    expect(raised.ceiling?.numerator).toBe("4000");
    const lowered = await failure(client.route({ capability: "image-to-image", modelId: REALVIS, maxPricePerUnit: "0.0000000000000000001ETH" }));
    expect(lowered.code).toBe(Code.ResourceExhausted);
  });

  it.each([
    [{ capability: "" }, Code.InvalidArgument, /capability is required/],
    [{ capability: "style-transfer", count: -1 }, Code.InvalidArgument, /count must be between 1 and 100, got -1/],
    [{ capability: "style-transfer", maxPricePerUnit: "cheap" }, Code.InvalidArgument, /max_price_per_unit "cheap"/],
    [{ capability: "style-transfer", region: "mars-1" }, Code.InvalidArgument, /region "mars-1" is not a configured region/],
    [{ capability: "style-transfr" }, Code.NotFound, /no orchestrator offers capability "style-transfr"; did you mean "style-transfer"/],
    [{ capability: "image-to-image", modelId: "realvis" }, Code.NotFound, /did you mean "SG161222\/RealVisXL_V4.0_Lightning"/],
  ])("rejects %j with a message naming the problem", async (request, code, message) => {
    const err = await failure(client.route(request));
    expect(err.code).toBe(code);
    expect(err.rawMessage).toMatch(message);
  });

  it("honours exclusions and warm-required", async () => {
    const all = await client.route({ capability: "style-transfer", count: 10 });
    expect(all.candidates.length).toBeGreaterThanOrEqual(2);
    const excluded = all.candidates[0]?.orchestratorUri ?? "";
    const rest = await client.route({ capability: "style-transfer", count: 10, excludeOrchestrators: [excluded] });
    expect(rest.candidates.map((c) => c.orchestratorUri)).not.toContain(excluded);
    const err = await failure(client.route({ capability: "text-to-image", modelId: "stabilityai/sdxl-turbo", warm: WarmPolicy.REQUIRE }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/1 cold/);
  });
});

describe("ReportOutcome and health", () => {
  it("ejects an orchestrator for one capability after consecutive failures, and only for that capability", async () => {
    const first = await client.route({ capability: "segmentation", count: 10 });
    const target = first.candidates[0]?.orchestratorUri ?? "";
    for (let i = 0; i < 5; i++) {
      const routed = await client.route({ capability: "segmentation", count: 10 });
      const response = await client.reportOutcome({
        routeId: routed.routeId,
        orchestratorUri: target,
        outcome: OutcomeClass.GPU_OOM,
        latency: { seconds: 0n, nanos: 50_000_000 },
      });
      expect(response.health?.consecutiveFailures).toBe(i + 1);
    }
    const after = await client.route({ capability: "segmentation", count: 10 });
    expect(after.candidates.map((c) => c.orchestratorUri)).not.toContain(target);
    expect(after.summary).toMatch(/1 ejected/);
    // Another capability on the same orchestrator is untouched.
    const targetOffers = gateway.discovery.snapshot.orchestrator(target)?.offers.map((o) => o.capability) ?? [];
    const other = targetOffers.find((c) => c !== "segmentation" && c !== "depth");
    if (other) {
      const otherRoute = await client.route({ capability: other, count: 10 });
      expect(otherRoute.candidates.map((c) => c.orchestratorUri)).toContain(target);
    }
    const health = await client.getCapabilityHealth({ capability: "segmentation", orchestratorUri: target });
    expect(health.entries[0]?.health).toMatchObject({ ejected: true, lastOutcome: OutcomeClass.GPU_OOM });
  });

  it("rejects reports for unknown routes, strangers, duplicates and unspecified outcomes", async () => {
    const routed = await client.route({ capability: "style-transfer" });
    const uri = routed.candidates[0]?.orchestratorUri ?? "";
    const latency = { seconds: 0n, nanos: 1_000_000 };
    expect((await failure(client.reportOutcome({ routeId: "nope", orchestratorUri: uri, outcome: OutcomeClass.SUCCESS, latency }))).code).toBe(Code.NotFound);
    expect((await failure(client.reportOutcome({ routeId: routed.routeId, orchestratorUri: "https://x:1", outcome: OutcomeClass.SUCCESS, latency }))).code).toBe(Code.InvalidArgument);
    expect((await failure(client.reportOutcome({ routeId: routed.routeId, orchestratorUri: uri, outcome: OutcomeClass.UNSPECIFIED, latency }))).code).toBe(Code.InvalidArgument);
    await client.reportOutcome({ routeId: routed.routeId, orchestratorUri: uri, outcome: OutcomeClass.SUCCESS, latency });
    expect((await failure(client.reportOutcome({ routeId: routed.routeId, orchestratorUri: uri, outcome: OutcomeClass.SUCCESS, latency }))).code).toBe(Code.AlreadyExists);
  });
});

/** What WatchNetworkCapabilities reads of discovery, with a publish() that swaps in a snapshot as a sweep does. */
function snapshotSource(first: NetworkSnapshot) {
  const listeners = new Set<(snapshot: NetworkSnapshot) => void>();
  const source = {
    snapshot: first,
    onSnapshot: (listener: (snapshot: NetworkSnapshot) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const publish = (snapshot: NetworkSnapshot): void => {
    source.snapshot = snapshot;
    for (const listener of listeners) listener(snapshot);
  };
  return { source, publish, listeners };
}

describe("ListOfferings and WatchNetworkCapabilities", () => {
  it("lists every capability with models, counts, price ranges in wei and USD, and the retry profile", async () => {
    const json = createClient(GatewayService, createConnectTransport({ baseUrl: gateway.servers.api.url, httpVersion: "1.1" }));
    const { offerings } = await json.listOfferings({});
    const imageToImage = offerings.find((o) => o.capability === "image-to-image");
    expect(imageToImage).toMatchObject({ byoc: false, orchestrators: 2, warmOrchestrators: 1 });
    expect(imageToImage?.price).toMatchObject({ min: { numerator: "1", denominator: "3" }, unit: "pixel" });
    expect(imageToImage?.price?.minUsd).not.toBe("");
    const depth = offerings.find((o) => o.capability === "depth");
    expect(depth).toMatchObject({ byoc: true, retryProfile: { name: "per-frame" } });
    expect(depth?.price?.unit).toBe("second");
  });

  it("streams the current snapshot first, filtered by capability", async () => {
    const abort = new AbortController();
    const iterator = client.watchNetworkCapabilities({ capability: "llm" }, { signal: abort.signal })[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) throw new Error("stream ended before its first message");
    expect(first.value.initial).toBe(true);
    expect(first.value.upserted.map((entry) => entry.offers.some((offer) => offer.capability === "llm"))).toEqual([true, true]);
    abort.abort();
    await iterator.return?.();
  });

  it("then sends only what changed: new and changed orchestrators, and the URIs of those gone", async () => {
    const state = (name: string, price: bigint, capability = "llm"): OrchestratorState => ({
      uri: `https://${name}:8935`,
      offers: [{ ...byocOffer(`https://${name}:8935`, capability, weiPerUnit(price, 1n)) }],
      usable: true,
      observation: { consecutiveFailures: 0, reachable: true, latencyMs: 20 },
    });
    const { source, publish, listeners } = snapshotSource(new NetworkSnapshot(1, 1_000, [state("a", 10n), state("b", 20n), state("other", 5n, "depth")]));
    const abort = new AbortController();
    const stream = watchNetworkCapabilities(source, "llm", abort.signal);
    const names = (entries: { uri: string }[]) => entries.map((e) => e.uri.slice(8, -5)).sort();

    const first = await stream.next();
    expect(first.value).toMatchObject({ initial: true, snapshotVersion: 1n, removed: [] });
    expect(names(first.value?.upserted ?? [])).toEqual(["a", "b"]);

    const second = stream.next();
    publish(new NetworkSnapshot(2, 2_000, [state("a", 10n), state("b", 20n), state("other", 6n, "depth")])); // nothing of llm changed
    publish(new NetworkSnapshot(3, 3_000, [state("a", 11n), state("c", 30n), state("other", 6n, "depth")])); // a repriced, b gone, c new
    const changed = (await second).value as WatchNetworkCapabilitiesResponse;
    expect(changed).toMatchObject({ initial: false, snapshotVersion: 3n, removed: ["https://b:8935"] });
    expect(names(changed.upserted)).toEqual(["a", "c"]);
    expect(changed.upserted.find((e) => e.uri === "https://a:8935")?.offers[0]?.price?.numerator).toBe("11");

    const third = stream.next();
    publish(new NetworkSnapshot(4, 4_000, [state("a", 11n), state("c", 30n)])); // only a depth offer went: no message
    publish(new NetworkSnapshot(5, 5_000, [state("c", 30n)]));
    expect((await third).value).toMatchObject({ snapshotVersion: 5n, upserted: [], removed: ["https://a:8935"] });

    abort.abort();
    expect((await stream.next()).done).toBe(true);
    expect(listeners.size).toBe(0); // unsubscribed
  });
});

describe("WatchNetworkCapabilities and replies that differ at every call", () => {
  it("does not send an orchestrator again for a new auth token, ticket parameters, map order or GPU reading", async () => {
    const uri = "https://a:8935";
    const address = new Uint8Array(20).fill(7);
    // One reply as go-livepeer sends it: a fresh auth token and ticket seed every time, maps in any order, GPU memory
    // as it is now.
    const reply = (token: number, models: string[], memoryFree: bigint, transcoder = "https://a-service:8935", recipient = address) =>
      IndexedInfo.of(
        create(OrchestratorInfoSchema, {
          transcoder,
          address,
          ticketParams: { recipient, seed: new Uint8Array([token]) },
          authToken: { token: new Uint8Array([token]), sessionId: `session-${token}`, expiration: BigInt(token) },
          capabilities: {
            version: "0.8.8",
            constraints: { PerCapability: { 27: { models: Object.fromEntries(models.map((m) => [m, { warm: true, capacity: 1 }])) } } },
          },
          hardware: [{ pipeline: "text-to-image", gpuInfo: { "0": { name: "NVIDIA L40S", memoryTotal: 100n, memoryFree } } }],
        }),
      );
    const offer = (modelId: string, warm = true) => ({ ...byocOffer(uri, "text-to-image", weiPerUnit(5n, 1n)), capabilityId: 27, modelId, warm, capacity: 1 });
    const state = (info: IndexedInfo, offers = [offer("m1"), offer("m2")]): OrchestratorState => ({
      uri,
      info,
      offers,
      usable: true,
      observation: { consecutiveFailures: 0, reachable: true },
    });
    const { source, publish } = snapshotSource(new NetworkSnapshot(1, 1_000, [state(reply(1, ["m1", "m2"], 50n))]));
    const abort = new AbortController();
    const stream = watchNetworkCapabilities(source, "", abort.signal);
    expect((await stream.next()).value?.initial).toBe(true);

    const next = stream.next();
    publish(new NetworkSnapshot(2, 2_000, [state(reply(2, ["m2", "m1"], 40n), [offer("m2"), offer("m1")])])); // nothing that counts
    await new Promise((resolve) => setImmediate(resolve)); // the stream looks at snapshot 2 before 3 comes
    publish(new NetworkSnapshot(3, 3_000, [state(reply(3, ["m1", "m2"], 30n), [offer("m1"), offer("m2", false)])])); // m2 went cold
    expect((await next).value).toMatchObject({ snapshotVersion: 3n, removed: [] });

    const moved = stream.next();
    publish(new NetworkSnapshot(4, 4_000, [state(reply(4, ["m1", "m2"], 30n, "https://a-elsewhere:8935"), [offer("m1"), offer("m2", false)])]));
    const entry = (await moved).value?.upserted[0];
    expect(entry?.orchUri).toBe("https://a-elsewhere:8935");

    // Tickets now pay another account: that counts.
    const repaid = stream.next();
    const recipient = new Uint8Array(20).fill(9);
    publish(new NetworkSnapshot(5, 5_000, [state(reply(5, ["m1", "m2"], 30n, "https://a-elsewhere:8935", recipient), [offer("m1"), offer("m2", false)])]));
    expect((await repaid).value?.upserted[0]?.address).toBe(getAddress(hexlify(recipient)));
    abort.abort();
    expect((await stream.next()).done).toBe(true);
  });
});

describe("error messages over gRPC", () => {
  /** The status a grpc-js client (the other gRPC stack, not connect-node's) sees for a Route request. */
  async function grpcJsError(request: object): Promise<grpc.ServiceError> {
    const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(GatewayService), "GatewayService");
    const raw = new Client(new URL(gateway.servers.api.url).host, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      route: (req: object, cb: (err: grpc.ServiceError | null) => void) => void;
    };
    try {
      return await new Promise((resolve, reject) => raw.route(request, (err) => (err ? resolve(err) : reject(new Error("expected a failure")))));
    } finally {
      raw.close();
    }
  }

  it.each([
    ["reserved URI characters", { capability: "style-transfr" }, /; did you mean "style-transfer"\? \(offered now: .*, .*\)/],
    ["a percent sign", { capability: "50%2Coff" }, /capability "50%2Coff"/],
    ["non-ASCII text", { capability: "dépth" }, /capability "dépth" must be printable ASCII/],
  ])("reach grpc-js clients decoded, as Connect clients read them: %s", async (_name, request, message) => {
    const connectError = await failure(client.route(request));
    const grpcJsErr = await grpcJsError(request);
    expect(grpcJsErr.code).toBe(connectError.code);
    expect(grpcJsErr.details).toBe(connectError.rawMessage);
    expect(grpcJsErr.details).toMatch(message);
  });

  it("escapes only what the gRPC spec requires", () => {
    expect(grpcStatusMessage(encodeURIComponent('a "b"; c, d/e? 100% é\n'))).toBe('a "b"; c, d/e? 100%25 %C3%A9%0A');
    expect(grpcStatusMessage("%E0%A4%A")).toBe("%E0%A4%A"); // not decodable: passed on as it came
  });
});

// The simulated orchestrators, exercised over real sockets on 127.0.0.1 with a plain grpc-js client.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { getBytes, hexlify } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { absurdOrchestratorInfo, OVERSIZED_REPLY_BYTES } from "../src/devnet/behaviour.js";
import { DEFAULT_DEVNET_SPECS, startDevnet, type Devnet } from "../src/devnet/network.js";
import {
  startGarbageServer,
  startSimulatedOrchestrator,
  type SimulatedOrchestrator,
} from "../src/devnet/orchestrator.js";
import { simulatedOrchestratorWallet, type SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import {
  Orchestrator,
  OrchestratorRequestSchema,
  PingPongSchema,
  type EndTranscodingSessionResponse,
  type OrchestratorInfo,
  type PingPong,
} from "../src/gen/net/lp_rpc_pb.js";
import {
  BYOC_CAPABILITY_ID,
  DEFAULT_CAPABILITY_IDS,
  PIPELINE_CAPABILITY_IDS,
  capabilityBitstring,
  capabilityIdsOf,
} from "../src/network/capabilities.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";

const OrchestratorClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(Orchestrator), "Orchestrator");
type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

const openClients = new Set<grpc.Client>();

function clientFor(uri: string): grpc.Client {
  const url = new URL(uri);
  const credentials =
    url.protocol === "https:"
      ? grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }) // orchestrators self-sign
      : grpc.credentials.createInsecure();
  // A private subchannel pool, so closing the client really closes its connection.
  const client = new OrchestratorClient(url.host, credentials, { "grpc.use_local_subchannel_pool": 1 });
  openClients.add(client);
  return client;
}

function closeClient(client: grpc.Client): void {
  client.close();
  openClients.delete(client);
}

function unary<Res>(client: grpc.Client, method: string, request: unknown, timeoutMs = 5000): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryMethod>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) =>
      error ? reject(error) : resolve(response as Res),
    );
  });
}

function getOrchestrator(client: grpc.Client, request: OrchestratorRequestInit = {}, timeoutMs?: number) {
  return unary<OrchestratorInfo>(client, "getOrchestrator", create(OrchestratorRequestSchema, request), timeoutMs);
}

async function grpcFailure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

type OrchestratorRequestInit = MessageInitShape<typeof OrchestratorRequestSchema>;

/**
 * What a go-livepeer gateway sends for AI: default bits plus each capability, capacity 1 each, and the models under
 * each capability's constraints. `capacityKeys` overrides which capability ids appear in `capacities`.
 */
function scopedRequest(
  models: Readonly<Record<string, string>>,
  options: { ignoreCapacityCheck?: boolean; capacityKeys?: readonly number[] } = {},
): OrchestratorRequestInit {
  const perCapability: Record<number, { models: Record<string, { warm: boolean; runnerVersion: string }> }> = {};
  for (const [pipeline, modelId] of Object.entries(models)) {
    const capability = PIPELINE_CAPABILITY_IDS.get(pipeline);
    if (capability === undefined) throw new Error(`unknown pipeline ${pipeline}`);
    (perCapability[capability] ??= { models: {} }).models[modelId] = { warm: false, runnerVersion: "" };
  }
  const ids = Object.keys(perCapability).map(Number);
  const capacities: Record<number, number> = {};
  for (const id of options.capacityKeys ?? ids) capacities[id] = 1;
  return {
    address: new Uint8Array(20),
    capabilities: {
      bitstring: capabilityBitstring([...DEFAULT_CAPABILITY_IDS, ...ids]),
      capacities,
      version: "0.8.8",
      constraints: { PerCapability: perCapability },
    },
    ignoreCapacityCheck: options.ignoreCapacityCheck ?? false,
  };
}

function specNamed(name: string): SimulatedOrchestratorSpec {
  const spec = DEFAULT_DEVNET_SPECS.find((candidate) => candidate.name === name);
  if (!spec) throw new Error(`no spec ${name}`);
  return spec;
}

const REALVIS = "SG161222/RealVisXL_V4.0_Lightning";

describe("default devnet specs", () => {
  it("offers every required capability, BYOC names on at least two orchestrators each", () => {
    expect(DEFAULT_DEVNET_SPECS.length).toBeGreaterThanOrEqual(4);
    const pipelines = new Set(DEFAULT_DEVNET_SPECS.flatMap((spec) => Object.keys(spec.pipelines)));
    for (const pipeline of ["image-to-image", "text-to-image", "llm", "live-video-to-video"]) {
      expect(pipelines).toContain(pipeline);
    }
    for (const name of ["depth", "style-transfer", "segmentation"]) {
      const offering = DEFAULT_DEVNET_SPECS.filter((spec) => spec.byoc.some((byoc) => byoc.name === name));
      expect(offering.length, name).toBeGreaterThanOrEqual(2);
    }
    const realvis = DEFAULT_DEVNET_SPECS.flatMap((spec) => spec.pipelines["image-to-image"] ?? []).filter(
      (model) => model.modelId === REALVIS,
    );
    expect(realvis.map((model) => model.warm).sort()).toEqual([false, true]);
  });

  it("derives stable node accounts from the names", () => {
    const addresses = DEFAULT_DEVNET_SPECS.map((spec) => simulatedOrchestratorWallet(spec.name).address);
    expect(new Set(addresses).size).toBe(DEFAULT_DEVNET_SPECS.length);
    expect(simulatedOrchestratorWallet("orch-alpha").address).toBe(addresses[0]);
  });
});

describe("simulated orchestrators over TLS", () => {
  let devnet: Devnet;
  const handle = (name: string): SimulatedOrchestrator => {
    const found = devnet.orchestrators.find((orchestrator) => orchestrator.spec.name === name);
    if (!found) throw new Error(`no orchestrator ${name}`);
    return found;
  };
  const client = (name: string) => clientFor(handle(name).uri);

  beforeAll(async () => {
    devnet = await startDevnet();
  });
  afterAll(async () => {
    for (const open of [...openClients]) closeClient(open);
    await devnet.close();
  });

  it("listens on 127.0.0.1 with https URIs and gives an -orchAddr value", () => {
    expect(devnet.uris).toHaveLength(DEFAULT_DEVNET_SPECS.length);
    for (const uri of devnet.uris) expect(uri).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(devnet.orchAddr).toBe(devnet.uris.join(","));
  });

  it("answers a listing with capabilities, constraints, floored prices, BYOC entries and hardware", async () => {
    const alpha = handle("orch-alpha");
    const info = await getOrchestrator(client("orch-alpha"));

    expect(info.transcoder).toBe(alpha.serviceUri);
    expect(alpha.serviceUri).not.toBe(alpha.uri); // the BYOC/HTTP port, not the gRPC one
    expect(info.address).toHaveLength(20);
    expect(hexlify(info.address)).toBe(alpha.address.toLowerCase());
    expect(alpha.address).toBe(simulatedOrchestratorWallet("orch-alpha").address);

    const capabilities = info.capabilities;
    expect(capabilities?.bitstring).toEqual(capabilityBitstring([...DEFAULT_CAPABILITY_IDS, 27, 28]));
    expect(capabilityIdsOf(capabilities?.bitstring ?? [])).not.toContain(BYOC_CAPABILITY_ID);
    expect(capabilities?.version).toBe("0.8.8");
    expect(capabilities?.capacities[28]).toBe(1);
    expect(capabilities?.capacities[27]).toBe(2);
    expect(capabilities?.capacities[0]).toBe(1);
    const perCapability = capabilities?.constraints?.PerCapability ?? {};
    expect(Object.keys(perCapability).sort()).toEqual(["27", "28"]);
    expect(perCapability[28]?.models[REALVIS]).toMatchObject({ warm: true, capacity: 1, runnerVersion: "0.14.2" });
    expect(perCapability[27]?.models["stabilityai/sdxl-turbo"]?.warm).toBe(false);

    expect(info.priceInfo).toMatchObject({ pricePerUnit: 1200n, pixelsPerUnit: 1n });

    const prices = info.capabilitiesPrices.map(({ capability, constraint, pricePerUnit, pixelsPerUnit }) => ({
      capability,
      constraint,
      pricePerUnit,
      pixelsPerUnit,
    }));
    expect(prices).toEqual(
      expect.arrayContaining([
        { capability: 28, constraint: REALVIS, pricePerUnit: 4768n, pixelsPerUnit: 1n },
        { capability: 27, constraint: REALVIS, pricePerUnit: 4768n, pixelsPerUnit: 1n },
        { capability: 27, constraint: "stabilityai/sdxl-turbo", pricePerUnit: 2500n, pixelsPerUnit: 1n },
        { capability: BYOC_CAPABILITY_ID, constraint: "depth", pricePerUnit: 50_000n, pixelsPerUnit: 1n },
        { capability: BYOC_CAPABILITY_ID, constraint: "style-transfer", pricePerUnit: 120_000n, pixelsPerUnit: 1n },
      ]),
    );
    expect(prices).toHaveLength(5);

    expect(info.hardware).toHaveLength(3);
    const hardware = info.hardware.find((entry) => entry.pipeline === "image-to-image" && entry.modelId === REALVIS);
    const gpu = hardware?.gpuInfo["0"];
    expect(gpu).toMatchObject({ name: "NVIDIA GeForce RTX 4090", major: 8, minor: 9, memoryTotal: 25757220864n });
    expect(gpu?.id).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(gpu && gpu.memoryFree > 0n && gpu.memoryFree < gpu.memoryTotal).toBe(true);

    const nowSeconds = BigInt(Math.floor(Date.now() / 1000));
    expect(info.authToken?.token).toHaveLength(32);
    expect(info.authToken?.sessionId).not.toBe("");
    const expiration = info.authToken?.expiration ?? 0n;
    expect(expiration >= nowSeconds + 1790n && expiration <= nowSeconds + 1810n).toBe(true);
    expect(info.ticketParams).toBeUndefined();
  });

  it("floors sub-wei listing prices to whole wei and lists every spec entry", async () => {
    for (const spec of DEFAULT_DEVNET_SPECS) {
      const info = await getOrchestrator(client(spec.name));
      const listed = new Map(info.capabilitiesPrices.map((price) => [`${price.capability}/${price.constraint}`, price]));
      for (const [pipeline, models] of Object.entries(spec.pipelines)) {
        for (const model of models) {
          const price = listed.get(`${PIPELINE_CAPABILITY_IDS.get(pipeline)}/${model.modelId}`);
          expect(price?.pricePerUnit).toBe(model.price.num / model.price.den);
          expect(price?.pixelsPerUnit).toBe(1n);
        }
      }
      for (const byoc of spec.byoc) {
        expect(listed.get(`${BYOC_CAPABILITY_ID}/${byoc.name}`)?.pricePerUnit).toBe(byoc.pricePerSecond.num);
      }
    }
    const bravo = await getOrchestrator(client("orch-bravo"));
    expect(bravo.capabilitiesPrices.find((price) => price.capability === 28)?.pricePerUnit).toBe(0n);
  });

  it("states a fractional base price exactly", async () => {
    const info = await getOrchestrator(client("orch-delta"));
    expect(info.priceInfo).toMatchObject({ pricePerUnit: 2500n, pixelsPerUnit: 3n });
  });

  it("quotes a scoped request at the exact sub-wei price as a fraction, without the lists", async () => {
    const bravo = await getOrchestrator(client("orch-bravo"), scopedRequest({ "image-to-image": REALVIS }));
    expect(bravo.priceInfo).toMatchObject({ pricePerUnit: 1n, pixelsPerUnit: 3n });
    expect(bravo.capabilitiesPrices).toEqual([]);
    expect(bravo.hardware).toEqual([]);
    expect(bravo.transcoder).toBe(handle("orch-bravo").serviceUri);
    expect(bravo.capabilities?.constraints?.PerCapability[28]?.models[REALVIS]?.warm).toBe(false);

    const alpha = await getOrchestrator(client("orch-alpha"), scopedRequest({ "image-to-image": REALVIS }));
    expect(alpha.priceInfo).toMatchObject({ pricePerUnit: 4768371n, pixelsPerUnit: 1000n });
  });

  it("sums the prices of every (capability, model) in a scoped request", async () => {
    const both = scopedRequest({ "text-to-image": "stabilityai/sdxl-turbo", "image-to-image": REALVIS });
    const info = await getOrchestrator(client("orch-alpha"), both);
    // 2500 + 4768371/1000 = 7268371/1000
    expect(info.priceInfo).toMatchObject({ pricePerUnit: 7268371n, pixelsPerUnit: 1000n });
  });

  it("falls back to the base price for an unknown model or a capability missing from capacities", async () => {
    const unknown = await getOrchestrator(client("orch-alpha"), scopedRequest({ "image-to-image": "no/such-model" }));
    expect(unknown.priceInfo).toMatchObject({ pricePerUnit: 1200n, pixelsPerUnit: 1n });

    const delta = await getOrchestrator(client("orch-delta"), scopedRequest({ llm: "no/such-model" }));
    expect(delta.priceInfo).toMatchObject({ pricePerUnit: 2500n, pixelsPerUnit: 3n });

    const withoutCapacity = await getOrchestrator(
      client("orch-alpha"),
      scopedRequest({ "image-to-image": REALVIS }, { capacityKeys: [] }),
    );
    expect(withoutCapacity.priceInfo).toMatchObject({ pricePerUnit: 1200n, pixelsPerUnit: 1n });
  });

  it("refuses live-video-to-video when no requested model has an idle container, unless told to ignore capacity", async () => {
    const refused = await grpcFailure(
      getOrchestrator(client("orch-delta"), scopedRequest({ "live-video-to-video": "streamdiffusion" })),
    );
    expect(refused.code).toBe(grpc.status.UNKNOWN);
    expect(refused.details).toBe("Invalid orchestrator request: OrchestratorCapped");

    const ignored = await getOrchestrator(
      client("orch-delta"),
      scopedRequest({ "live-video-to-video": "streamdiffusion" }, { ignoreCapacityCheck: true }),
    );
    expect(ignored.priceInfo).toMatchObject({ pricePerUnit: 3n, pixelsPerUnit: 1n });

    const charlie = await getOrchestrator(client("orch-charlie"), scopedRequest({ "live-video-to-video": "streamdiffusion" }));
    expect(charlie.priceInfo).toMatchObject({ pricePerUnit: 7n, pixelsPerUnit: 2n });
    const models = charlie.capabilities?.constraints?.PerCapability[35]?.models;
    expect(models?.["streamdiffusion"]).toMatchObject({ capacity: 1, capacityInUse: 1 });
  });

  it("echoes Ping and answers EndTranscodingSession with an empty message", async () => {
    const ping = await unary<PingPong>(
      client("orch-alpha"),
      "ping",
      create(PingPongSchema, { value: new Uint8Array([1, 2, 3]) }),
    );
    expect([...ping.value]).toEqual([1, 2, 3]);
    const ended = await unary<EndTranscodingSessionResponse>(client("orch-alpha"), "endTranscodingSession", {});
    expect(ended.$typeName).toBe("net.EndTranscodingSessionResponse");
  });
});

describe("behaviours", () => {
  let orchestrator: SimulatedOrchestrator;
  let client: grpc.Client;

  beforeAll(async () => {
    orchestrator = await startSimulatedOrchestrator(specNamed("orch-alpha"));
    client = clientFor(orchestrator.uri);
  });
  afterAll(async () => {
    closeClient(client);
    await orchestrator.close();
  });

  it("delay: answers late, so a short deadline expires and a long one succeeds", async () => {
    orchestrator.setBehaviour({ kind: "delay", ms: 400 });
    const late = await grpcFailure(getOrchestrator(client, {}, 100));
    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const info = await getOrchestrator(client, {}, 5000);
    expect(info.transcoder).toBe(orchestrator.serviceUri);
    orchestrator.setBehaviour({ kind: "normal" });
  });

  it("error: fails with the chosen status, then recovers", async () => {
    orchestrator.setBehaviour({ kind: "error", code: grpc.status.PERMISSION_DENIED, message: "go away" });
    const failure = await grpcFailure(getOrchestrator(client));
    expect(failure.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(failure.details).toBe("go away");
    orchestrator.setBehaviour({ kind: "normal" });
    expect((await getOrchestrator(client)).transcoder).toBe(orchestrator.serviceUri);
  });

  it("absurd: a decodable reply full of values a gateway must reject", async () => {
    orchestrator.setBehaviour({ kind: "absurd" });
    const info = await getOrchestrator(client);
    orchestrator.setBehaviour({ kind: "normal" });
    expect(info.address.length).not.toBe(20);
    expect(info.priceInfo?.pixelsPerUnit).toBe(0n);
    expect(info.priceInfo?.pricePerUnit).toBeLessThan(0n);
    expect(info.capabilities?.version.length).toBeGreaterThanOrEqual(10 * 1024);
    expect(Object.keys(info.capabilities?.capacities ?? {}).length).toBeGreaterThanOrEqual(100_000);
    expect(info.capabilitiesPrices.some((price) => price.pixelsPerUnit === 0n)).toBe(true);
    expect(info.transcoder).toBe(orchestrator.serviceUri);
    expect(hexlify(info.address)).toBe(hexlify(absurdOrchestratorInfo(orchestrator.serviceUri).address));
  });

  it("oversized: a reply above 4 MiB is refused by a default client with RESOURCE_EXHAUSTED", async () => {
    orchestrator.setBehaviour({ kind: "oversized" });
    const failure = await grpcFailure(getOrchestrator(client, {}, 10_000));
    orchestrator.setBehaviour({ kind: "normal" });
    expect(failure.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(OVERSIZED_REPLY_BYTES).toBeGreaterThan(4 * 1024 * 1024);
    expect((await getOrchestrator(client)).transcoder).toBe(orchestrator.serviceUri);
  });

  it("counts GetOrchestrator calls", () => {
    expect(orchestrator.getOrchestratorCalls).toBeGreaterThan(0);
  });
});

describe("hang, plaintext and garbage peers", () => {
  it("hang: a call never answered ends when the orchestrator closes", async () => {
    const orchestrator = await startSimulatedOrchestrator(specNamed("orch-bravo"), { behaviour: { kind: "hang" } });
    const client = clientFor(orchestrator.uri);
    try {
      const pending = grpcFailure(getOrchestrator(client, {}, 60_000));
      for (let i = 0; i < 200 && orchestrator.getOrchestratorCalls === 0; i++) await sleep(10);
      expect(orchestrator.getOrchestratorCalls).toBe(1);
      await orchestrator.close();
      const failure = await pending;
      expect([grpc.status.UNAVAILABLE, grpc.status.CANCELLED]).toContain(failure.code);
    } finally {
      closeClient(client);
      await orchestrator.close();
    }
  });

  it("serves h2c with an http URI when TLS is off", async () => {
    const orchestrator = await startSimulatedOrchestrator(specNamed("orch-charlie"), { tls: false });
    const client = clientFor(orchestrator.uri);
    try {
      expect(orchestrator.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(orchestrator.serviceUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const info = await getOrchestrator(client);
      expect(info.transcoder).toBe(orchestrator.serviceUri);
      expect(hexlify(info.address)).toBe(hexlify(getBytes(orchestrator.address)));
    } finally {
      closeClient(client);
      await orchestrator.close();
    }
  });

  it("a TLS peer answering garbage makes the call fail, not hang", async () => {
    const garbage = await startGarbageServer();
    const client = clientFor(garbage.uri);
    try {
      const failure = await grpcFailure(getOrchestrator(client, {}, 5000));
      expect([grpc.status.UNAVAILABLE, grpc.status.INTERNAL]).toContain(failure.code);
    } finally {
      closeClient(client);
      await garbage.close();
    }
  });
});

describe("starting", () => {
  it("refuses a bad spec before opening a port", async () => {
    const alpha = specNamed("orch-alpha");
    await expect(startSimulatedOrchestrator({ ...alpha, pipelines: { "text-to-everything": [] } })).rejects.toThrow(
      /unknown AI pipeline "text-to-everything"/,
    );
    await expect(
      startSimulatedOrchestrator({ ...alpha, transcodingPrice: { num: 1n, den: 0n } }),
    ).rejects.toThrow(/transcoding price must be a non-negative ratio/);
    await expect(startDevnet({ specs: [alpha, alpha] })).rejects.toThrow(/"orch-alpha" is used twice/);
  });

  it("takes consecutive ports from -port", async () => {
    // A few random bases, in case another process holds one of the ports.
    for (let attempt = 0; attempt < 5; attempt++) {
      const firstPort = 20_000 + Math.floor(Math.random() * 30_000);
      let devnet: Devnet;
      try {
        devnet = await startDevnet({ firstPort });
      } catch {
        continue;
      }
      await devnet.close();
      const n = DEFAULT_DEVNET_SPECS.length;
      expect(devnet.uris).toEqual(DEFAULT_DEVNET_SPECS.map((_, index) => `https://127.0.0.1:${firstPort + index}`));
      expect(devnet.serviceUris).toEqual(DEFAULT_DEVNET_SPECS.map((_, index) => `https://127.0.0.1:${firstPort + n + index}`));
      expect(devnet.admin?.uri).toBe(`http://127.0.0.1:${firstPort + 2 * n}`);
      return;
    }
    throw new Error("no free run of ports found");
  });
});

describe("resource hygiene", () => {
  it("close() leaves no sockets, servers or timers behind", async () => {
    // Taken inside the test: vitest's own timeout timer is part of it.
    const baselineResources = process.getActiveResourcesInfo().filter(isNetworkOrTimer);
    const baseline = baselineResources.length;
    const devnet = await startDevnet();
    const garbage = await startGarbageServer();
    const clients = devnet.uris.map(clientFor);
    await Promise.all(clients.map((client) => getOrchestrator(client)));
    const [first, second] = devnet.orchestrators;
    first?.setBehaviour({ kind: "hang" });
    second?.setBehaviour({ kind: "delay", ms: 60_000 });
    const unanswered = [clients[0], clients[1]].map((client) => client && grpcFailure(getOrchestrator(client, {}, 60_000)));
    await grpcFailure(getOrchestrator(clientFor(garbage.uri)));
    expect(liveHandles()).toBeGreaterThan(baseline);

    await devnet.close();
    await devnet.close(); // idempotent
    await garbage.close();
    await Promise.all(unanswered);
    for (const client of [...openClients]) closeClient(client);

    for (let i = 0; i < 100 && liveHandles() > baseline; i++) await sleep(20);
    // Earlier tests' leftovers may still be winding down, so no kind of resource may exceed its baseline count.
    const after = countByKind(process.getActiveResourcesInfo().filter(isNetworkOrTimer));
    for (const [kind, count] of after) expect(count, kind).toBeLessThanOrEqual(countByKind(baselineResources).get(kind) ?? 0);
  });
});

/** Sockets, servers and timers; Immediates are excluded because they come and go within one loop turn. */
function isNetworkOrTimer(resource: string): boolean {
  return /TCP|TLS|Timeout|Pipe|HTTP2/i.test(resource);
}

function countByKind(resources: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resource of resources) counts.set(resource, (counts.get(resource) ?? 0) + 1);
  return counts;
}

function liveHandles(): number {
  return process.getActiveResourcesInfo().filter(isNetworkOrTimer).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The gateway end to end: simulated orchestrators over TLS gRPC, the gateway's own listeners, and every kind of
// client an application might use (Connect JSON and binary, gRPC from two stacks, gRPC-Web, plain HTTP).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { selfSignedCertificate } from "../src/devnet/cert.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import {
  GatewayService,
  PriceSource,
  type GetNetworkCapabilitiesResponse,
} from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../src/gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../src/gen/grpc/reflection/v1/reflection_pb.js";
import { silentLogger } from "../src/log.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";
import { parseGoJson } from "../src/api/gojson.js";

let gateway: Gateway;
let api: string;
let cli: string;

beforeAll(async () => {
  gateway = await startGateway(parseConfig(["-devnet", "-httpAddr", "127.0.0.1:0", "-cliAddr", "127.0.0.1:0"]), silentLogger());
  api = gateway.servers.api.url;
  cli = gateway.servers.cli?.url ?? "";
  await gateway.discovery.refreshNow();
});
afterAll(async () => {
  await gateway?.close();
});

function expectFullNetwork(response: GetNetworkCapabilitiesResponse): void {
  expect(response.orchestrators).toHaveLength(gateway.devnet?.uris.length ?? -1);
  expect(response.capabilitiesNames[28]).toBe("Image to image");
  expect(response.snapshotVersion).toBeGreaterThan(0n);
  const bravo = response.orchestrators.find((o) => o.offers.some((offer) => offer.price?.denominator === "3"));
  const subWei = bravo?.offers.find((offer) => offer.capability === "image-to-image");
  expect(subWei).toMatchObject({ price: { numerator: "1", denominator: "3" }, priceSource: PriceSource.EXACT });
  for (const entry of response.orchestrators) {
    expect(entry.observation?.reachable).toBe(true);
    expect(entry.observation?.lastSeen).toBeDefined();
    expect(entry.localAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(entry.capabilities?.bitstring.length).toBeGreaterThan(0);
  }
}

describe("GetNetworkCapabilities over every protocol on one port", () => {
  const transports: [string, () => Transport][] = [
    ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: api, httpVersion: "1.1", useBinaryFormat: false })],
    ["Connect binary over HTTP/2", () => createConnectTransport({ baseUrl: api, httpVersion: "2", useBinaryFormat: true })],
    ["Connect GET (side-effect free)", () => createConnectTransport({ baseUrl: api, httpVersion: "1.1", useHttpGet: true })],
    ["gRPC (connect-node client)", () => createGrpcTransport({ baseUrl: api })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: api, httpVersion: "1.1" })],
  ];
  it.each(transports)("%s", async (_name, transport) => {
    const client = createClient(GatewayService, transport());
    expectFullNetwork(await client.getNetworkCapabilities({}));
  });

  it("gRPC from @grpc/grpc-js", async () => {
    const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(GatewayService), "GatewayService");
    const client = new Client(new URL(api).host, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      getNetworkCapabilities: (req: object, cb: (err: grpc.ServiceError | null, res: GetNetworkCapabilitiesResponse) => void) => void;
    };
    try {
      const response = await new Promise<GetNetworkCapabilitiesResponse>((resolve, reject) =>
        client.getNetworkCapabilities({}, (err, res) => (err ? reject(err) : resolve(res))),
      );
      expectFullNetwork(response);
    } finally {
      client.close();
    }
  });

  it("filters by capability", async () => {
    const client = createClient(GatewayService, createConnectTransport({ baseUrl: api, httpVersion: "1.1" }));
    const response = await client.getNetworkCapabilities({ capability: "segmentation" });
    expect(response.orchestrators.length).toBeGreaterThanOrEqual(2);
    for (const entry of response.orchestrators) expect(entry.offers.map((o) => o.capability)).toContain("segmentation");
  });

  it("answers NOT_FOUND with similar names for an unknown capability", async () => {
    const client = createClient(GatewayService, createConnectTransport({ baseUrl: api, httpVersion: "1.1" }));
    const err = await client.getNetworkCapabilities({ capability: "segmentaton" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toMatch(/"segmentaton".*did you mean "segmentation"/);
  });

  it("answers INVALID_ARGUMENT naming the field for a malformed capability", async () => {
    const client = createClient(GatewayService, createConnectTransport({ baseUrl: api, httpVersion: "1.1" }));
    const err = ConnectError.from(await client.getNetworkCapabilities({ capability: "image to image" }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^capability "image to image"/);
  });
});

describe("go-livepeer's HTTP routes", () => {
  it.each([["CLI port", () => cli], ["API port", () => api]])("serves /getNetworkCapabilities in go-livepeer's JSON on the %s", async (_name, base) => {
    const response = await fetch(`${base()}/getNetworkCapabilities`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    expect(text.startsWith('{"capabilities_names":{"-1":"Unused","-2":"Invalid","0":"H.264"')).toBe(true);
    const body = parseGoJson(text) as { orchestrators: { orch_uri: string; capabilities_prices: { capability: bigint }[] | null }[] };
    expect(body.orchestrators).toHaveLength(gateway.devnet?.uris.length ?? -1);
    // BYOC capabilities appear as capability 37 entries, as go-livepeer lists them.
    expect(body.orchestrators.some((o) => o.capabilities_prices?.some((p) => p.capability === 37n))).toBe(true);
  });

  it("serves /healthz and /status", async () => {
    expect((await fetch(`${cli}/healthz`)).status).toBe(200);
    const status = (await (await fetch(`${cli}/status`)).json()) as { OrchestratorPool: string[]; Simulated: boolean };
    expect(status.Simulated).toBe(true);
    expect(status.OrchestratorPool).toHaveLength(gateway.devnet?.uris.length ?? -1);
  });

  it("answers 404 naming an unknown path", async () => {
    const response = await fetch(`${api}/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("/nope");
  });
});

describe("TLS on the API port", () => {
  it("serves Connect over HTTP/2 and HTTP/1.1 and gRPC on one TLS port", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gateway-tls-"));
    const { key, cert } = await selfSignedCertificate("localhost");
    await writeFile(join(dir, "key.pem"), key);
    await writeFile(join(dir, "cert.pem"), cert);
    const tlsGateway = await startGateway(
      parseConfig([
        "-orchAddr", gateway.devnet?.orchAddr ?? "",
        "-httpAddr", "127.0.0.1:0", "-cliAddr", "off",
        "-tlsCertFile", join(dir, "cert.pem"), "-tlsKeyFile", join(dir, "key.pem"),
      ]),
      silentLogger(),
    );
    try {
      await tlsGateway.discovery.refreshNow();
      const baseUrl = tlsGateway.servers.api.url;
      expect(baseUrl.startsWith("https://")).toBe(true);
      const insecure = { rejectUnauthorized: false };
      for (const transport of [
        createConnectTransport({ baseUrl, httpVersion: "2", nodeOptions: insecure }),
        createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: insecure }),
        createGrpcTransport({ baseUrl, nodeOptions: insecure }),
      ]) {
        const response = await createClient(GatewayService, transport).getNetworkCapabilities({});
        expect(response.orchestrators).toHaveLength(gateway.devnet?.uris.length ?? -1);
      }
    } finally {
      await tlsGateway.close();
    }
  });
});

describe("operational services on the gateway's port", () => {
  it("answers grpc.health.v1 Check as SERVING, and lists its services through reflection", async () => {
    const transport = createGrpcTransport({ baseUrl: api });
    const health = createClient(Health, transport);
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "livepeer.gateway.v1.GatewayService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const unknown = await health.check({ service: "no.such.Service" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(unknown?.code).toBe(Code.NotFound);
    const reflection = createClient(ServerReflection, transport);
    async function* one() {
      yield { host: "", messageRequest: { case: "listServices" as const, value: "" } };
    }
    const names: string[] = [];
    for await (const answer of reflection.serverReflectionInfo(one())) {
      if (answer.messageResponse.case === "listServicesResponse") names.push(...answer.messageResponse.value.service.map((s) => s.name));
    }
    expect(names).toEqual(expect.arrayContaining(["livepeer.gateway.v1.GatewayService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]));
  });
});

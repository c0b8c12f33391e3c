// grpc.health.v1.Health and gRPC server reflection (v1 and v1alpha), through connect-node's gRPC client, through
// @grpc/grpc-js, and through buf curl (a real reflection client).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen, type RequestHandler, type RunningServer } from "../src/api/listen.js";
import { HealthStatus, registerOperationalServices, ServingStatus } from "../src/api/operational-services.js";
import { GatewayService, PingResponseSchema } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import {
  Health,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../src/gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";

const GATEWAY = "livepeer.gateway.v1.GatewayService";

let server: RunningServer;
let health: HealthStatus;

beforeAll(async () => {
  health = new HealthStatus();
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(GatewayService, { ping: () => create(PingResponseSchema, {}) });
      registerOperationalServices(router, { services: [GatewayService], health });
    },
  }) as RequestHandler;
  server = await listen(handler, { host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server?.close(0);
});

function connectTransport() {
  return createGrpcTransport({ baseUrl: server.url });
}

/** Waits, boundedly, for a condition the server reaches after a client-side event. */
async function eventually(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

function decodeFiles(response: ServerReflectionResponse): FileDescriptorProto[] {
  expect(response.messageResponse.case).toBe("fileDescriptorResponse");
  if (response.messageResponse.case !== "fileDescriptorResponse") return [];
  return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

function listed(response: ServerReflectionResponse): string[] {
  expect(response.messageResponse.case).toBe("listServicesResponse");
  if (response.messageResponse.case !== "listServicesResponse") return [];
  return response.messageResponse.value.service.map((s) => s.name);
}

describe("grpc.health.v1.Health over connect-node's gRPC transport", () => {
  it("answers SERVING for the server and the gateway service, NOT_FOUND for an unknown service", async () => {
    const client = createClient(Health, connectTransport());
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await client.check({ service: GATEWAY })).status).toBe(ServingStatus.SERVING);
    const err = await client.check({ service: "no.such.Service" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toContain("no.such.Service");
  });

  it("lists every status", async () => {
    const client = createClient(Health, connectTransport());
    const { statuses } = await client.list({});
    expect(statuses[""]?.status).toBe(ServingStatus.SERVING);
    expect(statuses[GATEWAY]?.status).toBe(ServingStatus.SERVING);
  });

  it("Watch sends the status, then each change, and ends when the client cancels", async () => {
    const service = "test.watched.Service";
    health.set(service, ServingStatus.SERVING);
    const client = createClient(Health, connectTransport());
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    let ended: unknown;
    try {
      for await (const response of client.watch({ service }, { signal: abort.signal })) {
        seen.push(response.status);
        if (seen.length === 1) health.set(service, ServingStatus.NOT_SERVING);
        if (seen.length === 2) abort.abort();
      }
    } catch (err) {
      ended = err;
    }
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(ConnectError.from(ended).code).toBe(Code.Canceled);
    // The server let go of the watcher (the only one open).
    expect(await eventually(() => health.watcherCount === 0)).toBe(true);
    health.delete(service);
  });

  it("Watch answers SERVICE_UNKNOWN for an unknown service and keeps the stream open until it appears", async () => {
    const service = "test.later.Service";
    const client = createClient(Health, connectTransport());
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    try {
      for await (const response of client.watch({ service }, { signal: abort.signal })) {
        seen.push(response.status);
        if (seen.length === 1) health.set(service, ServingStatus.SERVING);
        if (seen.length === 2) abort.abort();
      }
    } catch (err) {
      expect(ConnectError.from(err).code).toBe(Code.Canceled);
    }
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING]);
    health.delete(service);
  });
});

type GrpcHealthClient = grpc.Client & {
  check(req: Partial<HealthCheckRequest>, cb: (err: grpc.ServiceError | null, res?: HealthCheckResponse) => void): void;
  watch(req: Partial<HealthCheckRequest>): grpc.ClientReadableStream<HealthCheckResponse>;
};
type GrpcReflectionClient = grpc.Client & {
  serverReflectionInfo(): grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse>;
};

describe("grpc.health.v1.Health over @grpc/grpc-js", () => {
  let client: GrpcHealthClient;
  beforeAll(() => {
    const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(Health), "Health");
    client = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as GrpcHealthClient;
  });
  afterAll(() => client.close());

  const check = (service: string) =>
    new Promise<{ err: grpc.ServiceError | null; res?: HealthCheckResponse }>((resolve) =>
      client.check({ service }, (err, res) => resolve({ err, res })),
    );

  it("Check", async () => {
    expect((await check("")).res?.status).toBe(ServingStatus.SERVING);
    expect((await check(GATEWAY)).res?.status).toBe(ServingStatus.SERVING);
    const unknown = await check("no.such.Service");
    expect(unknown.err?.code).toBe(grpc.status.NOT_FOUND);
  });

  it("Watch follows a change and ends on cancel", async () => {
    const service = "test.grpcjs.Service";
    health.set(service, ServingStatus.SERVING);
    const call = client.watch({ service });
    const seen: ServingStatus[] = [];
    const code = await new Promise<number>((resolve) => {
      call.on("data", (response: HealthCheckResponse) => {
        seen.push(response.status);
        if (seen.length === 1) health.set(service, ServingStatus.NOT_SERVING);
        if (seen.length === 2) call.cancel();
      });
      call.on("error", (err: grpc.ServiceError) => resolve(err.code));
      call.on("status", (status: grpc.StatusObject) => resolve(status.code));
    });
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(code).toBe(grpc.status.CANCELLED);
    expect(await eventually(() => health.watcherCount === 0)).toBe(true);
    health.delete(service);
  });
});

const EXPECTED_SERVICES = [
  GATEWAY,
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

function request(init: MessageInitShape<typeof ServerReflectionRequestSchema>): ServerReflectionRequest {
  return create(ServerReflectionRequestSchema, init);
}

const SEQUENCE: ServerReflectionRequest[] = [
  request({ host: "h", messageRequest: { case: "listServices", value: "*" } }),
  request({ messageRequest: { case: "fileContainingSymbol", value: GATEWAY } }),
  request({ messageRequest: { case: "fileByFilename", value: "net/lp_rpc.proto" } }),
  request({ messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } }),
  request({ messageRequest: { case: "fileByFilename", value: "no/such/file.proto" } }),
  request({ messageRequest: { case: "fileContainingSymbol", value: `${GATEWAY}.Ping` } }),
  request({ messageRequest: { case: "fileContainingSymbol", value: "google.protobuf.Duration" } }),
  request({ messageRequest: { case: "allExtensionNumbersOfType", value: "net.OrchestratorInfo" } }),
  request({
    messageRequest: { case: "fileContainingExtension", value: { containingType: "net.OrchestratorInfo", extensionNumber: 99 } },
  }),
];

function checkSequence(responses: ServerReflectionResponse[]): void {
  expect(responses).toHaveLength(SEQUENCE.length);
  const [list, symbol, byName, unknownSymbol, unknownFile, method, wkt, extNumbers, ext] = responses;

  expect(list!.validHost).toBe("h");
  expect(list!.originalRequest?.messageRequest.case).toBe("listServices");
  expect(listed(list!)).toEqual(expect.arrayContaining(EXPECTED_SERVICES));
  expect(listed(list!)).not.toContain("net.Orchestrator"); // defined in a file it uses, but not served

  const files = decodeFiles(symbol!);
  expect(files[0]?.name).toBe("livepeer/gateway/v1/gateway.proto");
  expect(files[0]?.service.map((s) => s.name)).toContain("GatewayService");
  const names = files.map((f) => f.name);
  expect(names).toEqual(
    expect.arrayContaining(["net/lp_rpc.proto", "google/protobuf/duration.proto", "google/protobuf/timestamp.proto"]),
  );
  expect(new Set(names).size).toBe(names.length);
  // Every dependency of every returned file is in the answer: a client can build the descriptors from it alone.
  for (const file of files) for (const dep of file.dependency) expect(names).toContain(dep);

  const lpRpc = decodeFiles(byName!);
  expect(lpRpc[0]?.name).toBe("net/lp_rpc.proto");
  expect(lpRpc[0]?.package).toBe("net");
  expect(lpRpc[0]?.messageType.some((m) => m.name === "OrchestratorInfo")).toBe(true);

  for (const [response, name] of [
    [unknownSymbol, "no.such.Symbol"],
    [unknownFile, "no/such/file.proto"],
  ] as const) {
    expect(response!.messageResponse.case).toBe("errorResponse");
    if (response!.messageResponse.case === "errorResponse") {
      expect(response!.messageResponse.value.errorCode).toBe(5);
      expect(response!.messageResponse.value.errorMessage).toContain(name);
    }
  }

  expect(decodeFiles(method!)[0]?.name).toBe("livepeer/gateway/v1/gateway.proto");
  expect(decodeFiles(wkt!)[0]?.name).toBe("google/protobuf/duration.proto");

  expect(extNumbers!.messageResponse.case).toBe("allExtensionNumbersResponse");
  if (extNumbers!.messageResponse.case === "allExtensionNumbersResponse") {
    expect(extNumbers!.messageResponse.value.baseTypeName).toBe("net.OrchestratorInfo");
    expect(extNumbers!.messageResponse.value.extensionNumber).toEqual([]);
  }
  expect(ext!.messageResponse.case).toBe("errorResponse");
  if (ext!.messageResponse.case === "errorResponse") expect(ext!.messageResponse.value.errorCode).toBe(5);
}

describe("server reflection over connect-node's gRPC transport", () => {
  it("v1: several requests on one stream, answered in order, then the stream ends", async () => {
    const client = createClient(ServerReflection, connectTransport());
    async function* requests() {
      yield* SEQUENCE;
    }
    const responses: ServerReflectionResponse[] = [];
    for await (const response of client.serverReflectionInfo(requests())) responses.push(response);
    checkSequence(responses);
  });

  it("v1alpha: the same", async () => {
    const client = createClient(ServerReflectionV1alpha, connectTransport());
    async function* requests() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: GATEWAY } };
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "no.such.Symbol" } };
    }
    const responses = [];
    for await (const response of client.serverReflectionInfo(requests())) responses.push(response);
    expect(responses.map((r) => r.messageResponse.case)).toEqual([
      "listServicesResponse",
      "fileDescriptorResponse",
      "errorResponse",
    ]);
    const [list, symbol, unknown] = responses;
    if (list?.messageResponse.case === "listServicesResponse") {
      expect(list.messageResponse.value.service.map((s) => s.name)).toEqual(expect.arrayContaining(EXPECTED_SERVICES));
    }
    if (symbol?.messageResponse.case === "fileDescriptorResponse") {
      const names = symbol.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
      expect(names[0]).toBe("livepeer/gateway/v1/gateway.proto");
      expect(names).toContain("net/lp_rpc.proto");
    }
    if (unknown?.messageResponse.case === "errorResponse") expect(unknown.messageResponse.value.errorCode).toBe(5);
  });

  it("answers each request before the next one is sent", async () => {
    const client = createClient(ServerReflection, connectTransport());
    // Requests are produced only after the previous answer arrived: the server answers as it reads.
    let answered = 0;
    const waiters: Array<() => void> = [];
    async function* requests() {
      for (let i = 0; i < 3; i++) {
        if (answered < i) await new Promise<void>((resolve) => waiters.push(resolve));
        yield request({ messageRequest: { case: "listServices", value: "" } });
      }
    }
    const responses: ServerReflectionResponse[] = [];
    for await (const response of client.serverReflectionInfo(requests())) {
      responses.push(response);
      answered++;
      waiters.shift()?.();
    }
    expect(responses.map((r) => r.messageResponse.case)).toEqual(Array(3).fill("listServicesResponse"));
  });
});

describe("server reflection over @grpc/grpc-js", () => {
  for (const service of [ServerReflection, ServerReflectionV1alpha]) {
    it(`${service.typeName}: several requests on one stream`, async () => {
      // v1alpha has the same messages under another package name: the v1 messages serialize to its wire format.
      const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), "ServerReflection");
      const client = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as GrpcReflectionClient;
      try {
        const call = client.serverReflectionInfo();
        const responses: ServerReflectionResponse[] = [];
        const done = new Promise<grpc.StatusObject>((resolve, reject) => {
          call.on("data", (response: ServerReflectionResponse) => responses.push(response));
          call.on("error", reject);
          call.on("status", resolve);
        });
        for (const req of SEQUENCE) call.write(req);
        call.end();
        const status = await done;
        expect(status.code).toBe(grpc.status.OK);
        checkSequence(responses);
      } finally {
        client.close();
      }
    });
  }
});

const BUF = join(process.cwd(), "node_modules", ".bin", "buf");

describe.skipIf(!existsSync(BUF))("buf curl, a real reflection client", () => {
  const run = promisify(execFile);
  const flags = () => ["--protocol", "grpc", "--http2-prior-knowledge"];

  it("lists the services", async () => {
    const { stdout } = await run(BUF, ["curl", "--list-services", ...flags(), server.url], { timeout: 15_000 });
    const services = stdout.split("\n").filter((line) => line !== "");
    expect(services).toEqual(expect.arrayContaining(EXPECTED_SERVICES));
  });

  it("calls Health/Check with the schema it got by reflection", async () => {
    const { stdout } = await run(
      BUF,
      ["curl", ...flags(), "-d", JSON.stringify({ service: GATEWAY }), `${server.url}/grpc.health.v1.Health/Check`],
      { timeout: 15_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("lists the methods of every service, from the descriptors it got by reflection", async () => {
    const { stdout } = await run(BUF, ["curl", "--list-methods", ...flags(), server.url], { timeout: 15_000 });
    const methods = stdout.split("\n").filter((line) => line !== "");
    expect(methods).toEqual(
      expect.arrayContaining([`${GATEWAY}/Ping`, `${GATEWAY}/SubmitJobStream`, "grpc.health.v1.Health/Watch"]),
    );
  });
});

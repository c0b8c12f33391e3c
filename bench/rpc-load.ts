// The load generator of the RPC benchmark, run as a child process so that clients and the gateway do not share an
// event loop. It keeps one client per transport (connections stay warm between runs) and answers the parent's
// requests over IPC: a LoadRequest in, { id, result: LoadResult } out.
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { GatewayService, type RouteRequestSchema } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";
import { BARE_GRPC_JS, CONNECT_NODE_ALONE, UNDECODED_GRPC_JS, type LoadRequest, type LoadResult, type LoadTarget, type RpcName } from "./route-rpc.js";

type Calls = Record<RpcName, () => Promise<unknown>>;
type RouteRequestInit = MessageInitShape<typeof RouteRequestSchema>;

function connectCalls(transport: ReturnType<typeof createGrpcTransport>, routeRequest: RouteRequestInit): Calls {
  const client = createClient(GatewayService, transport);
  return { Ping: () => client.ping({}), Route: () => client.route(routeRequest) };
}

type UnaryMethod = (request: object, callback: (err: grpc.ServiceError | null, response: unknown) => void) => void;

/** The service as grpc-js clients call it; `decodeAnswers: false` keeps each answer as the bytes received. */
function serviceDefinition(decodeAnswers: boolean): grpc.ServiceDefinition {
  const definition = grpcServiceDefinition(GatewayService);
  if (decodeAnswers) return definition;
  const undecoded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) undecoded[name] = { ...method, responseDeserialize: (bytes: Buffer) => bytes };
  return undecoded as grpc.ServiceDefinition;
}

function grpcJsCalls(baseUrl: string, routeRequest: RouteRequestInit, decodeAnswers = true): Calls {
  const Client = grpc.makeGenericClientConstructor(serviceDefinition(decodeAnswers), "GatewayService");
  const client = new Client(new URL(baseUrl).host, grpc.credentials.createInsecure()) as unknown as Record<"ping" | "route", UnaryMethod>;
  const unary = (method: UnaryMethod, request: object) => () =>
    new Promise((resolve, reject) => method.call(client, request, (err, response) => (err ? reject(err) : resolve(response))));
  return { Ping: unary(client.ping, {}), Route: unary(client.route, routeRequest) };
}

function describeError(err: unknown): string {
  if (err instanceof ConnectError) return `${Code[err.code]}: ${err.rawMessage}`;
  const status = (err as Partial<grpc.ServiceError>).code;
  if (typeof status === "number") return `${grpc.status[status]}: ${(err as grpc.ServiceError).details}`;
  return String(err);
}

/** `concurrency` callers, each sending its next call when the last one answered, until time or calls run out. */
async function closedLoop(call: () => Promise<unknown>, request: LoadRequest): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, errors: 0, elapsedMs: 0, cpuMs: 0 };
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + request.durationMs;
  let sent = 0;
  const caller = async (): Promise<void> => {
    while (sent < request.maxCalls && performance.now() < deadline) {
      sent++;
      try {
        await call();
        result.ok++;
      } catch (err) {
        result.errors++;
        result.firstError ??= describeError(err);
      }
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, caller));
  result.elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  result.cpuMs = (used.user + used.system) / 1_000;
  return result;
}

function main(): void {
  const [baseUrl, routeJson, bareGrpcJsUrl, connectNodeUrl] = process.argv.slice(2);
  if (baseUrl === undefined || routeJson === undefined || bareGrpcJsUrl === undefined || connectNodeUrl === undefined || process.send === undefined) {
    throw new Error("started by route-rpc.ts: rpc-load.ts <baseUrl> <RouteRequest as JSON> <bare grpc-js server URL> <connect-node server URL>, with an IPC channel");
  }
  const route = JSON.parse(routeJson) as RouteRequestInit;
  const clients: Record<LoadTarget, Calls> = {
    "gRPC (connect-node, h2c)": connectCalls(createGrpcTransport({ baseUrl }), route),
    "gRPC (@grpc/grpc-js)": grpcJsCalls(baseUrl, route),
    [UNDECODED_GRPC_JS]: grpcJsCalls(baseUrl, route, false),
    "Connect JSON (HTTP/1.1)": connectCalls(createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }), route),
    // The same grpc-js client against a bare grpc-js server: only Ping is served there.
    [BARE_GRPC_JS]: grpcJsCalls(bareGrpcJsUrl, route),
    // The same Connect client against connect-node alone: only Ping is served there.
    [CONNECT_NODE_ALONE]: connectCalls(createConnectTransport({ baseUrl: connectNodeUrl, httpVersion: "1.1", useBinaryFormat: false }), route),
  };
  process.on("message", (request: LoadRequest) => {
    void closedLoop(clients[request.transport][request.rpc], request).then((result) => process.send?.({ id: request.id, result }));
  });
  // The parent closing the channel is the signal to go; grpc-js channels would otherwise keep the process alive.
  process.on("disconnect", () => process.exit(0));
}

main();

// gRPC unary calls answered straight from HTTP/2 streams (src/api/grpc-unary-streams.ts): the same answers, headers,
// trailers and errors a client gets from connect-node, and everything the fast path does not take still reaches
// connect-node on the same port.
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clientAddressKey, clientContextValues } from "../src/api/client-address.js";
import { grpcUnaryStreamHandler, recordUnaryRoutes, type UnaryRoutes } from "../src/api/grpc-unary-streams.js";
import { listen, type RequestHandler, type RunningServer } from "../src/api/listen.js";
import {
  CapabilityOfferingSchema,
  GatewayService,
  ListOfferingsRequestSchema,
  ListOfferingsResponseSchema,
  PingResponseSchema,
  ReportOutcomeResponseSchema,
  SubmitJobResponseSchema,
  type ListOfferingsResponse,
  type SubmitJobResponse,
} from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";

const READ_MAX_BYTES = 64 * 1024;
const COMPRESS_MIN_BYTES = 16 * 1024;

let server: RunningServer;
/** Requests that reached connect-node (through Node's compatibility layer) rather than the stream handler. */
let connectRequests = 0;
/** What ReportOutcome's implementation saw its signal aborted with. */
let abortReason: unknown;
let abortSeen: Promise<void>;
let markAborted: () => void;
let callStarted: Promise<void>;
let markStarted: () => void;

function resetAbortWatch(): void {
  abortReason = undefined;
  abortSeen = new Promise((resolve) => (markAborted = resolve));
  callStarted = new Promise((resolve) => (markStarted = resolve));
}

const implementation = {
  ping: () => create(PingResponseSchema, {}),
  listOfferings: (request: { capability: string }) => {
    // A large answer: over the compression threshold; "huge" is also over the size up to which it is copied whole.
    const offerings = Array.from({ length: request.capability === "huge" ? 1_000 : 400 }, (_, i) => create(CapabilityOfferingSchema, { capability: `${request.capability}-${i}-${"x".repeat(60)}` }));
    return create(ListOfferingsResponseSchema, { offerings });
  },
  getCapabilityHealth: (request: { capability: string }) => {
    if (request.capability === "crash") throw new Error("a secret stack detail");
    throw new ConnectError(`no capability "${request.capability}"; did you mean "depth"? 100% sure & more`, Code.NotFound);
  },
  submitJob: (request: { job?: { body: Uint8Array } }, context: HandlerContext) => {
    context.responseHeader.set("x-request-id", "req-1");
    context.responseHeader.set("x-client", context.values.get(clientAddressKey));
    context.responseHeader.set("x-echo", context.requestHeader.get("x-echo") ?? "");
    context.responseHeader.set("x-pseudo-headers", [...context.requestHeader.keys()].filter((name) => name.startsWith(":")).join(","));
    const timeoutMs = context.timeoutMs();
    context.responseTrailer.set("x-deadline-known", String(timeoutMs !== undefined && timeoutMs > 0 && timeoutMs <= 60_000));
    return create(SubmitJobResponseSchema, { body: request.job?.body ?? new Uint8Array() });
  },
  reportOutcome: async (_request: unknown, context: HandlerContext) => {
    markStarted();
    await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
    abortReason = context.signal.reason;
    markAborted();
    return create(ReportOutcomeResponseSchema, {});
  },
};

beforeAll(async () => {
  const routes: UnaryRoutes = new Map();
  const connect = connectNodeAdapter({
    routes: (router) => {
      recordUnaryRoutes(router, routes).service(GatewayService, implementation);
    },
    readMaxBytes: READ_MAX_BYTES,
    compressMinBytes: COMPRESS_MIN_BYTES,
    contextValues: clientContextValues,
  }) as RequestHandler;
  const request: RequestHandler = (req, res) => {
    connectRequests++;
    connect(req, res);
  };
  const stream = grpcUnaryStreamHandler(routes, {
    readMaxBytes: READ_MAX_BYTES,
    compressMinBytes: COMPRESS_MIN_BYTES,
    contextValues: (s) => clientContextValues(s.session ?? {}),
  });
  server = await listen(request, { host: "127.0.0.1", port: 0, streamHandler: stream });
});

afterAll(async () => {
  await server?.close(0);
});

type Callback<T> = (err: grpc.ServiceError | null, response: T) => void;
type UnaryCall<T> = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<T>) => grpc.ClientUnaryCall;
type GrpcJsClient = grpc.Client & Record<"ping" | "listOfferings" | "getCapabilityHealth" | "submitJob" | "reportOutcome", UnaryCall<unknown>>;

let clients: grpc.Client[] = [];
afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
});

function grpcJsClient(options: grpc.ChannelOptions = {}): GrpcJsClient {
  const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(GatewayService), "GatewayService");
  const client = new Client(new URL(server.url).host, grpc.credentials.createInsecure(), options) as unknown as GrpcJsClient;
  clients.push(client);
  return client;
}

interface CallResult<T> {
  response?: T;
  error?: grpc.ServiceError;
  headers?: grpc.Metadata;
  trailers?: grpc.Metadata;
}

function call<T>(method: UnaryCall<unknown>, request: object, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<CallResult<T>> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    const pending = method(request, metadata, options, (error, response) =>
      // The status (with its trailers) is reported before the callback runs.
      setImmediate(() => resolve(error ? { error, headers, trailers } : { response: response as T, headers, trailers })),
    );
    pending.on("metadata", (received: grpc.Metadata) => (headers = received));
    pending.on("status", (status: grpc.StatusObject) => (trailers = status.metadata));
  });
}

/** A gRPC length-prefixed message. */
function envelope(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = flags;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** One raw gRPC POST on `session`: what came back (response headers, body, trailers) once the trailers are in. */
async function exchange(
  session: http2.ClientHttp2Session,
  path: string,
  body: Buffer,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
  const response = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
  stream.end(body);
  return { trailers: await trailers, headers: await response, body: Buffer.concat(chunks) };
}

describe("gRPC unary calls from @grpc/grpc-js", () => {
  it("are answered from the stream, without the compatibility layer", async () => {
    const client = grpcJsClient();
    const before = connectRequests;
    const result = await call(client.ping.bind(client), {});
    expect(result.error).toBeUndefined();
    expect(result.headers?.get("content-type")).toEqual(["application/grpc+proto"]);
    expect(connectRequests).toBe(before);
  });

  it("carry the request's message and deadline, headers and trailers set by the implementation, and the client's address", async () => {
    const client = grpcJsClient();
    const metadata = new grpc.Metadata();
    metadata.set("x-echo", "hello");
    const body = new TextEncoder().encode("job body bytes");
    const result = await call<SubmitJobResponse>(client.submitJob.bind(client), { job: { body } }, metadata, { deadline: Date.now() + 30_000 });
    expect(result.error).toBeUndefined();
    expect(result.headers?.get("x-pseudo-headers")).toEqual([""]);
    expect(result.trailers?.get("x-deadline-known")).toEqual(["true"]);
    expect(Buffer.from(result.response?.body ?? []).toString()).toBe("job body bytes");
    expect(result.headers?.get("x-request-id")).toEqual(["req-1"]);
    expect(result.headers?.get("x-echo")).toEqual(["hello"]);
    expect(result.headers?.get("x-client")).toEqual(["127.0.0.1"]);
  });

  it("return a ConnectError's code and message exactly as written, escapes included", async () => {
    const client = grpcJsClient();
    const result = await call(client.getCapabilityHealth.bind(client), { capability: "nope" });
    expect(result.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(result.error?.details).toBe('no capability "nope"; did you mean "depth"? 100% sure & more');
  });

  it("answer INTERNAL with a generic message when an implementation throws something else", async () => {
    const client = grpcJsClient();
    const result = await call(client.getCapabilityHealth.bind(client), { capability: "crash" });
    expect(result.error?.code).toBe(grpc.status.INTERNAL);
    expect(result.error?.details).toBe("internal error");
  });

  it("gzip a large answer when the client accepts gzip, and the client reads it back whole", async () => {
    const client = grpcJsClient();
    const before = connectRequests;
    const result = await call<ListOfferingsResponse>(client.listOfferings.bind(client), { capability: "big" });
    expect(result.error).toBeUndefined();
    expect(result.response?.offerings).toHaveLength(400);
    expect(result.response?.offerings[399]?.capability).toBe(`big-399-${"x".repeat(60)}`);
    expect(connectRequests).toBe(before);
  });

  it("refuse a request over readMaxBytes with RESOURCE_EXHAUSTED", async () => {
    const client = grpcJsClient({ "grpc.max_send_message_length": -1 });
    const body = new Uint8Array(READ_MAX_BYTES + 1);
    const result = await call(client.submitJob.bind(client), { job: { body } });
    expect(result.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(result.error?.details).toContain("readMaxBytes");
  });

  it("abort the implementation's signal when the client's deadline passes", async () => {
    resetAbortWatch();
    const client = grpcJsClient();
    const result = await call(client.reportOutcome.bind(client), {}, new grpc.Metadata(), { deadline: Date.now() + 300 });
    expect(result.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await abortSeen;
    // grpc-js also resets the stream at its deadline, which races the server's own timer: either reason may come first.
    expect([Code.DeadlineExceeded, Code.Canceled]).toContain(ConnectError.from(abortReason).code);
  });

  it("abort the implementation's signal with DEADLINE_EXCEEDED at the grpc-timeout the request carries", async () => {
    resetAbortWatch();
    const session = http2.connect(server.url);
    try {
      // A client that leaves the deadline to the server: only the server's timer can end the call.
      const exchanged = exchange(session, "/livepeer.gateway.v1.GatewayService/ReportOutcome", envelope(new Uint8Array(0)), { "grpc-timeout": "300m" });
      await abortSeen;
      expect(ConnectError.from(abortReason).code).toBe(Code.DeadlineExceeded);
      // The implementation here answers once aborted, and that answer is sent.
      expect((await exchanged).trailers["grpc-status"]).toBe("0");
    } finally {
      session.close();
    }
  });

  it("abort the implementation's signal when the client cancels the call", async () => {
    resetAbortWatch();
    const client = grpcJsClient();
    const result = new Promise<grpc.ServiceError | null>((resolve) => {
      const pending = client.reportOutcome({}, new grpc.Metadata(), {}, (error) => resolve(error));
      void callStarted.then(() => pending.cancel());
    });
    expect((await result)?.code).toBe(grpc.status.CANCELLED);
    await abortSeen;
    expect(ConnectError.from(abortReason).code).toBe(Code.Canceled);
  });

  it("leave compressed requests to connect-node, which answers them", async () => {
    const client = grpcJsClient({ "grpc.default_compression_algorithm": 2 }); // gzip
    const before = connectRequests;
    const result = await call<SubmitJobResponse>(client.submitJob.bind(client), { job: { body: new TextEncoder().encode("zipped") } });
    expect(result.error).toBeUndefined();
    expect(Buffer.from(result.response?.body ?? []).toString()).toBe("zipped");
    expect(connectRequests).toBe(before + 1);
  });
});

describe("what the stream handler leaves to connect-node on the same port", () => {
  it("serves Connect, gRPC-Web and connect-node's own gRPC client", async () => {
    const before = connectRequests;
    for (const transport of [
      createConnectTransport({ baseUrl: server.url, httpVersion: "2" }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "2" }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ]) {
      const response = await createClient(GatewayService, transport).listOfferings({ capability: "web" });
      expect(response.offerings).toHaveLength(400);
    }
    expect(connectRequests).toBe(before + 3);
    // connect-node's gRPC client sends application/grpc+proto uncompressed: the stream handler takes it.
    const err = await createClient(GatewayService, createGrpcTransport({ baseUrl: server.url }))
      .getCapabilityHealth({ capability: "x" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toContain('no capability "x"; did you mean "depth"?');
    expect(connectRequests).toBe(before + 3);
  });
});

describe("malformed gRPC requests", () => {
  /** Sends raw bytes as a gRPC request body and returns the status trailers. */
  async function rawCall(path: string, body: Buffer): Promise<{ status?: string; message?: string }> {
    const session = http2.connect(server.url);
    try {
      const { trailers } = await exchange(session, path, body);
      return { status: trailers["grpc-status"] as string, message: trailers["grpc-message"] as string };
    } finally {
      session.close();
    }
  }

  const path = "/livepeer.gateway.v1.GatewayService/ListOfferings";
  const message = toBinary(ListOfferingsRequestSchema, create(ListOfferingsRequestSchema, { capability: "a" }));

  it("answers the well-formed request", async () => {
    expect((await rawCall(path, envelope(message))).status).toBe("0");
  });

  it("writes an answer too large to copy after its envelope's prefix, and the bytes are the message", async () => {
    const huge = toBinary(ListOfferingsRequestSchema, create(ListOfferingsRequestSchema, { capability: "huge" }));
    const session = http2.connect(server.url);
    try {
      const { trailers, body } = await exchange(session, path, envelope(huge));
      expect(trailers["grpc-status"]).toBe("0");
      expect(body[0]).toBe(0);
      expect(body.readUInt32BE(1)).toBe(body.length - 5);
      expect(body.length).toBeGreaterThan(64 * 1024);
      const answer = fromBinary(ListOfferingsResponseSchema, body.subarray(5));
      expect(answer.offerings).toHaveLength(1_000);
      expect(answer.offerings[999]?.capability).toBe(`huge-999-${"x".repeat(60)}`);
    } finally {
      session.close();
    }
  });

  it("gzips a large answer only for a client that accepts gzip", async () => {
    const session = http2.connect(server.url);
    try {
      for (const accept of ["gzip", undefined]) {
        const { trailers, headers, body } = await exchange(session, path, envelope(message), accept ? { "grpc-accept-encoding": accept } : {});
        expect(trailers["grpc-status"]).toBe("0");
        expect(headers["grpc-encoding"]).toBe(accept);
        expect(body[0]).toBe(accept ? 1 : 0);
        expect(body.readUInt32BE(1)).toBe(body.length - 5);
        if (!accept) expect(body.length).toBeGreaterThan(COMPRESS_MIN_BYTES);
      }
    } finally {
      session.close();
    }
  });

  it("names a missing message, a second message, a cut envelope, a compressed flag without encoding and bad bytes", async () => {
    expect(await rawCall(path, Buffer.alloc(0))).toEqual({ status: String(Code.Unimplemented), message: "protocol error: missing input message for unary method" });
    expect(await rawCall(path, Buffer.concat([envelope(message), envelope(message)]))).toEqual({
      status: String(Code.Unimplemented),
      message: "protocol error: received extra input message for unary method",
    });
    expect(await rawCall(path, envelope(message).subarray(0, 7))).toEqual({ status: String(Code.InvalidArgument), message: "protocol error: incomplete envelope" });
    expect((await rawCall(path, envelope(message, 1))).status).toBe(String(Code.Internal));
    const garbage = await rawCall(path, envelope(Buffer.from([0xff, 0xff, 0xff])));
    expect(garbage.status).toBe(String(Code.Internal));
    expect(garbage.message).toContain("parse binary");
  });
});

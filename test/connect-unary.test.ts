// Connect unary calls answered without connect-node's universal handler (src/api/connect-unary.ts): every request
// here goes both to a server of connect-node alone and to one with the fast path in front, over HTTP/1.1 and HTTP/2,
// and the two answers must match (status, headers, body). What the fast path leaves alone must still reach
// connect-node.
import http from "node:http";
import http2 from "node:http2";
import { gunzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAddressKey, clientContextValues } from "../src/api/client-address.js";
import { connectUnaryHandlers } from "../src/api/connect-unary.js";
import { recordUnaryRoutes, type UnaryRoutes } from "../src/api/grpc-unary-streams.js";
import { listen, type RequestHandler, type RunningServer } from "../src/api/listen.js";
import { reusable } from "../src/api/reusable-answers.js";
import {
  CapabilityOfferingSchema,
  GatewayService,
  ListOfferingsRequestSchema,
  ListOfferingsResponseSchema,
  PingResponseSchema,
  ReportOutcomeResponseSchema,
  SubmitJobResponseSchema,
} from "../src/gen/livepeer/gateway/v1/gateway_pb.js";

const READ_MAX_BYTES = 64 * 1024;
const COMPRESS_MIN_BYTES = 16 * 1024;
const PREFIX = "/livepeer.gateway.v1.GatewayService";

/** One large answer handed out again and again, as a network listing is. */
const KEPT_LISTING = reusable(
  create(ListOfferingsResponseSchema, {
    offerings: Array.from({ length: 300 }, (_, i) => create(CapabilityOfferingSchema, { capability: `kept-${i}-${"y".repeat(60)}` })),
  }),
);

let abortSeen: Promise<unknown>;
let markAborted: (reason: unknown) => void;
let callStarted: Promise<void>;
let markStarted: () => void;

function resetAbortWatch(): void {
  abortSeen = new Promise((resolve) => (markAborted = resolve));
  callStarted = new Promise((resolve) => (markStarted = resolve));
}
resetAbortWatch();

const implementation = {
  ping: () => create(PingResponseSchema, {}),
  listOfferings: (request: { capability: string }) => {
    if (request.capability === "kept") return KEPT_LISTING;
    // Over the compression threshold; a plain object, which connect turns into the message.
    return { offerings: Array.from({ length: 400 }, (_, i) => ({ capability: `${request.capability}-${i}-${"x".repeat(60)}` })) };
  },
  getCapabilityHealth: (request: { capability: string }) => {
    if (request.capability === "crash") throw new Error("a secret stack detail");
    throw new ConnectError(`no capability "${request.capability}"; did you mean "depth"? 100% sure & more`, Code.NotFound, { "x-hint": "depth" });
  },
  submitJob: (request: { job?: { body: Uint8Array } }, context: HandlerContext) => {
    context.responseHeader.set("x-request-id", "req-1");
    context.responseHeader.set("x-client", context.values.get(clientAddressKey));
    context.responseHeader.set("x-echo", context.requestHeader.get("x-echo") ?? "");
    context.responseHeader.set("x-protocol", context.protocolName);
    const timeoutMs = context.timeoutMs();
    context.responseTrailer.set("x-deadline-known", String(timeoutMs !== undefined && timeoutMs > 0 && timeoutMs <= 60_000));
    return create(SubmitJobResponseSchema, { body: request.job?.body ?? new Uint8Array() });
  },
  reportOutcome: async (_request: unknown, context: HandlerContext) => {
    markStarted();
    await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
    markAborted(context.signal.reason);
    return create(ReportOutcomeResponseSchema, {});
  },
};

let reference: RunningServer;
let fast: RunningServer;
/** Requests the fast path left to connect-node. */
let leftToConnect = 0;

function connectAdapter(routes?: UnaryRoutes): RequestHandler {
  return connectNodeAdapter({
    routes: (router) => {
      (routes ? recordUnaryRoutes(router, routes) : router).service(GatewayService, implementation);
    },
    readMaxBytes: READ_MAX_BYTES,
    compressMinBytes: COMPRESS_MIN_BYTES,
    contextValues: clientContextValues,
  }) as RequestHandler;
}

beforeAll(async () => {
  reference = await listen(connectAdapter(), { host: "127.0.0.1", port: 0 });
  const routes: UnaryRoutes = new Map();
  const connect = connectAdapter(routes);
  const unary = connectUnaryHandlers(routes, { readMaxBytes: READ_MAX_BYTES, compressMinBytes: COMPRESS_MIN_BYTES, contextValues: clientContextValues });
  fast = await listen(
    (req, res) => {
      if (req instanceof http.IncomingMessage && unary.request(req, res as http.ServerResponse)) return;
      leftToConnect++;
      connect(req, res);
    },
    { host: "127.0.0.1", port: 0, streamHandler: unary.stream },
  );
});

afterAll(async () => {
  await Promise.all([reference?.close(0), fast?.close(0)]);
});

interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** HTTP/1.1 only: send the body chunked, without a content-length. */
  chunked?: boolean;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Headers that say nothing about the call: the connection's, and the clock's. */
const TRANSPORT_HEADERS = new Set(["date", "connection", "keep-alive", "transfer-encoding"]);

function answerHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(":") || TRANSPORT_HEADERS.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function http1(server: RunningServer, request: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
    const headers = { ...request.headers, ...(request.chunked ? {} : { "content-length": String(body.length) }) };
    const req = http.request(`${server.url}${request.path}`, { method: request.method ?? "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: answerHeaders(res.headers), body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    if (request.chunked) req.write(body.subarray(0, 1));
    req.end(request.chunked ? body.subarray(1) : body);
  });
}

function http2Call(server: RunningServer, request: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({ ":method": request.method ?? "POST", ":path": request.path, ...request.headers });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on("response", (received) => (headers = received));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      session.close();
      resolve({ status: Number(headers[":status"]), headers: answerHeaders(headers), body: Buffer.concat(chunks) });
    });
    stream.on("error", reject);
    stream.end(request.body === undefined ? undefined : Buffer.from(request.body));
  });
}

const VERSIONS = [
  ["HTTP/1.1", http1],
  ["HTTP/2", http2Call],
] as const;

/** The same request to connect-node alone and to the fast path; returns both answers. */
async function both(send: (server: RunningServer, request: RawRequest) => Promise<RawAnswer>, request: RawRequest): Promise<[RawAnswer, RawAnswer]> {
  return [await send(reference, request), await send(fast, request)];
}

const jsonType = { "content-type": "application/json" };
const proto = { "content-type": "application/proto" };

/** Requests the fast path takes: its answers must be connect-node's, byte for byte. */
const SAME_ANSWERS: Array<[string, RawRequest]> = [
  ["an empty binary request", { path: `${PREFIX}/Ping`, headers: proto }],
  ["a JSON request", { path: `${PREFIX}/Ping`, headers: jsonType, body: "{}" }],
  ["JSON with a charset", { path: `${PREFIX}/Ping`, headers: { "content-type": "application/json; charset=utf-8" }, body: "{}" }],
  ["JSON with an unknown field (ignored, as connect does)", { path: `${PREFIX}/Ping`, headers: jsonType, body: '{"nope":1}' }],
  ["JSON that does not parse", { path: `${PREFIX}/Ping`, headers: jsonType, body: "{" }],
  ["JSON of the wrong type", { path: `${PREFIX}/ListOfferings`, headers: jsonType, body: '{"capability":7}' }],
  ["binary that does not parse", { path: `${PREFIX}/ListOfferings`, headers: proto, body: Buffer.from([0xff, 0xff, 0xff]) }],
  ["a ConnectError with metadata", { path: `${PREFIX}/GetCapabilityHealth`, headers: jsonType, body: '{"capability":"nope"}' }],
  ["a thrown Error", { path: `${PREFIX}/GetCapabilityHealth`, headers: proto, body: "" }],
  ["a large answer, uncompressed", { path: `${PREFIX}/ListOfferings`, headers: jsonType, body: '{"capability":"big"}' }],
  ["a large answer, brotli first", { path: `${PREFIX}/ListOfferings`, headers: { ...proto, "accept-encoding": "br, gzip" }, body: "" }],
  ["a small answer, gzip accepted", { path: `${PREFIX}/GetCapabilityHealth`, headers: { ...proto, "accept-encoding": "gzip" }, body: "" }],
  ["an unknown encoding accepted only", { path: `${PREFIX}/ListOfferings`, headers: { ...proto, "accept-encoding": "zstd" }, body: "" }],
  ["a reusable answer in JSON", { path: `${PREFIX}/ListOfferings`, headers: jsonType, body: '{"capability":"kept"}' }],
  ["a reusable answer in binary", { path: `${PREFIX}/ListOfferings`, headers: proto, body: toBinary(ListOfferingsRequestSchema, create(ListOfferingsRequestSchema, { capability: "kept" })) }],
  [
    "headers and trailers set by the implementation",
    { path: `${PREFIX}/SubmitJob`, headers: { ...jsonType, "x-echo": "hello", "connect-timeout-ms": "30000" }, body: '{"job":{"body":"aGk="}}' },
  ],
  ["a timeout that does not parse", { path: `${PREFIX}/SubmitJob`, headers: { ...jsonType, "connect-timeout-ms": "soon" }, body: "{}" }],
  ["a body over readMaxBytes", { path: `${PREFIX}/SubmitJob`, headers: proto, body: Buffer.alloc(READ_MAX_BYTES + 1) }],
  ["a GET in JSON", { method: "GET", path: `${PREFIX}/ListOfferings?connect=v1&encoding=json&message=${encodeURIComponent('{"capability":"kept"}')}` }],
  [
    "a GET in binary, base64",
    {
      method: "GET",
      path: `${PREFIX}/ListOfferings?encoding=proto&base64=1&message=${Buffer.from(toBinary(ListOfferingsRequestSchema, create(ListOfferingsRequestSchema, { capability: "g" }))).toString("base64url")}`,
      headers: { "accept-encoding": "gzip" },
    },
  ],
  ["a GET with no message", { method: "GET", path: `${PREFIX}/Ping?encoding=json` }],
  ["a GET whose message does not parse", { method: "GET", path: `${PREFIX}/GetCapabilityHealth?encoding=json&message=%7B` }],
];

describe("Connect unary calls on the fast path", () => {
  for (const [version, send] of VERSIONS) {
    for (const [what, request] of SAME_ANSWERS) {
      it(`${version}: ${what} gets connect-node's answer`, async () => {
        const before = leftToConnect;
        const [expected, actual] = await both(send, request);
        expect(leftToConnect).toBe(before);
        expect(actual).toEqual(expected);
      });
    }
  }

  it("HTTP/1.1: a chunked body over readMaxBytes is refused in connect's words", async () => {
    const request = { path: `${PREFIX}/SubmitJob`, headers: proto, body: Buffer.alloc(READ_MAX_BYTES + 1), chunked: true };
    const [expected, actual] = await both(http1, request);
    expect(actual).toEqual(expected);
    expect(JSON.parse(actual.body.toString())).toEqual({ code: "resource_exhausted", message: `message size is larger than configured readMaxBytes ${READ_MAX_BYTES}` });
  });

  it("compresses a large answer with what the client accepts first, and it reads back whole", async () => {
    for (const [, send] of VERSIONS) {
      const answer = await send(fast, { path: `${PREFIX}/ListOfferings`, headers: { ...jsonType, "accept-encoding": "gzip, br" }, body: '{"capability":"z"}' });
      expect(answer.headers["content-encoding"]).toBe("gzip");
      expect(JSON.parse(gunzipSync(answer.body).toString()).offerings).toHaveLength(400);
    }
  });

  it("tells the implementation the caller's address and the Connect protocol", async () => {
    const answer = await http1(fast, { path: `${PREFIX}/SubmitJob`, headers: jsonType, body: "{}" });
    expect(answer.headers["x-client"]).toBe("127.0.0.1");
    expect(answer.headers["x-protocol"]).toBe("connect");
  });

  it("serves Connect clients over both HTTP versions, in binary and JSON", async () => {
    const before = leftToConnect;
    for (const httpVersion of ["1.1", "2"] as const) {
      for (const useBinaryFormat of [true, false]) {
        const client = createClient(GatewayService, createConnectTransport({ baseUrl: fast.url, httpVersion, useBinaryFormat }));
        expect((await client.listOfferings({ capability: "kept" })).offerings).toHaveLength(300);
        const err = await client.getCapabilityHealth({ capability: "x" }).catch((e: unknown) => ConnectError.from(e));
        expect((err as ConnectError).code).toBe(Code.NotFound);
        expect((err as ConnectError).rawMessage).toBe('no capability "x"; did you mean "depth"? 100% sure & more');
      }
    }
    expect(leftToConnect).toBe(before);
  });

  it("aborts the implementation's signal when the client goes away, over either HTTP version", async () => {
    for (const [version] of VERSIONS) {
      resetAbortWatch();
      if (version === "HTTP/1.1") {
        const req = http.request(`${fast.url}${PREFIX}/ReportOutcome`, { method: "POST", headers: jsonType, agent: false });
        req.on("error", () => undefined);
        req.end("{}");
        await callStarted;
        req.destroy();
      } else {
        const session = http2.connect(fast.url);
        const stream = session.request({ ":method": "POST", ":path": `${PREFIX}/ReportOutcome`, ...jsonType });
        stream.on("error", () => undefined);
        stream.end("{}");
        await callStarted;
        stream.close(http2.constants.NGHTTP2_CANCEL);
        session.close();
      }
      expect(ConnectError.from(await abortSeen).code).toBe(Code.Canceled);
    }
  });

  it("aborts the implementation's signal with DEADLINE_EXCEEDED when connect-timeout-ms passes", async () => {
    resetAbortWatch();
    const answer = http1(fast, { path: `${PREFIX}/ReportOutcome`, headers: { ...jsonType, "connect-timeout-ms": "200" }, body: "{}" });
    expect(ConnectError.from(await abortSeen).code).toBe(Code.DeadlineExceeded);
    expect((await answer).status).toBe(200); // the implementation chose to answer anyway
  });
});

describe("what the Connect fast path leaves to connect-node", () => {
  const LEFT: Array<[string, RawRequest]> = [
    ["a GET with its message compressed", { method: "GET", path: `${PREFIX}/Ping?encoding=proto&compression=gzip&message=` }],
    ["a GET of an encoding connect does not know", { method: "GET", path: `${PREFIX}/Ping?encoding=xml&message=` }],
    ["a GET of a method with side effects", { method: "GET", path: `${PREFIX}/SubmitJob?encoding=json&message=%7B%7D` }],
    ["a compressed request", { path: `${PREFIX}/Ping`, headers: { ...proto, "content-encoding": "gzip" }, body: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }],
    ["a streaming content type", { path: `${PREFIX}/Ping`, headers: { "content-type": "application/connect+json" }, body: "" }],
    ["gRPC-Web", { path: `${PREFIX}/Ping`, headers: { "content-type": "application/grpc-web+proto" }, body: Buffer.alloc(5) }],
    ["an unknown method", { path: `${PREFIX}/Nope`, headers: jsonType, body: "{}" }],
  ];
  for (const [version, send] of VERSIONS) {
    for (const [what, request] of LEFT) {
      it(`${version}: ${what}`, async () => {
        const before = leftToConnect;
        const [expected, actual] = await both(send, request);
        expect(leftToConnect).toBe(before + 1);
        expect(actual).toEqual(expected);
      });
    }
  }
});

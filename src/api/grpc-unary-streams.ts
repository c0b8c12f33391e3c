// gRPC unary calls served straight from HTTP/2 streams. connect-node serves every call through Node's http2
// compatibility layer (Http2ServerRequest/Response), then a chain of async iterables, three AbortControllers, three
// Headers copies and an AbortError per call: about five times the CPU of a grpc-js server for a no-op call
// (`npm run bench -- rpc`, "gRPC path"). Unary calls in the binary codec without request compression, the bulk of
// gRPC traffic, are answered here by the same service implementations, with connect's status and trailer encoding.
// Everything else on the port (Connect, gRPC-Web, streaming, +json, compressed requests, plain HTTP) still goes to
// connect-node, so the one-port contract is unchanged.
import http2 from "node:http2";
import { create, fromBinary, isMessage, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { compressionGzip } from "@connectrpc/connect-node";
import { grpcStatusMessage } from "./grpc-status-message.js";
import { encodeAnswer } from "./reusable-answers.js";
import type { StreamHandler } from "./listen.js";
import { StreamCallContext } from "./stream-call-context.js";
import { nodeHeaders, readBody, single } from "./unary-io.js";

type UnaryFn = (request: unknown, context: HandlerContext) => unknown;

export interface UnaryRoute {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly call: UnaryFn;
}

export interface GrpcUnaryOptions {
  /** Largest request message accepted, as connect's readMaxBytes. */
  readMaxBytes: number;
  /** Answers at least this large are gzipped when the client accepts gzip, as connect's compressMinBytes. */
  compressMinBytes: number;
  contextValues?: (stream: http2.ServerHttp2Stream) => ContextValues;
}

const {
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_STATUS,
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_AUTHORITY,
  HTTP2_HEADER_SCHEME,
} = http2.constants;

/** application/grpc and application/grpc+proto: the binary codec. */
const BINARY_GRPC = /^application\/grpc(?:\+proto)?$/i;
const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b1;

/** Unary implementations by request path ("/package.Service/Method"). */
export type UnaryRoutes = Map<string, UnaryRoute>;

/**
 * A router that records each service's unary implementations while registering the service with connect as usual,
 * so both paths run the very same functions.
 */
export function recordUnaryRoutes(router: ConnectRouter, routes: UnaryRoutes): ConnectRouter {
  return {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, options) {
      // Per-service handler options (limits, interceptors) are connect's business: such services stay there.
      for (const method of options === undefined ? service.methods : []) {
        const fn = (implementation as Record<string, UnaryFn | undefined>)[method.localName];
        if (method.methodKind === "unary" && fn !== undefined) {
          routes.set(`/${service.typeName}/${method.name}`, { service, method, call: fn.bind(implementation) });
        }
      }
      router.service(service, implementation, options);
      return this;
    },
    rpc(method, implementation, options) {
      router.rpc(method, implementation, options);
      return this;
    },
  };
}

export function grpcUnaryStreamHandler(routes: ReadonlyMap<string, UnaryRoute>, options: GrpcUnaryOptions): StreamHandler {
  return (stream, headers) => {
    const route = routes.get(single(headers[HTTP2_HEADER_PATH]) ?? "");
    if (route === undefined || headers[HTTP2_HEADER_METHOD] !== "POST") return false;
    const contentType = single(headers[HTTP2_HEADER_CONTENT_TYPE]);
    if (contentType === undefined || !BINARY_GRPC.test(contentType)) return false;
    const encoding = single(headers["grpc-encoding"]);
    if (encoding !== undefined && encoding !== "identity") return false;
    // Whatever goes wrong in one call ends that stream, never the process or the session's other calls.
    serveUnary(route, stream, headers, options).catch(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    return true;
  };
}

async function serveUnary(
  route: UnaryRoute,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  options: GrpcUnaryOptions,
): Promise<void> {
  const timeout = parseTimeout(single(headers["grpc-timeout"]) ?? null, Number.MAX_SAFE_INTEGER);
  const url = `${single(headers[HTTP2_HEADER_SCHEME]) ?? "http"}://${single(headers[HTTP2_HEADER_AUTHORITY]) ?? ""}${headers[HTTP2_HEADER_PATH]}`;
  const context = new StreamCallContext({
    service: route.service,
    method: route.method,
    url,
    requestMethod: "POST",
    protocolName: "grpc",
    headers,
    timeoutMs: timeout.timeoutMs,
    values: options.contextValues?.(stream),
  });
  stream.once("close", () => {
    if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) context.reset();
  });
  stream.on("error", () => undefined); // a reset stream reports here; the close above handles it
  let answer: Uint8Array | undefined;
  let failure: ConnectError | undefined;
  try {
    if (timeout.error) throw timeout.error;
    const request = parseMessage(route.method.input, await readSingleMessage(stream, route.method, options.readMaxBytes));
    const result = await route.call(request, context);
    const output = route.method.output;
    answer = encodeAnswer(output, isMessage(result, output) ? result : create(output as DescMessage, result as Record<string, unknown>));
  } catch (err) {
    failure = err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
  } finally {
    context.end();
  }
  await respond(stream, headers, context, answer, failure, options.compressMinBytes);
}

/** The one enveloped message of a unary request, with connect's errors for every way it can be wrong. */
async function readSingleMessage(stream: http2.ServerHttp2Stream, method: DescMethod, readMaxBytes: number): Promise<Uint8Array> {
  const body = await readBody(stream, readMaxBytes + ENVELOPE_HEADER_BYTES, readMaxBytes);
  if (body.length === 0) throw new ConnectError(`protocol error: missing input message for ${method.methodKind} method`, Code.Unimplemented);
  if (body.length < ENVELOPE_HEADER_BYTES) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  const flags = body[0] as number;
  const size = body.readUInt32BE(1);
  if (size > readMaxBytes) {
    throw new ConnectError(`message size ${size} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
  }
  if ((flags & COMPRESSED_FLAG) !== 0) {
    throw new ConnectError("protocol error: received compressed message without grpc-encoding", Code.Internal);
  }
  const end = ENVELOPE_HEADER_BYTES + size;
  if (body.length < end) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  if (body.length > end) throw new ConnectError(`protocol error: received extra input message for ${method.methodKind} method`, Code.Unimplemented);
  return body.subarray(ENVELOPE_HEADER_BYTES, end);
}

function parseMessage(schema: DescMessage, bytes: Uint8Array): unknown {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    throw new ConnectError(`parse binary: ${err instanceof Error ? err.message : String(err)}`, Code.Internal);
  }
}

async function respond(
  stream: http2.ServerHttp2Stream,
  requestHeaders: http2.IncomingHttpHeaders,
  context: StreamCallContext,
  answer: Uint8Array | undefined,
  failure: ConnectError | undefined,
  compressMinBytes: number,
): Promise<void> {
  const head: http2.OutgoingHttpHeaders = { [HTTP2_HEADER_STATUS]: 200, ...nodeHeaders(context.responseHeadersIfSet()), [HTTP2_HEADER_CONTENT_TYPE]: "application/grpc+proto" };
  let frame: Uint8Array[] = [];
  if (answer !== undefined) {
    const compress = answer.byteLength >= compressMinBytes && acceptsGzip(requestHeaders["grpc-accept-encoding"]);
    if (compress) head["grpc-encoding"] = compressionGzip.name;
    frame = compress ? grpcFrame(COMPRESSED_FLAG, await compressionGzip.compress(answer)) : grpcFrame(0, answer);
  }
  if (stream.destroyed || stream.closed) return; // the client is gone: nobody to answer
  stream.respond(head, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(trailers(context, failure)));
  for (let i = 0; i < frame.length - 1; i++) stream.write(frame[i]);
  stream.end(frame.at(-1));
}

/** From this size on, a message is written after its envelope's prefix rather than copied behind it. */
const COPIED_MESSAGE_MAX_BYTES = 64 * 1024;

/**
 * One length-prefixed message (flags, big-endian length, bytes), as connect's encodeEnvelope writes it, in one chunk
 * from Buffer's pool (encodeEnvelope allocates an ArrayBuffer and a DataView per call, about 1.5 µs more per answer);
 * a large message (a network listing of 10,000 orchestrators is 50 MB) in two, prefix then message, without a copy.
 */
function grpcFrame(flags: number, message: Uint8Array): Uint8Array[] {
  const large = message.byteLength >= COPIED_MESSAGE_MAX_BYTES;
  const frame = Buffer.allocUnsafe(5 + (large ? 0 : message.byteLength));
  frame[0] = flags;
  frame.writeUInt32BE(message.byteLength, 1);
  if (large) return [frame, message];
  frame.set(message, 5);
  return [frame];
}

function trailers(context: StreamCallContext, failure: ConnectError | undefined): http2.OutgoingHttpHeaders {
  const set = context.responseTrailersIfSet();
  if (failure === undefined && set === undefined) return { "grpc-status": "0" };
  const trailer = setTrailerStatus(set ?? new Headers(), failure);
  const message = trailer.get("grpc-message");
  if (message !== null) trailer.set("grpc-message", grpcStatusMessage(message)); // as every gRPC client reads it
  return nodeHeaders(trailer);
}

function acceptsGzip(value: string | string[] | undefined): boolean {
  return value !== undefined && single(value)?.split(",").some((name) => name.trim() === compressionGzip.name) === true;
}

// Connect unary calls answered without connect-node's universal handler, which turns each call into async iterables,
// linked AbortControllers and Headers copies, and encodes every answer anew: a network listing of a thousand
// orchestrators then held the event loop for about a second per Connect call. Uncompressed POSTs of application/proto
// or application/json, and GETs of side-effect-free methods, the bulk of Connect traffic, are answered here by the
// same service implementations, with connect's parsing, error bodies, status mapping and compression; answers marked
// reusable are encoded once per format. Everything else (compressed requests, streaming, gRPC-Web) stays with
// connect-node on the same port.
import type http from "node:http";
import http2 from "node:http2";
import type { Readable } from "node:stream";
import { create, isMessage, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import { compressionNegotiate, createMethodSerializationLookup, type MethodSerializationLookup } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  headerUnaryAcceptEncoding,
  parseContentType,
  parseTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { UnaryRoute } from "./grpc-unary-streams.js";
import type { StreamHandler } from "./listen.js";
import { encodeAnswer, encodeJsonAnswer } from "./reusable-answers.js";
import { StreamCallContext } from "./stream-call-context.js";
import { nodeHeaders, readBody, single } from "./unary-io.js";

export interface ConnectUnaryOptions {
  /** Largest request message accepted, as connect's readMaxBytes. */
  readMaxBytes: number;
  /** Answers at least this large are compressed when the client accepts it, as connect's compressMinBytes. */
  compressMinBytes: number;
  /** The caller's context values, from its socket as connect-node's contextValues gets them. */
  contextValues?: (peer: { socket?: { remoteAddress?: string | undefined } | null }) => ContextValues;
}

export interface ConnectUnaryHandlers {
  /** Takes an HTTP/1.1 request and answers it, or returns false to leave it to connect-node. */
  request(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** The same for an HTTP/2 stream. */
  stream: StreamHandler;
}

/** One call's HTTP exchange, whichever HTTP version carries it. */
interface Exchange {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Readable;
  readonly url: string;
  readonly peer: { socket?: { remoteAddress?: string | undefined } | null };
  /** Calls `listener` if the client goes away before the answer is sent. */
  onClientGone(listener: () => void): void;
  send(status: number, headers: http.OutgoingHttpHeaders, body: Uint8Array): void;
  /** Ends the exchange without an answer. */
  abort(): void;
}

type Serialization = MethodSerializationLookup<DescMessage, DescMessage>;

/** What connect-node accepts by default, in its order of preference. */
const ACCEPT_COMPRESSION = [compressionGzip, compressionBrotli];
/** connect's default writeMaxBytes. */
const WRITE_MAX_BYTES = 0xffffffff;

export function connectUnaryHandlers(routes: ReadonlyMap<string, UnaryRoute>, options: ConnectUnaryOptions): ConnectUnaryHandlers {
  const serializations = new Map<DescMethod, Serialization>();
  const serializationOf = (method: DescMethod): Serialization => {
    let lookup = serializations.get(method);
    if (lookup === undefined) {
      // connect's own parsing, so a bad request is refused in connect's words.
      lookup = createMethodSerializationLookup(method, undefined, undefined, { readMaxBytes: options.readMaxBytes, writeMaxBytes: WRITE_MAX_BYTES });
      serializations.set(method, lookup);
    }
    return lookup;
  };

  /** The call this fast path takes, or undefined to leave it to connect-node. */
  const accept = (method: string | undefined, url: string | undefined, headers: http.IncomingHttpHeaders): Call | undefined => {
    if (url === undefined) return undefined;
    const queryAt = url.indexOf("?");
    const route = routes.get(queryAt === -1 ? url : url.slice(0, queryAt));
    if (route === undefined) return undefined;
    const serialization = serializationOf(route.method);
    if (method === "POST") {
      const type = parseContentType(single(headers["content-type"]) ?? null);
      if (type === undefined || type.stream) return undefined;
      const encoding = single(headers["content-encoding"]);
      if (encoding !== undefined && encoding !== "identity") return undefined;
      return { route, binary: type.binary, serialization, requestMethod: method, readRequest: (exchange) => readPostBody(exchange, options.readMaxBytes) };
    }
    // Connect GET: side-effect-free methods, the message in the query (e.g. a dashboard polling the network listing).
    if (method !== "GET" || route.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return undefined;
    const query = new URLSearchParams(queryAt === -1 ? "" : url.slice(queryAt + 1));
    const encoding = query.get("encoding");
    const compression = query.get("compression");
    if ((encoding !== "json" && encoding !== "proto") || (compression !== null && compression !== "identity")) return undefined;
    const message = query.get("message") ?? "";
    const bytes = query.get("base64") === "1" ? base64Decode(message) : Buffer.from(message);
    return { route, binary: encoding === "proto", serialization, requestMethod: method, readRequest: () => Promise.resolve(bytes) };
  };

  const serve = (call: Call, exchange: Exchange): void => {
    // Whatever goes wrong in one call ends that call, never the process or the connection's other calls.
    serveUnary(call, exchange, options).catch(() => exchange.abort());
  };

  return {
    request(req, res) {
      if (req.httpVersionMajor !== 1) return false;
      const call = accept(req.method, req.url, req.headers);
      if (call === undefined) return false;
      serve(call, http1Exchange(req, res));
      return true;
    },
    stream(stream, headers) {
      const call = accept(single(headers[http2.constants.HTTP2_HEADER_METHOD]), single(headers[http2.constants.HTTP2_HEADER_PATH]), headers);
      if (call === undefined) return false;
      serve(call, http2Exchange(stream, headers));
      return true;
    },
  };
}

interface Call {
  route: UnaryRoute;
  /** application/proto (or encoding=proto), else JSON. */
  binary: boolean;
  serialization: Serialization;
  requestMethod: "POST" | "GET";
  /** The request message's bytes: a POST's body, or a GET's query. */
  readRequest(exchange: Exchange): Promise<Uint8Array>;
}

/** A POST's body, refused before it is read when its declared length is over readMaxBytes, as connect does. */
async function readPostBody(exchange: Exchange, readMaxBytes: number): Promise<Buffer> {
  const declared = Number(single(exchange.headers["content-length"]) ?? Number.NaN);
  if (declared > readMaxBytes) {
    throw new ConnectError(`message size ${declared} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
  }
  return readBody(exchange.body, readMaxBytes, readMaxBytes);
}

async function serveUnary(call: Call, exchange: Exchange, options: ConnectUnaryOptions): Promise<void> {
  const { route, binary, serialization } = call;
  const { headers } = exchange;
  const timeout = parseTimeout(single(headers["connect-timeout-ms"]) ?? null, Number.MAX_SAFE_INTEGER);
  const context = new StreamCallContext({
    service: route.service,
    method: route.method,
    url: exchange.url,
    requestMethod: call.requestMethod,
    protocolName: "connect",
    headers,
    timeoutMs: timeout.timeoutMs,
    values: options.contextValues?.(exchange.peer),
  });
  exchange.onClientGone(() => context.reset());
  const compression = compressionNegotiate(ACCEPT_COMPRESSION, null, single(headers["accept-encoding"]) ?? null, headerUnaryAcceptEncoding);
  let status = 200;
  let contentType = binary ? contentTypeUnaryProto : contentTypeUnaryJson;
  let body: Uint8Array;
  try {
    if (timeout.error) throw timeout.error;
    const request = serialization.getI(binary).parse(await call.readRequest(exchange));
    const result = await route.call(request, context);
    const output = route.method.output;
    const answer = isMessage(result, output) ? result : create(output as DescMessage, result as Record<string, unknown>);
    body = binary ? encodeAnswer(output, answer) : await encodeJsonAnswer(output, answer);
  } catch (err) {
    const error = err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
    status = codeToHttpStatus(error.code);
    contentType = contentTypeUnaryJson;
    error.metadata.forEach((value, name) => context.responseHeader.set(name, value));
    body = errorToJsonBytes(error, undefined);
  } finally {
    context.end();
  }
  const setHeaders = context.responseHeadersIfSet();
  const setTrailers = context.responseTrailersIfSet();
  // Most calls set neither: three Headers objects (undici's, costly to build) are made only when one is set.
  const responseHeaders =
    setHeaders === undefined && setTrailers === undefined ? {} : nodeHeaders(trailerMux(setHeaders ?? new Headers(), setTrailers ?? new Headers()));
  if (compression.response !== null && body.byteLength >= options.compressMinBytes) {
    body = await compression.response.compress(body);
    responseHeaders["content-encoding"] = compression.response.name;
  }
  responseHeaders["content-type"] = contentType;
  responseHeaders["content-length"] = String(body.byteLength);
  exchange.send(status, responseHeaders, body);
}

function http1Exchange(req: http.IncomingMessage, res: http.ServerResponse): Exchange {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? "https" : "http";
  return {
    headers: req.headers,
    body: req,
    url: `${scheme}://${req.headers.host ?? ""}${req.url ?? ""}`,
    peer: req,
    onClientGone: (listener) => {
      res.once("close", () => {
        if (!res.writableFinished) listener();
      });
    },
    send: (status, headers, body) => {
      if (res.destroyed) return; // the client is gone: nobody to answer
      res.writeHead(status, headers);
      res.end(body);
    },
    abort: () => res.destroy(),
  };
}

function http2Exchange(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Exchange {
  stream.on("error", () => undefined); // a reset stream reports here; onClientGone handles it
  return {
    headers,
    body: stream,
    url: `${single(headers[http2.constants.HTTP2_HEADER_SCHEME]) ?? "http"}://${single(headers[http2.constants.HTTP2_HEADER_AUTHORITY]) ?? ""}${single(headers[http2.constants.HTTP2_HEADER_PATH]) ?? ""}`,
    peer: stream.session ?? {},
    onClientGone: (listener) => {
      stream.once("close", () => {
        if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) listener();
      });
    },
    send: (status, responseHeaders, body) => {
      if (stream.destroyed || stream.closed) return;
      stream.respond({ ...responseHeaders, [http2.constants.HTTP2_HEADER_STATUS]: status });
      stream.end(body);
    },
    abort: () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
  };
}

// The floor under discovery's listings: the same GetOrchestrator request sent to every orchestrator by Node's own
// HTTP/2 client over TLS, with no gRPC library and no decoding. Each orchestrator gets one connection and one call,
// as in a first sweep, and its reply is read whole (a gRPC reply is a 5-byte frame header and the message, then
// trailers). Connections stay open until every call is done, as the gateway keeps its channels.
import { connect, constants, type ClientHttp2Session } from "node:http2";
import { forEachWithConcurrency } from "../src/util/concurrency.js";

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = constants;
const PATH = "/net.Orchestrator/GetOrchestrator";

/** A gRPC length-prefixed message: no compression flag, the length big-endian, the bytes. */
function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** One call on a new session; resolves with the reply's size once its trailers say grpc-status 0. */
function callOnce(session: ClientHttp2Session, frame: Buffer, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      [HTTP2_HEADER_METHOD]: "POST",
      [HTTP2_HEADER_PATH]: PATH,
      [HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
      [HTTP2_HEADER_TE]: "trailers",
    });
    stream.setTimeout(timeoutMs, () => stream.close(constants.NGHTTP2_CANCEL));
    let bytes = 0;
    let status: string | undefined;
    stream.on("data", (chunk: Buffer) => (bytes += chunk.length));
    stream.on("trailers", (trailers) => (status = String(trailers["grpc-status"])));
    stream.on("error", reject);
    stream.on("close", () => (status === "0" && bytes > 5 ? resolve(bytes) : reject(new Error(`grpc-status ${status ?? "missing"}, ${bytes} bytes`))));
    stream.end(frame);
  });
}

/**
 * Sends `request` (an encoded OrchestratorRequest) to each https:// URI, `concurrency` at a time; resolves with how
 * many calls succeeded. Sessions are closed at the end.
 */
export async function bareHttp2Listings(uris: readonly string[], request: Uint8Array, concurrency: number, timeoutMs: number): Promise<number> {
  const frame = grpcFrame(request);
  const sessions: ClientHttp2Session[] = [];
  let ok = 0;
  try {
    await forEachWithConcurrency(uris, concurrency, async (uri) => {
      const session = connect(uri, { rejectUnauthorized: false });
      session.on("error", () => {});
      sessions.push(session);
      try {
        await callOnce(session, frame, timeoutMs);
        ok++;
      } catch {
        // Counted by the caller as a call that did not succeed.
      }
    });
  } finally {
    for (const session of sessions) session.close();
  }
  return ok;
}

// grpc-message as every gRPC client reads it. connect-node writes the status message with encodeURIComponent, which
// also escapes ; , / ? : @ & = + $ #. grpc-js decodes it with decodeURI, which leaves exactly those escapes in place,
// so a grpc-js client read "did you mean%3F" where Connect clients read "did you mean?". The gRPC spec
// (PROTOCOL-HTTP2.md, Status-Message) asks only '%' and bytes outside 0x20-0x7E to be escaped: re-escaping to that
// minimum reads back the same in every client, grpc-js included.
import type http from "node:http";
import type http2 from "node:http2";

/** A grpc-message encoded with encodeURIComponent, re-encoded the gRPC spec's minimal way; unchanged if it does not decode. */
export function grpcStatusMessage(encoded: string): string {
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
  return text.replace(/[^\x20-\x24\x26-\x7e]+/gu, (run) => encodeURIComponent(run));
}

/** gRPC proper (application/grpc, +proto, +json), not gRPC-Web, whose trailers travel in the body. */
function isGrpc(req: http.IncomingMessage | http2.Http2ServerRequest): boolean {
  const type = req.headers["content-type"];
  return req.httpVersionMajor === 2 && type !== undefined && /^application\/grpc(?:[+;]|$)/i.test(type);
}

/** Re-encodes the grpc-message trailer of a gRPC response as it is written (connect-node sends it with addTrailers). */
export function respellGrpcStatusMessage(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  if (!isGrpc(req)) return;
  const response = res as { addTrailers(trailers: http.OutgoingHttpHeaders): void };
  const addTrailers = response.addTrailers.bind(response);
  response.addTrailers = (trailers) => {
    const message = trailers["grpc-message"];
    addTrailers(typeof message === "string" ? { ...trailers, "grpc-message": grpcStatusMessage(message) } : trailers);
  };
}

// What the unary fast paths (grpc-unary-streams.ts for gRPC, connect-unary.ts for Connect) share: reading a request
// body within connect's size limit, and turning connect's Headers into Node's header objects.
import type { OutgoingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The whole body, refused once it outgrows `limitBytes` (the rest is read and dropped) with connect's own words for
 * it; `readMaxBytes` is the limit as configured, for the message.
 */
export function readBody(body: Readable, limitBytes: number, readMaxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      body.off("data", onData);
      body.resume();
      reject(new ConnectError(`message size is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted));
    };
    let ended = false;
    body.on("data", onData);
    body.once("end", () => {
      ended = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    });
    // Every stream closes, most after their end: an error (and its stack) is made only for one cut short.
    body.once("close", () => {
      if (!ended) reject(new ConnectError("the client reset the stream", Code.Canceled));
    });
  });
}

/** The first value of a header Node may hand over as a list. */
export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function nodeHeaders(headers: Headers | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  headers?.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

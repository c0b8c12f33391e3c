// Reads a response body into memory up to a limit, so one huge answer cannot take the gateway's memory.
import type { Readable } from "node:stream";

export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

/**
 * The body's bytes. Over the limit: ResponseTooLargeError, or with `truncate` the first `limit` bytes (enough to
 * classify an error answer). The signal aborts the read; the stream is destroyed whenever reading stops early.
 */
export async function readLimited(
  body: Readable,
  limit: number,
  signal: AbortSignal,
  options: { truncate?: boolean } = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const onAbort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = limit - size;
      if (chunk.length > room) {
        if (!options.truncate) throw new ResponseTooLargeError(limit);
        chunks.push(chunk.subarray(0, room));
        size = limit;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!body.readableEnded) body.destroy();
  }
  return Buffer.concat(chunks, size);
}

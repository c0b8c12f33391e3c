// UTF-8 for protobuf-es through Node's Buffer instead of TextEncoder/TextDecoder: the same bytes and the same
// replacement of invalid text, at about a third of the cost for the short strings messages are made of (and from
// Buffer's pool rather than one allocation per string). Every string field of every message the gateway encodes or
// decodes goes through this, so it shows directly in RPC throughput.
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

let installed = false;

/** Process-wide and idempotent; strict decoding (UTF-8 validation) stays with protobuf-es's own TextDecoder. */
export function useBufferTextEncoding(): void {
  if (installed) return;
  installed = true;
  const standard = getTextEncoding();
  configureTextEncoding({
    encodeUtf8: (text) => Buffer.from(text, "utf8"),
    decodeUtf8: (bytes, strict) =>
      strict ? standard.decodeUtf8(bytes, true) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
    checkUtf8: (text) => standard.checkUtf8(text),
  });
}

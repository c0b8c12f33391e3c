// Answers built once and sent to many callers, such as a GetNetworkCapabilities listing of one snapshot: megabytes
// at a thousand orchestrators, which took longer to encode than to build. The gRPC path encodes such an answer on
// its first call and sends the same bytes after. Connect and JSON callers go through connect-node, which encodes
// per call.
import { toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";

/** Messages marked reusable, with their encoding once there is one. */
const encodings = new WeakMap<object, Uint8Array | undefined>();

/**
 * Marks `message` as an answer that will not change from now on; returns it. `encoded`, when given, must be its
 * binary encoding (made along the way, e.g. a slice at a time).
 */
export function reusable<T extends Message>(message: T, encoded?: Uint8Array): T {
  encodings.set(message, encoded);
  return message;
}

/** The binary encoding of `message`: encoded once when it is marked reusable, else every time. */
export function encodeAnswer(schema: DescMessage, message: Message): Uint8Array {
  if (!encodings.has(message)) return toBinary(schema, message);
  let bytes = encodings.get(message);
  if (bytes === undefined) {
    bytes = toBinary(schema, message);
    encodings.set(message, bytes);
  }
  return bytes;
}

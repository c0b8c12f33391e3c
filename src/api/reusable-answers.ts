// Answers built once and sent to many callers, such as a GetNetworkCapabilities listing of one snapshot: megabytes
// at a thousand orchestrators, which took longer to encode than to build. The unary fast paths (gRPC and Connect)
// encode such an answer on its first call, in the format asked for, and send the same bytes after. Other paths
// (gRPC-Web, streams) go through connect-node, which encodes per call. An answer of one call may also come with
// cheaper ways to its encodings than toBinary and toJsonString (a Route answer, most of which other answers share).
import { toBinary, toJsonString, type DescMessage, type Message } from "@bufbuild/protobuf";

/** Ways to encode a reusable answer that its builder knows better than one toBinary or toJsonString call. */
export interface AnswerEncoders {
  /** The binary encoding, made along the way (e.g. a slice at a time). */
  binary?: Uint8Array;
  /**
   * The canonical JSON, as toJsonString writes it with default options (or that text's UTF-8 bytes), built without
   * holding the event loop.
   */
  json?: () => Promise<string | Uint8Array>;
}

/** For an answer of one call: ways to the bytes toBinary and toJsonString (default options) would make, faster. */
export interface OneCallEncoders {
  binary: () => Uint8Array;
  json: () => string;
}

interface Encodings extends AnswerEncoders {
  jsonBytes?: Promise<Uint8Array>;
  oneCall?: OneCallEncoders;
}

/** Messages marked reusable, with their encodings once there are any. */
const encodings = new WeakMap<object, Encodings>();

/** Marks `message` as an answer that will not change from now on; returns it. */
export function reusable<T extends Message>(message: T, encoders: AnswerEncoders = {}): T {
  encodings.set(message, { ...encoders });
  return message;
}

/** Gives the answer of one call its own encoders, used in place of toBinary and toJsonString; returns the answer. */
export function encodedBy<T extends Message>(message: T, encoders: OneCallEncoders): T {
  encodings.set(message, { oneCall: encoders });
  return message;
}

/** The binary encoding of `message`: encoded once when it is marked reusable, else every time. */
export function encodeAnswer(schema: DescMessage, message: Message): Uint8Array {
  const kept = encodings.get(message);
  if (kept === undefined) return toBinary(schema, message);
  if (kept.oneCall !== undefined) return kept.oneCall.binary();
  return (kept.binary ??= toBinary(schema, message));
}

/**
 * The canonical JSON of `message` as UTF-8, as connect-node writes it: encoded once when it is marked reusable (a
 * failed encoding is not kept), else every time.
 */
export function encodeJsonAnswer(schema: DescMessage, message: Message): Uint8Array | Promise<Uint8Array> {
  const kept = encodings.get(message);
  if (kept === undefined) return Buffer.from(toJsonString(schema, message));
  if (kept.oneCall !== undefined) return Buffer.from(kept.oneCall.json());
  if (kept.jsonBytes === undefined) {
    const json = kept.json;
    const encoding = json === undefined ? Promise.resolve().then(() => toJsonString(schema, message)) : json();
    const bytes = encoding.then((json) => (typeof json === "string" ? Buffer.from(json) : json));
    kept.jsonBytes = bytes;
    bytes.catch(() => {
      if (kept.jsonBytes === bytes) kept.jsonBytes = undefined;
    });
  }
  return kept.jsonBytes;
}

// Encodings joined from parts already encoded (a listing's entries): one copy of the bytes, and where each part is in
// it, so that what kept the parts can keep views into the whole instead. The copy is made a few megabytes at a time
// with other work let through in between: a listing of 10,000 orchestrators is 50–120 MB, whose copy in one piece held
// the event loop for ~80 ms.
import { setImmediate } from "node:timers/promises";

/** Bytes copied between two turns of the event loop: a few milliseconds of copying. */
const BYTES_PER_SLICE = 4 * 1024 * 1024;

/** `pieces` one after the other in one new Uint8Array (not a pooled Buffer), copied a slice at a time. */
export async function concatInSlices(pieces: readonly Uint8Array[]): Promise<Uint8Array> {
  const bytes = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  let sinceTurn = 0;
  for (const piece of pieces) {
    if (sinceTurn >= BYTES_PER_SLICE) {
      await setImmediate();
      sinceTurn = 0;
    }
    bytes.set(piece, at);
    at += piece.length;
    sinceTurn += piece.length;
  }
  return bytes;
}

/** `parts` with `separator` between them, after `before` and before `after`, in one Buffer; and where each part starts. */
export async function joinBytes(
  before: Uint8Array,
  parts: readonly Uint8Array[],
  separator: Uint8Array,
  after: Uint8Array,
): Promise<{ bytes: Buffer; starts: number[] }> {
  const pieces: Uint8Array[] = [before];
  const starts: number[] = [];
  let at = before.length;
  for (const [i, part] of parts.entries()) {
    if (i > 0) {
      pieces.push(separator);
      at += separator.length;
    }
    pieces.push(part);
    starts.push(at);
    at += part.length;
  }
  pieces.push(after);
  const joined = await concatInSlices(pieces);
  return { bytes: Buffer.from(joined.buffer, joined.byteOffset, joined.length), starts };
}

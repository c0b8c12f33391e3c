// Encodings joined from parts already encoded (a listing's entries): one copy of the bytes, and where each part is in
// it, so that what kept the parts can keep views into the whole instead.

/** `parts` with `separator` between them, after `before` and before `after`, in one Buffer; and where each part starts. */
export function joinBytes(before: Uint8Array, parts: readonly Uint8Array[], separator: Uint8Array, after: Uint8Array): { bytes: Buffer; starts: number[] } {
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
  return { bytes: Buffer.concat(pieces), starts };
}

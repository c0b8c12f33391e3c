// Base64 as go-livepeer's BYOC code uses it: Go's base64.StdEncoding, i.e. the standard alphabet WITH padding.
// Buffer.from(text, "base64") would also take URL-safe characters and missing padding, and silently skip
// anything else, so the alphabet and the padding are checked first. Like Go, "\r" and "\n" are ignored and
// non-zero trailing bits are accepted (only Go's Strict mode refuses them).

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of standard padded base64, or undefined when the text is not exactly that. */
export function decodeStdBase64(text: string): Buffer | undefined {
  const compact = text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, "") : text;
  if (!STD_BASE64.test(compact)) return undefined;
  return Buffer.from(compact, "base64");
}

/** Standard padded base64 of bytes, or of a string's UTF-8 encoding. */
export function encodeStdBase64(data: Uint8Array | string): string {
  return (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString(
    "base64",
  );
}

// The parts of Go's encoding/json (as built into go-livepeer, Go 1.25) that decide the exact bytes of a compact
// json.Marshal: string escaping, integer formatting, sorted map keys, struct fields and `omitempty`.
// Each helper returns encoded JSON text; struct encoders compose them in Go's field declaration order.
import { parse } from "yaml";

/** Go's hex digits in \u escapes are lower case. */
function unicodeEscape(codeUnit: number): string {
  return `\\u${codeUnit.toString(16).padStart(4, "0")}`;
}

/** Escapes with a short form (Go 1.22 added \b and \f; older Go wrote \u0008 and \u000c). */
const SHORT_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '\\"'],
  ["\\", "\\\\"],
  ["\b", "\\b"],
  ["\f", "\\f"],
  ["\n", "\\n"],
  ["\r", "\\r"],
  ["\t", "\\t"],
]);

/**
 * What Go escapes: quote, backslash, C0 controls, the HTML-sensitive `<` `>` `&` (json.Marshal always
 * HTML-escapes), U+2028/U+2029 (they end a line in JavaScript), and, thanks to the `u` flag, only lone
 * surrogates. `/` and DEL stay literal.
 */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/gu;

function escapeCharacter(character: string): string {
  const short = SHORT_ESCAPES.get(character);
  if (short !== undefined) return short;
  const codeUnit = character.charCodeAt(0);
  // A lone surrogate is not Unicode; Go writes invalid UTF-8 the same way, as the replacement character.
  if (codeUnit >= 0xd800 && codeUnit <= 0xdfff) return "\\ufffd";
  return unicodeEscape(codeUnit);
}

/** A JSON string literal, escaped byte for byte as encoding/json escapes it. */
export function goString(value: string): string {
  return `"${value.replace(NEEDS_ESCAPE, escapeCharacter)}"`;
}

/**
 * A Go integer (int64, uint64, uint32, int) as a JSON number, digit for digit. Numbers must be safe integers:
 * anything a float cannot hold exactly has to arrive as a bigint.
 */
export function goInteger(value: bigint | number): string {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`not an exact integer: ${value}; pass integers beyond 2^53 as bigint`);
  }
  return value.toString();
}

/**
 * Go's map key order: strings.Compare, i.e. by UTF-8 bytes. That is not JavaScript's UTF-16 order (it differs
 * for characters above U+FFFF against U+E000..U+FFFF). Lone surrogates encode as U+FFFD, as they are written.
 */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A non-nil map: keys (integer keys already in decimal) sorted as strings, values already encoded. */
export function goMap(entries: Iterable<readonly [key: string, encodedValue: string]>): string {
  const sorted = [...entries].sort(([a], [b]) => compareGoStrings(a, b));
  return `{${sorted.map(([key, value]) => `${goString(key)}:${value}`).join(",")}}`;
}

/** A non-nil slice of already encoded elements. */
export function goArray(encodedItems: readonly string[]): string {
  return `[${encodedItems.join(",")}]`;
}

/** One struct field: its JSON key and encoded value, or undefined when `omitempty` drops it. */
export type GoField = readonly [key: string, encodedValue: string | undefined];

/** A struct: fields in declaration order, omitted fields left out. */
export function goStruct(fields: readonly GoField[]): string {
  const present = fields.filter((field): field is readonly [string, string] => field[1] !== undefined);
  return `{${present.map(([key, value]) => `${goString(key)}:${value}`).join(",")}}`;
}

// `omitempty` drops false, 0, "", nil pointers and nil or empty slices and maps. An empty struct is not
// dropped: a non-nil pointer to one is written as {}.

export function omitEmptyString(value: string): string | undefined {
  return value === "" ? undefined : goString(value);
}

export function omitEmptyBool(value: boolean): string | undefined {
  return value ? "true" : undefined;
}

export function omitEmptyInteger(value: bigint | number): string | undefined {
  return value === 0 || value === 0n ? undefined : goInteger(value);
}

export function omitEmptySlice<T>(items: readonly T[], encode: (item: T) => string): string | undefined {
  return items.length === 0 ? undefined : goArray(items.map(encode));
}

/** A protobuf-es map field (a plain object; integer keys arrive as decimal strings, as Go writes them). */
export function omitEmptyMap<V>(
  record: { readonly [key: string]: V },
  encode: (value: V) => string,
): string | undefined {
  const entries = Object.entries(record);
  return entries.length === 0 ? undefined : goMap(entries.map(([key, value]) => [key, encode(value)] as const));
}

export function omitNilPointer<T>(value: T | undefined, encode: (value: T) => string): string | undefined {
  return value === undefined ? undefined : encode(value);
}

// Without `omitempty`, nil is written as null.

export function nullablePointer<T>(value: T | undefined, encode: (value: T) => string): string {
  return value === undefined ? "null" : encode(value);
}

/**
 * A slice field without `omitempty` that was decoded from protobuf: Go's protobuf decoder leaves an empty
 * repeated field nil, so empty is written as null, never [].
 */
export function nullableDecodedSlice<T>(items: readonly T[], encode: (item: T) => string): string {
  return items.length === 0 ? "null" : goArray(items.map(encode));
}

/** A JSON value as parseGoJson returns it: every integer is a bigint, so nothing above 2^53 loses digits. */
export type GoJsonValue = null | boolean | bigint | number | string | GoJsonValue[] | { [key: string]: GoJsonValue };

/**
 * Parses JSON (such as go-livepeer's) keeping integers exact as bigint; non-integer numbers stay numbers.
 * Built on the yaml package's JSON schema; it is lenient about some non-JSON syntax, so use it to read JSON
 * from a trusted encoder, not to validate it. Object key order is JavaScript's: compare text to check order.
 */
export function parseGoJson(text: string): GoJsonValue {
  return parse(text, { schema: "json", intAsBigInt: true, uniqueKeys: true }) as GoJsonValue;
}

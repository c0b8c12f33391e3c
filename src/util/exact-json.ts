// A strict JSON reader that keeps every number as the text it was written in. JSON.parse turns 0.0002 into a
// binary float, and Node 20 has no reviver access to the source text; prices must stay exact, so config values
// that carry money are read with this instead. (The lossless-json package does the same, if a dependency is added.)

/** A JSON number, exactly as written: "0.0002", "1e3", "-7". */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type ExactJson = null | boolean | string | JsonNumber | ExactJson[] | ExactJsonObject;

/** A JSON object without a prototype, so keys such as "__proto__" are ordinary keys. */
export interface ExactJsonObject {
  [key: string]: ExactJson;
}

/** Deep enough for any config; stops a hostile file from overflowing the stack. */
const MAX_DEPTH = 64;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export function isJsonObject(value: ExactJson | undefined): value is ExactJsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

/** A short description of a value's type for error messages: `string "1000"`, `number 5`, `an object`. */
export function describeJson(value: ExactJson): string {
  if (value === null) return "null";
  if (value instanceof JsonNumber) return `number ${value.text}`;
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "boolean") return `${value}`;
  return Array.isArray(value) ? "an array" : "an object";
}

/**
 * Parses RFC 8259 JSON. Throws a SyntaxError naming the line and column of the first problem; a key repeated in
 * one object is an error too, because a config with two values for one key is ambiguous.
 */
export function parseExactJson(text: string): ExactJson {
  const reader = new Reader(text);
  reader.skipWhitespace();
  const value = reader.value(0);
  reader.skipWhitespace();
  if (!reader.atEnd()) reader.fail("unexpected text after the JSON value");
  return value;
}

class Reader {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(problem: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split("\n").length;
    const column = this.pos - before.lastIndexOf("\n");
    throw new SyntaxError(`${problem} at line ${line} column ${column}`);
  }

  skipWhitespace(): void {
    while (!this.atEnd() && " \t\n\r".includes(this.text[this.pos] as string)) this.pos++;
  }

  value(depth: number): ExactJson {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = this.text[this.pos];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const [word, literal] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return literal;
      }
    }
    return this.fail(c === undefined ? "unexpected end of JSON" : `unexpected ${JSON.stringify(c)}`);
  }

  private expect(c: string): void {
    if (this.text[this.pos] !== c) this.fail(`expected ${JSON.stringify(c)}`);
    this.pos++;
  }

  private object(depth: number): ExactJsonObject {
    const result: ExactJsonObject = Object.create(null) as ExactJsonObject;
    this.expect("{");
    this.skipWhitespace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      const keyAt = this.pos;
      if (this.text[this.pos] !== '"') this.fail("expected a key in double quotes");
      const key = this.string();
      if (Object.hasOwn(result, key)) {
        this.pos = keyAt;
        this.fail(`duplicate key ${JSON.stringify(key)}`);
      }
      this.skipWhitespace();
      this.expect(":");
      this.skipWhitespace();
      result[key] = this.value(depth + 1);
      this.skipWhitespace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return result;
      }
      this.expect(",");
    }
  }

  private array(depth: number): ExactJson[] {
    const result: ExactJson[] = [];
    this.expect("[");
    this.skipWhitespace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      result.push(this.value(depth + 1));
      this.skipWhitespace();
      if (this.text[this.pos] === "]") {
        this.pos++;
        return result;
      }
      this.expect(",");
    }
  }

  private string(): string {
    this.expect('"');
    let result = "";
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail("unterminated string");
      if (c === '"') break;
      if (c < " ") this.fail("control character in string");
      if (c !== "\\") {
        result += c;
        this.pos++;
        continue;
      }
      const escape = this.text[this.pos + 1] ?? "";
      if (escape === "u") {
        const hex = this.text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
        result += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else {
        const decoded = ESCAPES[escape];
        if (decoded === undefined) this.fail(`bad escape \\${escape}`);
        result += decoded;
        this.pos += 2;
      }
    }
    this.pos++;
    return result;
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail("malformed number");
    this.pos += match[0].length;
    // "01" or "1.": the grammar stops early, and a digit or dot straight after a number is never valid JSON.
    const next = this.text[this.pos];
    if (next !== undefined && /[0-9.eE]/.test(next)) this.fail("malformed number");
    return new JsonNumber(match[0]);
  }
}

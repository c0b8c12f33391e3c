// A protobuf wire writer for answers encoded in one go, on the request path. protobuf-es's BinaryWriter keeps a
// list of chunks and allocates for most writes (a Uint8Array and a DataView per double, a chunk per raw or nested
// message, a copy of everything at the end): for a Route answer that was most of its encoding's cost. This one writes
// into one scratch buffer, reused from call to call, and copies the result out once. It writes the same bytes as
// BinaryWriter for the operations it has (a test checks them side by side).
//
// Nested messages and strings are written before their length is known: LENGTH_RESERVE bytes are left for the
// length, and the content is moved back once the length's own size is known (a few hundred bytes at most here).

/** The most bytes a length prefix takes: a varint of up to 2^35 - 1. */
const LENGTH_RESERVE = 5;
const INITIAL_SIZE = 16 * 1024;

/** WireType numbers, as in the protobuf spec (and @bufbuild/protobuf/wire's WireType). */
export const WIRE = { varint: 0, bit64: 1, lengthDelimited: 2 } as const;

let scratch = Buffer.allocUnsafe(INITIAL_SIZE);
/** The writer the scratch buffer belongs to: the newest one. An older writer that writes again throws. */
let owner: AnswerWriter | undefined;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/**
 * One answer's writer, used from start to finish() without giving way to other code: writers share the scratch
 * buffer, so a new writer takes it over and an older one that writes after that throws rather than mix bytes.
 */
export class AnswerWriter {
  private position = 0;
  /** Where each open nested message's reserved length starts. */
  private readonly open: number[] = [];

  constructor() {
    owner = this;
  }

  private ensure(bytes: number): void {
    if (owner !== this) throw new Error("AnswerWriter: another writer took the scratch buffer over before finish()");
    const needed = this.position + bytes;
    if (needed <= scratch.length) return;
    const larger = Buffer.allocUnsafe(Math.max(needed, scratch.length * 2));
    scratch.copy(larger, 0, 0, this.position);
    scratch = larger;
  }

  /** A non-negative integer below 2^53 as a varint. */
  private unsignedVarint(value: number): void {
    this.ensure(10);
    while (value >= 0x80) {
      scratch[this.position++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    scratch[this.position++] = value;
  }

  tag(fieldNumber: number, wireType: number): this {
    this.unsignedVarint(fieldNumber * 8 + wireType);
    return this;
  }

  /** An int32 or enum: a negative value takes ten bytes, sign-extended to 64 bits, as protobuf specifies. */
  int32(value: number): this {
    if (value >= 0) {
      this.unsignedVarint(value);
      return this;
    }
    this.ensure(10);
    // Two's complement over 64 bits: the low 32 bits as they are, then all ones.
    let low = value >>> 0;
    for (let i = 0; i < 4; i++) {
      scratch[this.position++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    scratch[this.position++] = (low & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) scratch[this.position++] = 0xff;
    scratch[this.position++] = 0x01;
    return this;
  }

  uint32(value: number): this {
    this.unsignedVarint(value >>> 0);
    return this;
  }

  /** A uint64 (or an int64: negatives as their 64-bit two's complement) given as a bigint. */
  uint64(value: bigint): this {
    if (value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.unsignedVarint(Number(value));
      return this;
    }
    this.ensure(10);
    let rest = BigInt.asUintN(64, value);
    while (rest >= 0x80n) {
      scratch[this.position++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    scratch[this.position++] = Number(rest);
    return this;
  }

  bool(value: boolean): this {
    this.unsignedVarint(value ? 1 : 0);
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.position = scratch.writeDoubleLE(value, this.position);
    return this;
  }

  /** Bytes already encoded (e.g. fields of a message), without a length. */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    scratch.set(bytes, this.position);
    this.position += bytes.length;
    return this;
  }

  /** A length-delimited value: its length, then the bytes. */
  bytes(bytes: Uint8Array): this {
    this.unsignedVarint(bytes.length);
    return this.raw(bytes);
  }

  /** UTF-8 with its length; lone surrogates become U+FFFD, as with TextEncoder. */
  string(value: string): this {
    this.ensure(LENGTH_RESERVE + value.length * 3);
    const start = this.position;
    const length = scratch.write(value, start + LENGTH_RESERVE, "utf8");
    this.position = start + LENGTH_RESERVE + length;
    this.closeLength(start);
    return this;
  }

  /** Starts a nested message; its fields follow, then join(). */
  fork(): this {
    this.ensure(LENGTH_RESERVE);
    this.open.push(this.position);
    this.position += LENGTH_RESERVE;
    return this;
  }

  join(): this {
    const start = this.open.pop();
    if (start === undefined) throw new Error("AnswerWriter: join() without fork()");
    this.closeLength(start);
    return this;
  }

  /** Writes the length of what follows the reserve at `start`, and moves that content back against it. */
  private closeLength(start: number): void {
    const contentStart = start + LENGTH_RESERVE;
    const length = this.position - contentStart;
    const prefix = varintSize(length);
    this.position = start;
    this.unsignedVarint(length);
    if (prefix !== LENGTH_RESERVE) scratch.copyWithin(this.position, contentStart, contentStart + length);
    this.position += length;
  }

  /** The bytes written, in a buffer of their own. */
  finish(): Uint8Array {
    if (this.open.length > 0) throw new Error("AnswerWriter: finish() with a nested message still open");
    this.ensure(0);
    const bytes = Buffer.allocUnsafe(this.position);
    scratch.copy(bytes, 0, 0, this.position);
    owner = undefined;
    return bytes;
  }
}

// AnswerWriter must write what protobuf-es's BinaryWriter writes for the same operations: the Route answer's bytes
// are promised equal to toBinary's. Sequences of operations are drawn at random (seeded) from values at every edge
// the encoding has: varint byte boundaries, negative int32s, 64-bit values past 2^53, special doubles, multi-byte
// and invalid UTF-16, empty values, nested messages whose length prefix takes one, two or three bytes, and answers
// larger than the scratch buffer it starts with.
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { AnswerWriter, WIRE } from "../src/api/answer-writer.js";
import { seededRandom } from "../src/util/random.js";

const UNSIGNED = [0, 1, 127, 128, 255, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2 ** 31 - 1];
const INT32 = [...UNSIGNED, -1, -2, -127, -128, -129, -16_384, -(2 ** 31)];
const UINT64 = [0n, 1n, 127n, 128n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, -1n, -(2n ** 63n)];
const DOUBLES = [0, -0, 1, -1.5, 0.1, 1e-300, 5e-324, 1.7976931348623157e308, Infinity, -Infinity, NaN];
const STRINGS = ["", "a", "x".repeat(127), "y".repeat(128), "z".repeat(20_000), "é€😀", "\ud800", "a\udc00b", "日本語".repeat(50)];
const BYTES = [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(200).fill(7), new Uint8Array(17_000).fill(9)];

type Write = (writer: AnswerWriter | BinaryWriter) => void;

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

/** A random sequence of writes, nested messages included (up to `depth` deep), as closures both writers run. */
function randomWrites(random: () => number, depth: number, count: number): Write[] {
  const writes: Write[] = [];
  for (let i = 0; i < count; i++) {
    const field = pick(random, [1, 2, 15, 16, 2047, 2048, 536_870_911]);
    const kind = Math.floor(random() * (depth > 0 ? 9 : 8));
    if (kind === 0) {
      const value = pick(random, UNSIGNED);
      writes.push((w) => w.tag(field, WIRE.varint).int32(value));
    } else if (kind === 1) {
      const value = pick(random, INT32);
      writes.push((w) => w.tag(field, WIRE.varint).int32(value));
    } else if (kind === 2) {
      const value = random() < 0.5;
      writes.push((w) => w.tag(field, WIRE.varint).bool(value));
    } else if (kind === 3) {
      const value = pick(random, DOUBLES);
      writes.push((w) => w.tag(field, WIRE.bit64).double(value));
    } else if (kind === 4) {
      const value = pick(random, STRINGS);
      writes.push((w) => w.tag(field, WIRE.lengthDelimited).string(value));
    } else if (kind === 5) {
      const value = pick(random, BYTES);
      if (random() < 0.5) writes.push((w) => w.tag(field, WIRE.lengthDelimited).bytes(value));
      else writes.push((w) => w.raw(value));
    } else if (kind === 6) {
      const value = pick(random, UNSIGNED);
      writes.push((w) => w.tag(field, WIRE.varint).uint32(value));
    } else if (kind === 7) {
      const value = pick(random, UINT64);
      writes.push((w) => {
        w.tag(field, WIRE.varint);
        // BinaryWriter takes a negative value as an int64; AnswerWriter's uint64 writes its two's complement, the same bytes.
        if (w instanceof AnswerWriter || value >= 0n) w.uint64(value);
        else w.int64(value);
      });
    } else {
      const inner = randomWrites(random, depth - 1, Math.floor(random() * 6));
      writes.push((w) => {
        w.tag(field, WIRE.lengthDelimited).fork();
        for (const write of inner) write(w);
        w.join();
      });
    }
  }
  return writes;
}

function written(writer: AnswerWriter | BinaryWriter, writes: readonly Write[]): Uint8Array {
  for (const write of writes) write(writer);
  return writer.finish();
}

describe("AnswerWriter", () => {
  it("writes the bytes BinaryWriter writes, over 300 random sequences", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 300; i++) {
      const writes = randomWrites(random, 3, 1 + Math.floor(random() * 12));
      const expected = written(new BinaryWriter(), writes);
      const actual = written(new AnswerWriter(), writes);
      expect(Buffer.from(actual).equals(Buffer.from(expected)), `sequence ${i}`).toBe(true);
    }
  });

  it("grows past its scratch buffer, and gives each answer bytes of its own", () => {
    const large = "q".repeat(100_000);
    const first = new AnswerWriter().tag(1, WIRE.lengthDelimited).fork().tag(2, WIRE.lengthDelimited).string(large).join().finish();
    const second = new AnswerWriter().tag(3, WIRE.varint).int32(5).finish();
    expect(Buffer.from(first).equals(Buffer.from(new BinaryWriter().tag(1, WIRE.lengthDelimited).fork().tag(2, WIRE.lengthDelimited).string(large).join().finish()))).toBe(true);
    expect([...second]).toEqual([0x18, 5]);
  });

  it("refuses writes from a writer whose scratch buffer a newer writer took over, and unbalanced nesting", () => {
    const older = new AnswerWriter().tag(1, WIRE.varint);
    const newer = new AnswerWriter().tag(2, WIRE.varint).int32(1);
    expect(() => older.int32(1)).toThrow(/another writer took the scratch buffer over/);
    expect([...newer.finish()]).toEqual([0x10, 1]);
    expect(() => new AnswerWriter().join()).toThrow(/join\(\) without fork\(\)/);
    expect(() => new AnswerWriter().fork().finish()).toThrow(/nested message still open/);
  });
});

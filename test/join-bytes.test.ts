import { describe, expect, it } from "vitest";
import { concatInSlices, joinBytes } from "../src/util/join-bytes.js";

const filled = (length: number, value: number) => new Uint8Array(length).fill(value);

describe("concatInSlices", () => {
  it("copies the pieces in order into one new array, empty pieces and none included", async () => {
    const pieces = [filled(3, 1), filled(0, 9), Uint8Array.of(2, 3), filled(1, 4)];
    const joined = await concatInSlices(pieces);
    expect(joined).toEqual(Uint8Array.of(1, 1, 1, 2, 3, 4));
    expect(joined.buffer.byteLength).toBe(6);
    expect(await concatInSlices([])).toEqual(new Uint8Array(0));
  });

  it("lets other work run while copying megabytes, and copies every byte", async () => {
    const pieces = Array.from({ length: 6 }, (_, i) => filled(3 * 1024 * 1024, i + 1));
    let copied = false;
    const joining = concatInSlices(pieces).then((joined) => {
      copied = true;
      return joined;
    });
    // An immediate queued once the copy has started runs before the copy ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(copied).toBe(false);
    const joined = await joining;
    expect(joined.length).toBe(18 * 1024 * 1024);
    expect(Buffer.from(joined.buffer, joined.byteOffset, joined.length).equals(Buffer.concat(pieces))).toBe(true);
  });
});

describe("joinBytes", () => {
  it("puts the separator between parts and says where each part starts", async () => {
    const { bytes, starts } = await joinBytes(Buffer.from("["), [Buffer.from("a"), Buffer.from("bc"), Buffer.from("")], Buffer.from(","), Buffer.from("]"));
    expect(bytes.toString()).toBe("[a,bc,]");
    expect(starts).toEqual([1, 3, 6]);
    expect(Buffer.isBuffer(bytes)).toBe(true);
  });

  it("is before and after alone for no parts", async () => {
    const { bytes, starts } = await joinBytes(Buffer.from("{"), [], Buffer.from(","), Buffer.from("}"));
    expect(bytes.toString()).toBe("{}");
    expect(starts).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { BoundedCache } from "../src/util/bounded-cache.js";

describe("BoundedCache", () => {
  it("creates each value once and returns it while it is cached", () => {
    const cache = new BoundedCache<string, object>(3);
    let created = 0;
    const first = cache.getOrCreate("a", () => ({ n: ++created }));
    expect(cache.getOrCreate("a", () => ({ n: ++created }))).toBe(first);
    expect(created).toBe(1);
  });

  it("never holds more than its limit: a new key past it starts the cache over", () => {
    const cache = new BoundedCache<number, number>(3);
    for (let i = 0; i < 3; i++) cache.set(i, i);
    cache.set(1, 10); // an existing key is replaced, nothing forgotten
    expect(cache.size).toBe(3);
    cache.set(3, 3);
    expect(cache.size).toBe(1);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.get(3)).toBe(3);
  });
});

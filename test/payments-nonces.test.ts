import { describe, expect, it } from "vitest";
import { NonceAllocator, NonceError } from "../src/payments/nonces.js";

const P = (n: number, expirationBlock = 1000n) => ({ recipientRandHash: `0x${n.toString(16).padStart(64, "0")}`, expirationBlock });

describe("NonceAllocator", () => {
  it("starts at 1 per recipient_rand_hash and continues without reuse (pm/sender_test.go TestCreateTicketBatch_MultipleTickets)", () => {
    const a = new NonceAllocator();
    expect(a.allocate(P(1), 3)).toEqual([1, 2, 3]);
    expect(a.allocate(P(1), 2)).toEqual([4, 5]);
    expect(a.allocate(P(2), 1)).toEqual([1]);
    expect(a.allocate(P(1), 0)).toEqual([]);
    // the hash is case-insensitive
    expect(a.allocate({ recipientRandHash: P(1).recipientRandHash.toUpperCase().replace("0X", "0x"), expirationBlock: 1000n }, 1)).toEqual([6]);
  });

  it("concurrent callers get disjoint nonces", async () => {
    const a = new NonceAllocator();
    const batches = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await Promise.resolve();
        return a.allocate(P(7), 1 + (i % 5));
      }),
    );
    const all = batches.flat().sort((x, y) => x - y);
    expect(all.length).toBe(300);
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(a.remaining(P(7).recipientRandHash)).toBe(300);
  });

  it("at most 600 per params set, all or nothing; then fresh params are needed", () => {
    const a = new NonceAllocator();
    expect(a.allocate(P(1), 599).length).toBe(599);
    let err: unknown;
    try { a.allocate(P(1), 2); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(NonceError);
    expect((err as NonceError).reason).toBe("exhausted");
    expect((err as Error).message).toMatch(/1 of 600 nonces left, 2 asked: fetch fresh ticket params/);
    expect(a.allocate(P(1), 1)).toEqual([600]);
    expect(() => a.allocate(P(1), 1)).toThrow(NonceError);
    expect(a.remaining(P(1).recipientRandHash)).toBe(0);
    expect(a.allocate(P(2), 600).at(-1)).toBe(600);
    expect(() => a.allocate(P(3), 601)).toThrow(/fetch fresh ticket params/);
    expect(() => a.allocate(P(3), -1)).toThrow(/non-negative/);
    expect(() => a.allocate(P(3), 1.5)).toThrow(/non-negative/);
  });

  it("memory is bounded: expired params are pruned, live ones are never forgotten", () => {
    const a = new NonceAllocator({ maxSessions: 3 });
    a.allocate(P(1, 50n), 1);
    a.allocate(P(2, 1000n), 1);
    a.allocate(P(3, 1000n), 1);
    expect(() => a.allocate(P(4, 1000n), 1)).toThrow(/more than 3 ticket params sets/);
    expect(a.prune(49n)).toBe(1); // 50 − 49 ≤ 1: refused by validation, safe to drop
    expect(a.allocate(P(4, 1000n), 1)).toEqual([1]);
    expect(a.allocate(P(2, 1000n), 1)).toEqual([2]);
    expect(a.size).toBe(3);
    for (let i = 0; i < 1000; i++) a.prune(BigInt(i));
    expect(a.size).toBe(0);
  });
});

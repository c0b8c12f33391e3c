// The outcome window against a plain list of the last N outcomes, across word boundaries and wrap-arounds.
import { describe, expect, it } from "vitest";
import { OutcomeWindow } from "../src/routing/outcome-window.js";

/** A small deterministic generator, so a failure shows the same sequence again. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("OutcomeWindow", () => {
  for (const size of [1, 2, 29, 30, 31, 50, 60, 61, 97]) {
    it(`keeps the success rate of exactly the last ${size} outcomes`, () => {
      const window = new OutcomeWindow(size);
      const reference: boolean[] = [];
      const random = lcg(size);
      for (let i = 0; i < size * 5 + 7; i++) {
        const failure = random() < 0.3;
        window.push(failure);
        reference.push(failure);
        if (reference.length > size) reference.shift();
        const failures = reference.filter(Boolean).length;
        expect(window.samples).toBe(reference.length);
        expect(window.successRate).toBe((reference.length - failures) / reference.length);
      }
    });
  }

  it("reads 1 when empty and forgets everything on clear", () => {
    const window = new OutcomeWindow(50);
    expect(window.successRate).toBe(1);
    for (let i = 0; i < 70; i++) window.push(i % 2 === 0);
    expect(window.successRate).toBe(0.5);
    window.clear();
    expect(window.samples).toBe(0);
    expect(window.successRate).toBe(1);
    window.push(false);
    expect(window.successRate).toBe(1);
  });
});

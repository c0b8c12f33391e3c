// offerKey's tables are process-wide: this file has a module context of its own (vitest isolates test files), so
// filling them here leaves the other tests alone.
import { describe, expect, it } from "vitest";
import { OFFER_KEY_LIMITS, offerKey } from "../src/network/offers.js";

describe("offerKey past its limits", () => {
  it("gives pairs beyond the cap the long key: unique, the same every time, never a number", () => {
    const uri = "https://orch.example:8935";
    const numbered = offerKey(uri, "llm", "first");
    expect(numbered).toMatch(/^\d+\/\d+$/);
    // An orchestrator advertising fresh model ids at every refresh.
    for (let i = 0; i < OFFER_KEY_LIMITS.pairs + 10; i++) offerKey(uri, "llm", `random-${i}`);
    const late = offerKey(uri, "llm", "late-model");
    expect(late).toBe(JSON.stringify([uri, "llm", "late-model"]));
    expect(offerKey(uri, "llm", "late-model")).toBe(late);
    // What was numbered keeps its number; a numbered orchestrator with an unnumbered pair gets the long key too.
    expect(offerKey(uri, "llm", "first")).toBe(numbered);
    expect(offerKey("https://other.example:8935", "llm", "late-model")).not.toBe(late);
  });

  it("caps the orchestrators too", () => {
    for (let i = 0; i < OFFER_KEY_LIMITS.orchestrators + 5; i++) offerKey(`https://orch-${i}.example:8935`, "llm", "first");
    const uri = "https://newcomer.example:8935";
    expect(offerKey(uri, "llm", "first")).toBe(JSON.stringify([uri, "llm", "first"]));
  });
});

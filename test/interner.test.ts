import { describe, expect, it } from "vitest";
import { Interner } from "../src/util/interner.js";

describe("Interner", () => {
  it("keeps one entry per distinct string and hands back an equal one", () => {
    const strings = new Interner();
    const decoded = ["stabilityai/sdxl-turbo", "0.14.2", "stabilityai/sdxl-turbo", "", "0.14.2"].map((s) => [...s].join(""));
    expect(decoded.map((s) => strings.intern(s))).toEqual(["stabilityai/sdxl-turbo", "0.14.2", "stabilityai/sdxl-turbo", "", "0.14.2"]);
    expect(strings.size).toBe(3);
  });
});

import { describe, expect, it } from "vitest";
import {
  CAPABILITY_DISPLAY_NAMES,
  DEFAULT_CAPABILITY_IDS,
  PIPELINE_CAPABILITY_IDS,
  capabilityBitstring,
  capabilityIdsOf,
  capabilityNameProblem,
} from "../src/network/capabilities.js";

describe("capability bitstrings", () => {
  // Values from go-livepeer (ref discovery §2.3): DefaultCapabilities() and with text-to-image / live-video-to-video.
  it("matches go-livepeer's default bitstring", () => {
    expect(capabilityBitstring(DEFAULT_CAPABILITY_IDS)).toEqual([67133439n]);
  });
  it("adds text-to-image and live-video-to-video bits", () => {
    expect(capabilityBitstring([...DEFAULT_CAPABILITY_IDS, 27])).toEqual([201351167n]);
    expect(capabilityBitstring([...DEFAULT_CAPABILITY_IDS, 35])).toEqual([34426871807n]);
  });
  it("round-trips ids through words beyond the first", () => {
    expect(capabilityIdsOf(capabilityBitstring([3, 64, 130]))).toEqual([3, 64, 130]);
  });
});

describe("capability names", () => {
  it("maps pipeline names the way PipelineToCapability does", () => {
    for (const [pipeline, id] of PIPELINE_CAPABILITY_IDS) {
      const display = pipeline.charAt(0).toUpperCase() + pipeline.slice(1).replaceAll("-", " ");
      expect(CAPABILITY_DISPLAY_NAMES.get(id)).toBe(display);
    }
  });
  it("leaves out the deprecated 13 and spells BYOC in lower case", () => {
    expect(CAPABILITY_DISPLAY_NAMES.has(13)).toBe(false);
    expect(CAPABILITY_DISPLAY_NAMES.get(37)).toBe("byoc");
  });
});

describe("capability names from requests", () => {
  it("accepts pipeline and BYOC names, and names what is wrong with others", () => {
    expect(capabilityNameProblem("image-to-image", "capability")).toBeUndefined();
    expect(capabilityNameProblem("my_org/depth.v2", "capability")).toBeUndefined();
    expect(capabilityNameProblem("image to image", "capability")).toBe('capability "image to image" must be printable ASCII without spaces');
    expect(capabilityNameProblem("dépth", "job.capability")).toMatch(/^job\.capability "dépth" must be printable ASCII/);
    expect(capabilityNameProblem("x".repeat(129), "capability")).toBe("capability is 129 characters long; the limit is 128");
  });
});

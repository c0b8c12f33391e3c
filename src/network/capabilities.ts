// go-livepeer's capability ids, display names and pipeline names (core/capabilities.go at the vendored commit).

/** Capability id of every BYOC ("bring your own container") capability; the name travels as the constraint. */
export const BYOC_CAPABILITY_ID = 37;

/**
 * CapabilityNameLookup: id -> display name. 13 (SceneClassification, deprecated) is absent upstream, and 37 is
 * spelled "byoc" in lower case. /getNetworkCapabilities publishes exactly this table as capabilities_names.
 */
export const CAPABILITY_DISPLAY_NAMES: ReadonlyMap<number, string> = new Map([
  [-2, "Invalid"],
  [-1, "Unused"],
  [0, "H.264"],
  [1, "MPEGTS"],
  [2, "MP4"],
  [3, "Fractional framerates"],
  [4, "Storage direct"],
  [5, "Storage S3"],
  [6, "Storage GCS"],
  [7, "H264 Baseline profile"],
  [8, "H264 Main profile"],
  [9, "H264 High profile"],
  [10, "H264 Constrained, Contained High profile"],
  [11, "GOP"],
  [12, "Auth token"],
  [14, "MPEG7 signature"],
  [15, "HEVC decode"],
  [16, "HEVC encode"],
  [17, "VP8 decode"],
  [18, "VP9 decode"],
  [19, "VP8 encode"],
  [20, "VP9 encode"],
  [21, "H264 Decode YUV444 8-bit"],
  [22, "H264 Decode YUV422 8-bit"],
  [23, "H264 Decode YUV444 10-bit"],
  [24, "H264 Decode YUV422 10-bit"],
  [25, "H264 Decode YUV420 10-bit"],
  [26, "Segment slicing"],
  [27, "Text to image"],
  [28, "Image to image"],
  [29, "Image to video"],
  [30, "Upscale"],
  [31, "Audio to text"],
  [32, "Segment anything 2"],
  [33, "Llm"],
  [34, "Image to text"],
  [35, "Live video to video"],
  [36, "Text to speech"],
  [37, "byoc"],
]);

/** DefaultCapabilities(): what every go-livepeer gateway sets in its request bitstring. */
export const DEFAULT_CAPABILITY_IDS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 26];

/**
 * Built-in AI pipelines: name (core/ai.go PipelineToCapability: first letter upper-cased, "-" -> " ", matched
 * against the display names) -> id. BYOC is not a pipeline: its capabilities are named by their operators.
 */
export const PIPELINE_CAPABILITY_IDS: ReadonlyMap<string, number> = new Map([
  ["text-to-image", 27],
  ["image-to-image", 28],
  ["image-to-video", 29],
  ["upscale", 30],
  ["audio-to-text", 31],
  ["segment-anything-2", 32],
  ["llm", 33],
  ["image-to-text", 34],
  ["live-video-to-video", 35],
  ["text-to-speech", 36],
]);

const PIPELINE_NAMES_BY_ID: ReadonlyMap<number, string> = new Map(
  [...PIPELINE_CAPABILITY_IDS].map(([name, id]) => [id, name]),
);

/** The pipeline name of a built-in AI capability id, or undefined for transcoding features, BYOC and unknown ids. */
export function pipelineName(capabilityId: number): string | undefined {
  return PIPELINE_NAMES_BY_ID.get(capabilityId);
}

/** go-livepeer's default model per pipeline (server/ai_process.go), used when a request names none. */
export const DEFAULT_MODEL_IDS: ReadonlyMap<string, string> = new Map([
  ["text-to-image", "stabilityai/sdxl-turbo"],
  ["image-to-image", "stabilityai/sdxl-turbo"],
  ["image-to-video", "stabilityai/stable-video-diffusion-img2vid-xt"],
  ["upscale", "stabilityai/stable-diffusion-x4-upscaler"],
  ["audio-to-text", "openai/whisper-large-v3"],
  ["llm", "meta-llama/llama-3.1-8B-Instruct"],
  ["segment-anything-2", "facebook/sam2-hiera-large"],
  ["image-to-text", "Salesforce/blip-image-captioning-large"],
  ["live-video-to-video", "noop"],
  ["text-to-speech", "parler-tts/parler-tts-large-v1"],
]);

/** A capability bitstring: capability c is bit c % 64 of word c / 64 (core/capabilities.go addCapability). */
export function capabilityBitstring(ids: Iterable<number>): bigint[] {
  const words: bigint[] = [];
  for (const id of ids) {
    if (id < 0) continue;
    const word = Math.floor(id / 64);
    while (words.length <= word) words.push(0n);
    words[word] = (words[word] ?? 0n) | (1n << BigInt(id % 64));
  }
  return words;
}

/** The capability ids set in a bitstring. */
export function capabilityIdsOf(bitstring: readonly bigint[]): number[] {
  const ids: number[] = [];
  bitstring.forEach((word, index) => {
    for (let bit = 0; bit < 64; bit++) if ((word >> BigInt(bit)) & 1n) ids.push(index * 64 + bit);
  });
  return ids;
}

/** Longest capability name accepted from a request. */
export const MAX_CAPABILITY_NAME_LENGTH = 128;

/**
 * What is wrong with a capability name from a request, or undefined when nothing is: pipeline and BYOC names are short
 * and printable, without spaces or control characters. `field` names it in the text ("capability").
 */
export function capabilityNameProblem(value: string, field: string): string | undefined {
  if (value.length > MAX_CAPABILITY_NAME_LENGTH) return `${field} is ${value.length} characters long; the limit is ${MAX_CAPABILITY_NAME_LENGTH}`;
  if (!/^[\x21-\x7e]+$/.test(value)) return `${field} ${JSON.stringify(value)} must be printable ASCII without spaces`;
  return undefined;
}

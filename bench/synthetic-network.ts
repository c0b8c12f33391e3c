// A synthetic network for the selection benchmarks: N orchestrators, each offering all 20 capabilities (the 10
// built-in AI pipelines with 1–2 models each, and 10 BYOC capabilities), with varied exact prices (sub-wei ones
// included), a warm/cold mix, discovery latencies, and health history recorded for a share of the keys.
import { PIPELINE_CAPABILITY_IDS } from "../src/network/capabilities.js";
import { parsePricePerUnit } from "../src/network/currency.js";
import { byocOffer, type Offer } from "../src/network/offers.js";
import { weiPerUnit, type WeiPerUnit } from "../src/network/price.js";
import { NetworkSnapshot, type OrchestratorState } from "../src/network/snapshot.js";
import { HealthTracker, type HealthKey, type OutcomeClass } from "../src/routing/health.js";
import { seededRandom } from "../src/util/random.js";

/** Wei per unit around which each pipeline's prices vary, and the models orchestrators pick from. */
export const PIPELINES: ReadonlyArray<{ name: string; basePrice: number; models: readonly string[] }> = [
  { name: "text-to-image", basePrice: 4768.371, models: ["SG161222/RealVisXL_V4.0_Lightning", "stabilityai/sdxl-turbo", "black-forest-labs/FLUX.1-schnell"] },
  { name: "image-to-image", basePrice: 4768.371, models: ["SG161222/RealVisXL_V4.0_Lightning", "timbrooks/instruct-pix2pix", "stabilityai/sdxl-turbo"] },
  { name: "image-to-video", basePrice: 3390.842, models: ["stabilityai/stable-video-diffusion-img2vid-xt-1-1", "stabilityai/stable-video-diffusion-img2vid-xt"] },
  { name: "upscale", basePrice: 4768.371, models: ["stabilityai/stable-diffusion-x4-upscaler"] },
  { name: "audio-to-text", basePrice: 12882.811, models: ["openai/whisper-large-v3", "distil-whisper/distil-large-v3"] },
  { name: "segment-anything-2", basePrice: 4768.371, models: ["facebook/sam2-hiera-large", "facebook/sam2-hiera-tiny"] },
  { name: "llm", basePrice: 180, models: ["meta-llama/Meta-Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"] },
  { name: "image-to-text", basePrice: 1200, models: ["Salesforce/blip-image-captioning-large"] },
  { name: "live-video-to-video", basePrice: 3.5, models: ["streamdiffusion", "comfyui", "noop"] },
  { name: "text-to-speech", basePrice: 12882.811, models: ["parler-tts/parler-tts-large-v1"] },
];

/** BYOC capabilities, priced per second of work. */
export const BYOC: ReadonlyArray<{ name: string; basePrice: number }> = [
  { name: "depth", basePrice: 50_000 },
  { name: "segmentation", basePrice: 80_000 },
  { name: "pose", basePrice: 45_000 },
  { name: "style-transfer", basePrice: 110_000 },
  { name: "video-to-video", basePrice: 150_000 },
  { name: "background-removal", basePrice: 30_000 },
  { name: "object-detection", basePrice: 40_000 },
  { name: "face-restoration", basePrice: 60_000 },
  { name: "lip-sync", basePrice: 200_000 },
  { name: "frame-interpolation", basePrice: 70_000 },
];

export const CAPABILITY_COUNT = PIPELINES.length + BYOC.length;

export const REGIONS = ["us-east", "us-west", "eu-central", "eu-west", "ap-southeast"];
/** Denominators of exact quotes: whole wei, thirds and sevenths (sub-wei), and decimal fractions. */
export const DENOMINATORS = [1n, 1n, 3n, 7n, 1_000n, 1_000_000n];

export interface SyntheticNetwork {
  snapshot: NetworkSnapshot;
  health: HealthTracker;
  regions: ReadonlyMap<string, string>;
  offers: number;
  healthKeys: number;
}

export interface SyntheticOptions {
  orchestrators: number;
  seed?: number;
  /** Share of (orchestrator, capability, model) keys with recorded outcomes. */
  historyShare?: number;
}

/** The clock the health tracker reads: advanced while history is recorded, then frozen so runs are repeatable. */
const START = Date.UTC(2025, 0, 1);

export function syntheticNetwork(options: SyntheticOptions): SyntheticNetwork {
  const random = seededRandom(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const regions = new Map<string, string>();
  const states: OrchestratorState[] = [];
  let offerCount = 0;

  /** base × a factor in [0.4, 2.5), skewed towards the base, as an exact ratio; ~3% carry no known price. */
  const price = (base: number): Pick<Offer, "price" | "priceSource"> => {
    if (random() < 0.03) return { priceSource: "unknown" };
    const factor = 0.4 + 2.1 * random() * random();
    const den = pick(DENOMINATORS);
    const num = BigInt(Math.max(1, Math.round(base * factor * Number(den))));
    return { price: weiPerUnit(num, den), priceSource: den === 1n ? "listed" : "exact" };
  };

  for (let index = 0; index < options.orchestrators; index++) {
    // Joined rather than templated: a flat string, as URL normalisation in discovery yields (not a rope).
    const uri = ["https://orch-", String(index).padStart(5, "0"), ".bench.invalid:8935"].join("");
    regions.set(uri, pick(REGIONS));
    const offers: Offer[] = [];
    const runnerVersion = pick(["0.13.9", "0.14.1", "0.14.2"]);
    for (const pipeline of PIPELINES) {
      const modelCount = pipeline.models.length > 1 && random() < 0.5 ? 2 : 1;
      const first = Math.floor(random() * pipeline.models.length);
      for (let m = 0; m < modelCount; m++) {
        const full = pipeline.name === "live-video-to-video" && random() < 0.1; // every container busy
        offers.push({
          orchestratorUri: uri,
          capability: pipeline.name,
          capabilityId: PIPELINE_CAPABILITY_IDS.get(pipeline.name) as number,
          modelId: pipeline.models[(first + m) % pipeline.models.length] as string,
          warm: random() < 0.6,
          capacity: full ? 0 : 1 + Math.floor(random() * 4),
          capacityInUse: full ? 2 : 0,
          runnerVersion,
          ...price(pipeline.basePrice),
        });
      }
    }
    for (const byoc of BYOC) offers.push(byocOffer(uri, byoc.name, price(byoc.basePrice).price));
    const usable = random() >= 0.02;
    if (usable) offerCount += offers.length;
    // Discovery round trips: mostly tens of ms, a long tail to several hundred.
    const latencyMs = Math.round(15 + 40 * random() + (random() < 0.2 ? 500 * random() : 0));
    states.push({
      uri,
      offers,
      observation: { lastSeen: START, latencyMs, consecutiveFailures: usable ? 0 : 3, reachable: usable },
      usable,
    });
  }

  const { health, healthKeys } = syntheticHealth(
    states.map((state) => state.offers),
    random,
    options.historyShare ?? 0.3,
  );
  return { snapshot: new NetworkSnapshot(1, START, states), health, regions, offers: offerCount, healthKeys };
}

/**
 * Health history: a few jobs for a share (`historyShare`) of the (orchestrator, capability, model) keys, ~5% of them
 * failures. Then ~1% of those keys fail hard enough to be ejected, close together in time so that the ejections are
 * still in force when the clock stops.
 */
export function syntheticHealth(
  offerLists: Iterable<readonly Offer[]>,
  random: () => number,
  historyShare: number,
): { health: HealthTracker; healthKeys: number } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let now = START;
  const health = new HealthTracker({}, () => now);
  const failing: HealthKey[] = [];
  let healthKeys = 0;
  for (const offers of offerLists) {
    const jobLatencyMs = 40 + 400 * random();
    for (const offer of offers) {
      if (random() >= historyShare) continue;
      healthKeys++;
      const key = { orchestratorUri: offer.orchestratorUri, capability: offer.capability, modelId: offer.modelId };
      if (random() < 0.01) failing.push(key);
      for (let job = 4 + Math.floor(random() * 8); job > 0; job--) {
        now += 1_000;
        const outcome: OutcomeClass = random() < 0.05 ? pick(["timeout", "http_5xx", "no_capacity"]) : "success";
        health.record(key, outcome, jobLatencyMs * (0.7 + 0.6 * random()));
      }
    }
  }
  for (const key of failing) {
    for (let job = 0; job < 6; job++) {
      now += 1;
      health.record(key, "timeout", 10_000);
    }
  }
  return { health, healthKeys };
}

/**
 * A price ceiling at the given quantile of a capability's known prices, as go-livepeer price text (3 decimals) and
 * as the exact price it parses to, so the in-process and Router benchmarks apply the very same ceiling.
 */
export function ceilingAtQuantile(snapshot: NetworkSnapshot, capability: string, quantile: number): { text: string; price: WeiPerUnit } {
  const prices = snapshot
    .offers(capability)
    .flatMap((offer) => (offer.price === undefined ? [] : [Number(offer.price.num) / Number(offer.price.den)]))
    .sort((a, b) => a - b);
  const text = (prices[Math.floor(quantile * (prices.length - 1))] ?? 0).toFixed(3);
  const { amount } = parsePricePerUnit(text);
  return { text, price: weiPerUnit(amount.num, amount.den) };
}

// What a simulated orchestrator offers: the facts an operator configures on a go-livepeer orchestrator and its AI
// workers (pipelines, models, warm state, capacity, prices, GPUs, BYOC capabilities), as plain data.
import { keccak256 } from "ethers/crypto";
import { toUtf8Bytes } from "ethers/utils";
import { Wallet } from "ethers/wallet";
import { PIPELINE_CAPABILITY_IDS } from "../network/capabilities.js";
import type { WeiPerUnit } from "../network/price.js";

/** One GPU as an AI worker reports it in net.GPUComputeInfo. */
export interface SimulatedGpu {
  readonly name: string;
  /** CUDA compute capability. */
  readonly major: number;
  readonly minor: number;
  readonly memoryTotal: bigint;
  readonly memoryFree: bigint;
}

/** A model served for a built-in AI pipeline. */
export interface SimulatedModel {
  readonly modelId: string;
  /** Loaded and ready (warm) or loaded on first use (cold). */
  readonly warm: boolean;
  /** Idle containers able to take a job. */
  readonly capacity: number;
  /** Busy containers; go-livepeer reports this only for live-video-to-video. */
  readonly capacityInUse?: number;
  readonly runnerVersion: string;
  /** Wei per billing unit of the pipeline (pixels for image pipelines, tokens for llm, ...). */
  readonly price: WeiPerUnit;
  readonly gpu: SimulatedGpu;
}

/** A BYOC capability: a name chosen by the operator, priced per second of work, with no capability bit. */
export interface SimulatedByocCapability {
  readonly name: string;
  readonly pricePerSecond: WeiPerUnit;
  /** Concurrent jobs the worker accepts; not part of GetOrchestrator, used by BYOC's /process/token. */
  readonly capacity: number;
}

export interface SimulatedOrchestratorSpec {
  /** Unique name; also the seed of the node account, so addresses are stable across runs. */
  readonly name: string;
  /** go-livepeer version the orchestrator reports. */
  readonly version: string;
  /** Base (transcoding) price, wei per pixel: price_info of a listing, and the fallback of a scoped quote. */
  readonly transcodingPrice: WeiPerUnit;
  /** Built-in AI pipeline name (e.g. "image-to-image") -> models served. */
  readonly pipelines: Readonly<Record<string, readonly SimulatedModel[]>>;
  readonly byoc: readonly SimulatedByocCapability[];
}

/** One (pipeline, model) offer with the pipeline's capability id. */
export interface SimulatedModelOffer {
  readonly pipeline: string;
  readonly capabilityId: number;
  readonly model: SimulatedModel;
}

/**
 * The orchestrator's node account. The private key is keccak256 of the spec name: deterministic and therefore
 * public, which is only acceptable because the devnet moves no real money.
 */
export function simulatedOrchestratorWallet(name: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(name)));
}

/** Throws an error naming the first thing wrong with a spec, so a bad one fails at start and not on every call. */
export function validateSpec(spec: SimulatedOrchestratorSpec): void {
  const where = `simulated orchestrator "${spec.name}"`;
  if (spec.name.trim() === "") throw new Error("simulated orchestrator: name must not be empty");
  checkPrice(`${where} transcoding price`, spec.transcodingPrice);
  const seen = new Set<string>();
  for (const { pipeline, model } of modelOffers(spec)) {
    const what = `${where} ${pipeline} ${model.modelId}`;
    if (seen.has(`${pipeline}\n${model.modelId}`)) throw new Error(`${what}: listed twice`);
    seen.add(`${pipeline}\n${model.modelId}`);
    checkPrice(`${what} price`, model.price);
    checkCount(`${what} capacity`, model.capacity);
    checkCount(`${what} capacityInUse`, model.capacityInUse ?? 0);
  }
  const byocNames = new Set<string>();
  for (const byoc of spec.byoc) {
    if (byoc.name === "" || byocNames.has(byoc.name)) throw new Error(`${where}: BYOC name "${byoc.name}" empty or repeated`);
    byocNames.add(byoc.name);
    checkPrice(`${where} BYOC ${byoc.name} price`, byoc.pricePerSecond);
    checkCount(`${where} BYOC ${byoc.name} capacity`, byoc.capacity);
  }
}

function checkPrice(what: string, price: WeiPerUnit): void {
  if (price.den <= 0n || price.num < 0n) throw new Error(`${what} must be a non-negative ratio, got ${price.num}/${price.den}`);
}

/** Capacities travel as uint32. */
function checkCount(what: string, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 0xffff_ffff) throw new Error(`${what} must be a uint32, got ${count}`);
}

/** Every (pipeline, model) the spec serves. Throws on a pipeline name go-livepeer does not know. */
export function modelOffers(spec: SimulatedOrchestratorSpec): SimulatedModelOffer[] {
  const offers: SimulatedModelOffer[] = [];
  for (const [pipeline, models] of Object.entries(spec.pipelines)) {
    const capabilityId = PIPELINE_CAPABILITY_IDS.get(pipeline);
    if (capabilityId === undefined) {
      throw new Error(`simulated orchestrator ${spec.name}: unknown AI pipeline "${pipeline}"`);
    }
    for (const model of models) offers.push({ pipeline, capabilityId, model });
  }
  return offers;
}

// Synthetic orchestrators for the memory benchmark: the synthetic network's 20 capabilities as devnet specs, and an
// stand-in for the gateway's gRPC client pool that answers each GetOrchestrator with the bytes a simulated orchestrator
// sends (built by the devnet in a child process, encoded, and decoded as the real client decodes them). Discovery then
// indexes 10,000 orchestrators exactly as it would from the network, without 10,000 TLS servers on two cores (the
// network sweeps are measured separately, at 100 and 1,000).
import type { ChildProcess } from "node:child_process";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { OrchestratorInfoSchema, OrchestratorRequestSchema, type OrchestratorRequest } from "../src/gen/net/lp_rpc_pb.js";
import { orchestratorInfoFor, type OrchestratorIdentity } from "../src/devnet/orchestrator-info.js";
import type { SimulatedGpu, SimulatedModel, SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { weiPerUnit, type WeiPerUnit } from "../src/network/price.js";
import { decodePriceInfoOnly, decodeReceivedInfo, type CallOptions, type ReceivedInfo } from "../src/orchestrator/orchestrator-client.js";
import type { OrchestratorCaller } from "../src/discovery/discovery.js";
import { preEncoded } from "../src/orchestrator/orchestrator-request.js";
import { BoundedCache } from "../src/util/bounded-cache.js";
import { seededRandom } from "../src/util/random.js";
import { forkScript } from "./children.js";
import { BYOC, DENOMINATORS, PIPELINES } from "./synthetic-network.js";

const GPUS: readonly Omit<SimulatedGpu, "memoryFree">[] = [
  { name: "NVIDIA GeForce RTX 4090", major: 8, minor: 9, memoryTotal: 25757220864n },
  { name: "NVIDIA GeForce RTX 3090", major: 8, minor: 6, memoryTotal: 25769803776n },
  { name: "NVIDIA A100-SXM4-80GB", major: 8, minor: 0, memoryTotal: 85899345920n },
  { name: "NVIDIA L40S", major: 8, minor: 9, memoryTotal: 48305799168n },
];

export interface SyntheticOrchestrator {
  readonly uri: string;
  readonly spec: SimulatedOrchestratorSpec;
  readonly identity: OrchestratorIdentity;
}

/** The URI of synthetic orchestrator number `index`. */
export function syntheticOrchestratorUri(index: number): string {
  return `https://orch-${String(index).padStart(5, "0")}.bench.invalid:8935`;
}

/**
 * Synthetic orchestrator number `index`: it serves the 10 built-in pipelines (1–2 models each, on its own GPU) and
 * 10 BYOC capabilities, at varied exact prices. The same index always gives the same orchestrator.
 */
export function syntheticOrchestrator(index: number): SyntheticOrchestrator {
  const random = seededRandom(index + 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const price = (base: number): WeiPerUnit => {
    const den = pick(DENOMINATORS);
    return weiPerUnit(BigInt(Math.max(1, Math.round(base * (0.4 + 2.1 * random() * random()) * Number(den)))), den);
  };
  const uri = syntheticOrchestratorUri(index);
  const runnerVersion = pick(["0.13.9", "0.14.1", "0.14.2"]);
  const pipelines: Record<string, SimulatedModel[]> = {};
  for (const pipeline of PIPELINES) {
    const modelCount = pipeline.models.length > 1 && random() < 0.5 ? 2 : 1;
    const first = Math.floor(random() * pipeline.models.length);
    pipelines[pipeline.name] = Array.from({ length: modelCount }, (_, m) => {
      const gpu = pick(GPUS);
      return {
        modelId: pipeline.models[(first + m) % pipeline.models.length] as string,
        warm: random() < 0.6,
        capacity: 1 + Math.floor(random() * 4),
        runnerVersion,
        price: price(pipeline.basePrice),
        gpu: { ...gpu, memoryFree: gpu.memoryTotal / BigInt(2 + Math.floor(random() * 6)) },
      };
    });
  }
  const address = Uint8Array.from({ length: 20 }, () => Math.floor(random() * 256));
  return {
    uri,
    spec: {
      name: `orch-${index}`,
      version: pick(["0.8.7", "0.8.8"]),
      transcodingPrice: weiPerUnit(BigInt(500 + Math.floor(random() * 1000)), 1n),
      pipelines,
      byoc: BYOC.map((byoc) => ({ name: byoc.name, pricePerSecond: price(byoc.basePrice), capacity: 2 })),
    },
    identity: { serviceUri: uri, address },
  };
}

/**
 * Answers GetOrchestrator for synthetic orchestrators 0..count-1: the devnet builds each reply and encodes it, as a
 * simulated orchestrator would. Orchestrators are built when asked and soon dropped, so that the answering side holds
 * a few hundred of them, not the whole network.
 */
export class SyntheticAnswers {
  readonly uris: readonly string[];
  private readonly indexOf: Map<string, number>;
  /** The orchestrators of the calls in flight (a sweep asks ~64 at a time): a few hundred, never all of them. */
  private readonly recent = new BoundedCache<number, SyntheticOrchestrator>(512);

  constructor(count: number) {
    this.uris = Array.from({ length: count }, (_, index) => syntheticOrchestratorUri(index));
    this.indexOf = new Map(this.uris.map((uri, index) => [uri, index]));
  }

  /** The encoded OrchestratorInfo the orchestrator at `uri` sends for the encoded OrchestratorRequest `request`. */
  answer(uri: string, request: Uint8Array): Uint8Array {
    const index = this.indexOf.get(uri);
    if (index === undefined) throw new Error(`no synthetic orchestrator at ${uri}`);
    const { spec, identity } = this.recent.getOrCreate(index, () => syntheticOrchestrator(index));
    const received = fromBinary(OrchestratorRequestSchema, request);
    return toBinary(OrchestratorInfoSchema, orchestratorInfoFor(spec, identity, received));
  }
}

/**
 * The gateway's side of synthetic orchestrators answering from a child process (synthetic-orchestrators-child):
 * requests go out as the bytes the gateway would send, replies come back as the bytes an orchestrator sends and are
 * decoded as the real client decodes them. Building and encoding replies allocates several times what the gateway
 * does per call; in a process of its own, that garbage is not counted against the gateway's memory.
 */
export class ChildProcessOrchestrators implements OrchestratorCaller {
  readonly uris: readonly string[];
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (reply: Uint8Array) => void; reject: (err: Error) => void }>();
  private nextId = 0;

  constructor(count: number) {
    this.uris = Array.from({ length: count }, (_, index) => syntheticOrchestratorUri(index));
    this.child = forkScript("./synthetic-orchestrators-child.ts", [String(count)], [], "advanced");
    this.child.on("message", (message: AnswerMessage) => {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.reply !== undefined) call?.resolve(message.reply);
      else call?.reject(new Error(message.error ?? "no reply"));
    });
    this.child.on("exit", (code) => {
      for (const call of this.pending.values()) call.reject(new Error(`the synthetic orchestrators' process exited (${code})`));
      this.pending.clear();
    });
  }

  async getOrchestrator(uri: string, request: OrchestratorRequest, _options: CallOptions): Promise<ReceivedInfo> {
    return decodeReceivedInfo(await this.ask(uri, request));
  }

  async getPriceQuote(uri: string, request: OrchestratorRequest, _options: CallOptions) {
    return decodePriceInfoOnly(await this.ask(uri, request));
  }

  retainOnly(): void {}

  close(): void {
    this.child.disconnect();
  }

  private ask(uri: string, request: OrchestratorRequest): Promise<Uint8Array> {
    const id = this.nextId++;
    const bytes = preEncoded(request) ?? toBinary(OrchestratorRequestSchema, request);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, uri, request: bytes } satisfies AskMessage);
    });
  }
}

/** Parent to child: one GetOrchestrator call. */
export interface AskMessage {
  id: number;
  uri: string;
  request: Uint8Array;
}

/** Child to parent: its reply, or why there is none. */
export interface AnswerMessage {
  id: number;
  reply?: Uint8Array;
  error?: string;
}

// The default simulated network: four orchestrators whose offers overlap the way a real network's do (the same
// model warm on one and cold on another, the same BYOC capability at different prices), with sub-wei per-pixel
// prices so that floored listings and exact quotes differ.
import { weiPerUnit } from "../network/price.js";
import { startDevnetAdmin, type DevnetAdmin } from "./admin.js";
import {
  startSimulatedOrchestrator,
  type SimulatedOrchestrator,
  type SimulatedOrchestratorOptions,
} from "./orchestrator.js";
import type { SimulatedGpu, SimulatedOrchestratorSpec } from "./spec.js";

const GIB = 1024n * 1024n * 1024n;
const MIB = 1024n * 1024n;

/** GPUs as NVML reports them (total memory in bytes). */
const RTX_4090 = { name: "NVIDIA GeForce RTX 4090", major: 8, minor: 9, memoryTotal: 25757220864n } as const;
const RTX_3090 = { name: "NVIDIA GeForce RTX 3090", major: 8, minor: 6, memoryTotal: 25769803776n } as const;
const A100_80GB = { name: "NVIDIA A100-SXM4-80GB", major: 8, minor: 0, memoryTotal: 85899345920n } as const;
const L40S = { name: "NVIDIA L40S", major: 8, minor: 9, memoryTotal: 48305799168n } as const;

/** A GPU with `used` bytes taken by the loaded model. */
function gpu(model: Omit<SimulatedGpu, "memoryFree">, used: bigint): SimulatedGpu {
  return { ...model, memoryFree: model.memoryTotal - used };
}

const REALVIS_LIGHTNING = "SG161222/RealVisXL_V4.0_Lightning";
const LLAMA_3_1_8B = "meta-llama/Meta-Llama-3.1-8B-Instruct";

export const DEFAULT_DEVNET_SPECS: readonly SimulatedOrchestratorSpec[] = [
  {
    name: "orch-alpha",
    version: "0.8.8",
    transcodingPrice: weiPerUnit(1200n, 1n),
    pipelines: {
      "image-to-image": [
        {
          modelId: REALVIS_LIGHTNING,
          warm: true,
          capacity: 1,
          runnerVersion: "0.14.2",
          price: weiPerUnit(4768371n, 1000n), // 4768.371 wei/pixel: listed as 4768
          gpu: gpu(RTX_4090, 11n * GIB),
        },
      ],
      "text-to-image": [
        {
          modelId: REALVIS_LIGHTNING,
          warm: true,
          capacity: 1,
          runnerVersion: "0.14.2",
          price: weiPerUnit(4768371n, 1000n),
          gpu: gpu(RTX_4090, 11n * GIB),
        },
        {
          modelId: "stabilityai/sdxl-turbo",
          warm: false,
          capacity: 1,
          runnerVersion: "0.14.2",
          price: weiPerUnit(2500n, 1n),
          gpu: gpu(RTX_4090, 512n * MIB),
        },
      ],
    },
    byoc: [
      { name: "depth", pricePerSecond: weiPerUnit(50_000n, 1n), capacity: 4 },
      { name: "style-transfer", pricePerSecond: weiPerUnit(120_000n, 1n), capacity: 2 },
    ],
  },
  {
    name: "orch-bravo",
    version: "0.8.8",
    transcodingPrice: weiPerUnit(950n, 1n),
    pipelines: {
      "image-to-image": [
        {
          modelId: REALVIS_LIGHTNING,
          warm: false,
          capacity: 1,
          runnerVersion: "0.14.2",
          price: weiPerUnit(1n, 3n), // a third of a wei per pixel: listed as 0
          gpu: gpu(RTX_3090, 512n * MIB),
        },
      ],
      llm: [
        {
          modelId: LLAMA_3_1_8B,
          warm: true,
          capacity: 2,
          runnerVersion: "0.14.2",
          price: weiPerUnit(180n, 1n), // wei per token
          gpu: gpu(RTX_3090, 17n * GIB),
        },
      ],
    },
    byoc: [
      { name: "depth", pricePerSecond: weiPerUnit(42_000n, 1n), capacity: 2 },
      { name: "segmentation", pricePerSecond: weiPerUnit(80_000n, 1n), capacity: 2 },
    ],
  },
  {
    name: "orch-charlie",
    version: "0.8.7",
    transcodingPrice: weiPerUnit(0n, 1n), // AI-only: no transcoding price set
    pipelines: {
      "live-video-to-video": [
        {
          modelId: "streamdiffusion",
          warm: true,
          capacity: 1,
          capacityInUse: 1,
          runnerVersion: "0.13.9",
          price: weiPerUnit(7n, 2n),
          gpu: gpu(A100_80GB, 38n * GIB),
        },
        {
          modelId: "comfyui",
          warm: true,
          capacity: 2,
          capacityInUse: 0,
          runnerVersion: "0.13.9",
          price: weiPerUnit(2n, 1n),
          gpu: gpu(A100_80GB, 22n * GIB),
        },
      ],
      "text-to-image": [
        {
          modelId: "black-forest-labs/FLUX.1-schnell",
          warm: true,
          capacity: 1,
          runnerVersion: "0.13.9",
          price: weiPerUnit(3814697n, 1000n), // 3814.697 wei/pixel: listed as 3814
          gpu: gpu(A100_80GB, 34n * GIB),
        },
      ],
    },
    byoc: [
      { name: "style-transfer", pricePerSecond: weiPerUnit(95_000n, 1n), capacity: 3 },
      { name: "segmentation", pricePerSecond: weiPerUnit(76_500n, 1n), capacity: 3 },
    ],
  },
  {
    name: "orch-delta",
    version: "0.8.8",
    transcodingPrice: weiPerUnit(2500n, 3n), // 833.33… wei/pixel: exact in price_info
    pipelines: {
      llm: [
        {
          modelId: LLAMA_3_1_8B,
          warm: true,
          capacity: 1,
          runnerVersion: "0.14.2",
          price: weiPerUnit(150n, 1n),
          gpu: gpu(L40S, 17n * GIB),
        },
      ],
      "text-to-image": [
        {
          modelId: REALVIS_LIGHTNING,
          warm: false,
          capacity: 1,
          runnerVersion: "0.14.2",
          price: weiPerUnit(5000n, 1n),
          gpu: gpu(L40S, 512n * MIB),
        },
      ],
      "live-video-to-video": [
        {
          modelId: "streamdiffusion",
          warm: true,
          capacity: 0, // every container busy: scoped requests for it are refused (OrchestratorCapped)
          capacityInUse: 2,
          runnerVersion: "0.14.2",
          price: weiPerUnit(3n, 1n),
          gpu: gpu(L40S, 40n * GIB),
        },
      ],
    },
    byoc: [
      { name: "depth", pricePerSecond: weiPerUnit(60_000n, 1n), capacity: 1 },
      { name: "segmentation", pricePerSecond: weiPerUnit(90_000n, 1n), capacity: 2 },
    ],
  },
];

export interface DevnetOptions {
  /**
   * Port of the first orchestrator's gRPC server; with n orchestrators the gRPC servers take firstPort … +n-1,
   * their BYOC servers (service URIs) the next n ports, and the admin endpoint the port after those
   * (devnetPortCount(n) ports in all). Default: free ports.
   */
  readonly firstPort?: number;
  /** false serves h2c and plaintext HTTP ("http://" URIs); default TLS. */
  readonly tls?: boolean;
  readonly specs?: readonly SimulatedOrchestratorSpec[];
  /** Start the admin endpoint (fault switching over HTTP). Default true. */
  readonly admin?: boolean;
  /** Check BYOC signatures as on-chain orchestrators do (see SimulatedOrchestratorOptions). Default false. */
  readonly verifySignatures?: boolean;
  /** Refuse the BYOC signature "0x" like go-livepeer at the reference commit (see SimulatedOrchestratorOptions). */
  readonly rejectBareSigPrefix?: boolean;
}

export interface Devnet {
  readonly orchestrators: readonly SimulatedOrchestrator[];
  /** gRPC URIs, one per orchestrator. */
  readonly uris: readonly string[];
  /** Service URIs (the BYOC HTTP servers), one per orchestrator, in the same order. */
  readonly serviceUris: readonly string[];
  /** The comma-separated `-orchAddr` value for a gateway. */
  readonly orchAddr: string;
  /** The admin endpoint, unless started with admin: false. */
  readonly admin: DevnetAdmin | undefined;
  /** The orchestrator with this spec name; throws naming the known ones otherwise. */
  orchestrator(name: string): SimulatedOrchestrator;
  close(): Promise<void>;
}

/** Ports a devnet of `orchestrators` takes from firstPort: gRPC and BYOC for each, plus the admin endpoint. */
export function devnetPortCount(orchestrators: number): number {
  return 2 * orchestrators + 1;
}

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const specs = options.specs ?? DEFAULT_DEVNET_SPECS;
  const names = specs.map((spec) => spec.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  // The name seeds the node account: two specs with one name would share an address.
  if (repeated !== undefined) throw new Error(`devnet: orchestrator name "${repeated}" is used twice`);
  const started = await Promise.allSettled(
    specs.map((spec, index) => {
      const orchestratorOptions: SimulatedOrchestratorOptions = {
        tls: options.tls ?? true,
        port: options.firstPort === undefined ? 0 : options.firstPort + index,
        byocPort: options.firstPort === undefined ? 0 : options.firstPort + specs.length + index,
        verifySignatures: options.verifySignatures,
        rejectBareSigPrefix: options.rejectBareSigPrefix,
      };
      return startSimulatedOrchestrator(spec, orchestratorOptions);
    }),
  );
  const orchestrators = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failure = started.find((result) => result.status === "rejected");
  if (failure) {
    await Promise.all(orchestrators.map((orchestrator) => orchestrator.close()));
    throw failure.reason;
  }
  let admin: DevnetAdmin | undefined;
  if (options.admin ?? true) {
    try {
      admin = await startDevnetAdmin(orchestrators, {
        port: options.firstPort === undefined ? 0 : options.firstPort + 2 * specs.length,
      });
    } catch (error) {
      await Promise.all(orchestrators.map((orchestrator) => orchestrator.close()));
      throw error;
    }
  }
  const uris = orchestrators.map((orchestrator) => orchestrator.uri);
  let closing: Promise<void> | undefined;
  return {
    orchestrators,
    uris,
    serviceUris: orchestrators.map((orchestrator) => orchestrator.serviceUri),
    orchAddr: uris.join(","),
    admin,
    orchestrator(name) {
      const found = orchestrators.find((orchestrator) => orchestrator.spec.name === name);
      if (!found) throw new Error(`devnet: no orchestrator named "${name}" (known: ${names.join(", ")})`);
      return found;
    },
    close() {
      closing ??= (async () => {
        await Promise.all([admin?.close(), ...orchestrators.map((orchestrator) => orchestrator.close())]);
      })();
      return closing;
    },
  };
}

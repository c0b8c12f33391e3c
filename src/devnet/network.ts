// The default simulated network: four orchestrators whose offers overlap the way a real network's do (the same
// model warm on one and cold on another, the same BYOC capability at different prices), with sub-wei per-pixel
// prices so that floored listings and exact quotes differ.
import { randomBytes } from "node:crypto";
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
import { type Wallet } from "ethers/wallet";
import { verifyOrchestratorRequest } from "../eth/identity.js";
import type { OrchestratorRequest } from "../gen/net/lp_rpc_pb.js";
import { ratio, weiPerUnit } from "../network/price.js";
import { startDevnetAdmin, type DevnetAdmin } from "./admin.js";
import {
  startSimulatedOrchestrator,
  type SimulatedOrchestrator,
  type SimulatedOrchestratorOptions,
} from "./orchestrator.js";
import { quoteForCapabilities, type TicketParamsProvider } from "./orchestrator-info.js";
import { exactPriceInfo } from "./price-info.js";
import { SimulatedPayee, staticPayeeChain, type PayeeChain, type WinningTicketHook } from "./payee.js";
import { simulatedOrchestratorWallet, type SimulatedGpu, type SimulatedOrchestratorSpec } from "./spec.js";

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
  /** Bearer token the admin endpoint's PUT and DELETE need; without one they are refused. */
  readonly adminToken?: string;
  /** Check BYOC signatures as on-chain orchestrators do (see SimulatedOrchestratorOptions). Default false. */
  readonly verifySignatures?: boolean;
  /** Refuse the BYOC signature "0x" like go-livepeer at the reference commit (see SimulatedOrchestratorOptions). */
  readonly rejectBareSigPrefix?: boolean;
  /**
   * On-chain mode: every orchestrator's BYOC side issues ticket params and takes payments through its own
   * SimulatedPayee, all reading one chain view (and verifies signatures). Default: off-chain, jobs are free.
   */
  readonly payments?: DevnetPayments;
}

/** On-chain settings shared by the whole simulated network. */
export interface DevnetPayments {
  /** The one chain every payee reads; default staticPayeeChain(). */
  readonly chain?: PayeeChain;
  /** See ByocPayments.onBadPayment; default "drop" (go-livepeer's panic). */
  readonly onBadPayment?: "drop" | "reject";
  readonly ticketEV?: bigint;
  readonly redeemGas?: bigint;
  readonly gasPrice?: bigint;
  readonly maxFaceValue?: bigint;
  readonly poolSize?: bigint;
  /** Recipient key of an orchestrator; default its node account (simulatedOrchestratorWallet), as go-livepeer. */
  readonly recipientKey?: (orchestrator: string) => Wallet;
  /** HMAC secret of an orchestrator; default 32 random bytes, as go-livepeer draws at start-up. */
  readonly secret?: (orchestrator: string) => Uint8Array;
  /**
   * Also act on-chain over gRPC: GetOrchestrator replies carry the payee's ticket params (for the request's
   * address, at the price_info of the same reply) and OrchestratorRequest signatures are verified. Default true.
   */
  readonly grpc?: boolean;
  /** Told of every winning ticket, with the orchestrator's name (e.g. to redeem it on a real chain). */
  readonly onWinningTicket?: (orchestrator: string, ...ticket: Parameters<WinningTicketHook>) => void | Promise<void>;
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
  /** The chain view the payees share; undefined off-chain. */
  readonly payeeChain: PayeeChain | undefined;
  /** Each orchestrator's payee by spec name (balances, stats, winning tickets); empty off-chain. */
  readonly payees: ReadonlyMap<string, SimulatedPayee>;
  /** The payee of the orchestrator with this spec name; throws off-chain or for an unknown name. */
  payee(name: string): SimulatedPayee;
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
  const payeeChain = options.payments && (options.payments.chain ?? staticPayeeChain());
  const payees = new Map<string, SimulatedPayee>();
  if (options.payments && payeeChain) {
    for (const spec of specs) payees.set(spec.name, makePayee(spec.name, options.payments, payeeChain));
  }
  const started = await Promise.allSettled(
    specs.map((spec, index) => {
      const payee = payees.get(spec.name);
      const orchestratorOptions: SimulatedOrchestratorOptions = {
        tls: options.tls ?? true,
        port: options.firstPort === undefined ? 0 : options.firstPort + index,
        byocPort: options.firstPort === undefined ? 0 : options.firstPort + specs.length + index,
        verifySignatures: options.verifySignatures,
        rejectBareSigPrefix: options.rejectBareSigPrefix,
        ...(payee ? { byocPayments: { payee, onBadPayment: options.payments?.onBadPayment } } : {}),
        ...(payee && (options.payments?.grpc ?? true)
          ? { ticketParams: grpcTicketParams(spec, payee), verifyRequest: verifySignedRequest }
          : {}),
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
        token: options.adminToken,
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
    payeeChain,
    payees,
    payee(name) {
      const found = payees.get(name);
      if (!found) {
        throw new Error(
          payees.size === 0 ? "devnet: started off-chain (no payments option): no payees" : `devnet: no payee for "${name}" (known: ${names.join(", ")})`,
        );
      }
      return found;
    },
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

function makePayee(name: string, payments: DevnetPayments, chain: PayeeChain): SimulatedPayee {
  const onWinning = payments.onWinningTicket;
  return new SimulatedPayee({
    recipientKey: payments.recipientKey?.(name) ?? simulatedOrchestratorWallet(name),
    secret: payments.secret?.(name) ?? randomBytes(32),
    chain,
    ticketEV: payments.ticketEV,
    redeemGas: payments.redeemGas,
    gasPrice: payments.gasPrice,
    maxFaceValue: payments.maxFaceValue,
    poolSize: payments.poolSize,
    onWinningTicket: onWinning && ((ticket, sig, rand) => onWinning(name, ticket, sig, rand)),
  });
}

/** go-ethereum BytesToAddress: the last 20 bytes, left-padded. */
function requestAddress(bytes: Uint8Array): string {
  const padded = new Uint8Array(20);
  const tail = bytes.subarray(Math.max(0, bytes.length - 20));
  padded.set(tail, 20 - tail.length);
  return getAddress(hexlify(padded));
}

/** GetOrchestrator's ticket params: for the request's address, at exactly the price_info the reply states. */
function grpcTicketParams(spec: SimulatedOrchestratorSpec, payee: SimulatedPayee): TicketParamsProvider {
  return (request: OrchestratorRequest) => {
    const quoted = request.capabilities ? quoteForCapabilities(spec, request.capabilities) : spec.transcodingPrice;
    const info = exactPriceInfo(quoted);
    return payee.ticketParams(requestAddress(request.address), ratio(info.pricePerUnit ?? 0n, info.pixelsPerUnit ?? 1n));
  };
}

/** What an on-chain go-livepeer orchestrator checks first (server/rpc.go verifyOrchestratorReq). */
function verifySignedRequest(request: OrchestratorRequest): string | undefined {
  try {
    verifyOrchestratorRequest(request.address, request.sig);
    return undefined;
  } catch (error) {
    return `Invalid orchestrator request: ${error instanceof Error ? error.message : String(error)}`;
  }
}

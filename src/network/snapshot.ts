// An immutable view of the network at one refresh. Discovery builds a new one and swaps it in whole, so readers
// (routing, the API) never see a half-updated network and never wait on discovery.
import type { OrchestratorInfo } from "../gen/net/lp_rpc_pb.js";
import type { Offer } from "./offers.js";

/** What the gateway observed while asking one orchestrator for its info. */
export interface Observation {
  /** Epoch ms of the last accepted answer. */
  readonly lastSeen?: number;
  /** Round trip of the last accepted GetOrchestrator call, in ms. */
  readonly latencyMs?: number;
  readonly lastError?: string;
  readonly lastErrorTime?: number;
  readonly consecutiveFailures: number;
  /** The last attempt succeeded. */
  readonly reachable: boolean;
}

export interface OrchestratorState {
  /** The URI the gateway dials (normalised). */
  readonly uri: string;
  /** The last info the gateway accepted from it, if any. */
  readonly info?: OrchestratorInfo;
  readonly offers: readonly Offer[];
  readonly observation: Observation;
  /** Whether the orchestrator is in the index: it answered recently and is not blocklisted. */
  readonly usable: boolean;
}

export class NetworkSnapshot {
  readonly orchestrators: readonly OrchestratorState[];
  private readonly offersByCapability: ReadonlyMap<string, readonly Offer[]>;
  private readonly byUri: ReadonlyMap<string, OrchestratorState>;

  constructor(
    readonly version: number,
    readonly createdAt: number,
    orchestrators: readonly OrchestratorState[],
  ) {
    this.orchestrators = Object.freeze([...orchestrators]);
    this.byUri = new Map(orchestrators.map((o) => [o.uri, o]));
    const index = new Map<string, Offer[]>();
    for (const orchestrator of orchestrators) {
      if (!orchestrator.usable) continue;
      for (const offer of orchestrator.offers) {
        let list = index.get(offer.capability);
        if (!list) index.set(offer.capability, (list = []));
        list.push(offer);
      }
    }
    this.offersByCapability = index;
  }

  static empty(): NetworkSnapshot {
    return new NetworkSnapshot(0, Date.now(), []);
  }

  /** Orchestrators in the index (answered recently, not blocklisted). */
  usableOrchestrators(): OrchestratorState[] {
    return this.orchestrators.filter((o) => o.usable);
  }

  orchestrator(uri: string): OrchestratorState | undefined {
    return this.byUri.get(uri);
  }

  /** Capability names offered by at least one usable orchestrator, sorted. */
  capabilities(): string[] {
    return [...this.offersByCapability.keys()].sort();
  }

  /** Offers for a capability, optionally for one model only. */
  offers(capability: string, modelId?: string): readonly Offer[] {
    const offers = this.offersByCapability.get(capability) ?? [];
    return modelId === undefined ? offers : offers.filter((offer) => offer.modelId === modelId);
  }

  /** Models offered for a capability, sorted ("" stands for a BYOC capability). */
  models(capability: string): string[] {
    return [...new Set(this.offers(capability).map((offer) => offer.modelId))].sort();
  }
}

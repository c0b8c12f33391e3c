// An immutable view of the network at one refresh. Discovery builds a new one and swaps it in whole, so readers
// (routing, the API) never see a half-updated network and never wait on discovery.
// Everything a routing decision would otherwise recompute per offer (float price, health key, orchestrator lookup,
// the per-model lists) is worked out here once per snapshot, not once per request.
import type { IndexedInfo } from "./indexed-info.js";
import { offerKey, type Offer, type PriceSource } from "./offers.js";
import { ratioToNumber, type WeiPerUnit } from "./price.js";

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
  /** The last info the gateway accepted from it, if any: its bytes and the fields routing reads. */
  readonly info?: IndexedInfo;
  /** In a snapshot, a usable orchestrator's offers are its IndexedOffers (the same objects as offers() returns). */
  readonly offers: readonly Offer[];
  readonly observation: Observation;
  /** Whether the orchestrator is in the index: it answered recently and is not blocklisted. */
  readonly usable: boolean;
}

/** An offer as the index holds it: the offer itself plus what routing derives from it, computed once. */
export class IndexedOffer implements Offer {
  readonly orchestratorUri: string;
  readonly capability: string;
  readonly capabilityId: number;
  readonly modelId: string;
  readonly warm: boolean;
  readonly capacity: number;
  readonly capacityInUse: number;
  readonly runnerVersion: string;
  readonly price?: WeiPerUnit;
  readonly priceSource: PriceSource;
  /** `price` as a double, Infinity when unknown: for ranking and as a fast pre-filter; exact checks use `price`. */
  readonly priceFloat: number;
  /** offerKey(orchestratorUri, capability, modelId): the flat key health is kept under. */
  readonly healthKey: string;
  private owner: OrchestratorState | undefined;

  /**
   * Built where the offer is first known (discovery builds them as replies come in, so that no plain copy of every
   * offer lives through a sweep only to die when the snapshot is built) and placed in a snapshot by indexIn.
   */
  constructor(offer: Offer) {
    this.orchestratorUri = offer.orchestratorUri;
    this.capability = offer.capability;
    this.capabilityId = offer.capabilityId;
    this.modelId = offer.modelId;
    this.warm = offer.warm;
    this.capacity = offer.capacity;
    this.capacityInUse = offer.capacityInUse;
    this.runnerVersion = offer.runnerVersion;
    if (offer.price !== undefined) this.price = offer.price;
    this.priceSource = offer.priceSource;
    if (offer instanceof IndexedOffer) {
      this.priceFloat = offer.priceFloat;
      this.healthKey = offer.healthKey;
    } else {
      this.priceFloat = offer.price === undefined ? Infinity : ratioToNumber(offer.price);
      this.healthKey = offerKey(offer.orchestratorUri, offer.capability, offer.modelId);
    }
  }

  /** The offer as `orchestrator` (a state of a snapshot being built) holds it: itself while no snapshot has it, else a copy. */
  static indexIn(offer: Offer, orchestrator: OrchestratorState): IndexedOffer {
    const indexed = offer instanceof IndexedOffer && offer.owner === undefined ? offer : new IndexedOffer(offer);
    indexed.owner = orchestrator;
    return indexed;
  }

  /** The orchestrator advertising the offer, in the snapshot that holds it. */
  get orchestrator(): OrchestratorState {
    return this.owner as OrchestratorState;
  }

  /** The orchestrator's EIP-55 payee address (ticket recipient, else node address), or "". */
  get address(): string {
    return this.orchestrator.info?.payeeAddress ?? "";
  }
}

/** One capability's offers, whole and per model. */
interface CapabilityOffers {
  readonly all: IndexedOffer[];
  readonly byModel: Map<string, IndexedOffer[]>;
  /** Sorted; "" stands for a BYOC capability. */
  readonly models: readonly string[];
}

const NO_OFFERS: readonly IndexedOffer[] = Object.freeze([]);

export class NetworkSnapshot {
  readonly orchestrators: readonly OrchestratorState[];
  private readonly byCapability: ReadonlyMap<string, CapabilityOffers>;
  private readonly byUri: ReadonlyMap<string, OrchestratorState>;
  private readonly capabilityNames: readonly string[];

  constructor(
    readonly version: number,
    readonly createdAt: number,
    orchestrators: readonly OrchestratorState[],
  ) {
    const index = new Map<string, { all: IndexedOffer[]; byModel: Map<string, IndexedOffer[]> }>();
    // A usable orchestrator's state is copied with its offers as IndexedOffers that point back at the copy. Offers
    // discovery built as IndexedOffers and no snapshot holds yet are taken as they are, not copied: at 10,000
    // orchestrators a second copy of every offer is ~50 MB, and dying all at once when a sweep is published, it
    // fragmented the heap.
    const states = orchestrators.map((given) => {
      if (!given.usable) return given;
      const offers: IndexedOffer[] = [];
      const orchestrator: OrchestratorState = { ...given, offers };
      for (const offer of given.offers) {
        const indexed = IndexedOffer.indexIn(offer, orchestrator);
        offers.push(indexed);
        let entry = index.get(offer.capability);
        if (!entry) index.set(offer.capability, (entry = { all: [], byModel: new Map() }));
        entry.all.push(indexed);
        let model = entry.byModel.get(offer.modelId);
        if (!model) entry.byModel.set(offer.modelId, (model = []));
        model.push(indexed);
      }
      Object.freeze(offers);
      return orchestrator;
    });
    this.orchestrators = Object.freeze(states);
    this.byUri = new Map(states.map((o) => [o.uri, o]));
    const byCapability = new Map<string, CapabilityOffers>();
    for (const [name, entry] of index) byCapability.set(name, { ...entry, models: Object.freeze([...entry.byModel.keys()].sort()) });
    this.byCapability = byCapability;
    this.capabilityNames = Object.freeze([...byCapability.keys()].sort());
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

  /** Capability names offered by at least one usable orchestrator, sorted. Shared: do not modify. */
  capabilities(): readonly string[] {
    return this.capabilityNames;
  }

  /** Offers for a capability, optionally for one model only ("" = the BYOC offers). Shared: do not modify. */
  offers(capability: string, modelId?: string): readonly IndexedOffer[] {
    const offers = this.byCapability.get(capability);
    if (offers === undefined) return NO_OFFERS;
    return modelId === undefined ? offers.all : (offers.byModel.get(modelId) ?? NO_OFFERS);
  }

  /** Models offered for a capability, sorted ("" stands for a BYOC capability). Shared: do not modify. */
  models(capability: string): readonly string[] {
    return this.byCapability.get(capability)?.models ?? NO_OFFERS_MODELS;
  }
}

const NO_OFFERS_MODELS: readonly string[] = Object.freeze([]);

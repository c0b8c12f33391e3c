// The refresh loop: asks every listed orchestrator for its info with bounded concurrency, backs off from the
// ones that fail, and publishes an immutable NetworkSnapshot after each sweep. Readers take the current snapshot
// synchronously; nothing on the request path ever waits for a sweep.
import { setMaxListeners } from "node:events";
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
import type { OrchestratorInfo, OrchestratorRequest } from "../gen/net/lp_rpc_pb.js";
import type { Logger } from "../log.js";
import { advertisedModels, buildOffers, listedPrices, quoteKey, withQuotes, type Offer, type PriceQuote } from "../network/offers.js";
import { priceFromPriceInfo } from "../network/price.js";
import { IndexedInfo } from "../network/indexed-info.js";
import { IndexedOffer, NetworkSnapshot, type OrchestratorState } from "../network/snapshot.js";
import type { OrchestratorClientPool, ReceivedInfo } from "../orchestrator/orchestrator-client.js";
import { encodeOnce, listingRequest, priceQuoteRequest, type RequestSigner } from "../orchestrator/orchestrator-request.js";
import { forEachWithConcurrency } from "../util/concurrency.js";
import { Interner } from "../util/interner.js";
import type { OrchestratorSource } from "./sources.js";
import { validateOrchestratorInfo } from "./validate-info.js";

export interface DiscoveryOptions {
  /** Time between the end of one sweep and the start of the next. */
  intervalMs: number;
  /** Deadline of one GetOrchestrator call, connection included. */
  callTimeoutMs: number;
  /** GetOrchestrator calls in flight at once. */
  concurrency: number;
  /** First back-off after a failure; doubles per consecutive failure up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** An orchestrator that has not answered for this long leaves the index. */
  staleAfterMs: number;
  /** How long an exact price quote is trusted while the orchestrator's listed floor for it is unchanged. */
  quoteTtlMs: number;
  /** Orchestrator accounts to leave out, lower-case 0x-hex; matched against the node address and the ticket recipient. */
  blocklist: ReadonlySet<string>;
  /** Sent as capabilities.version in price-quote requests. */
  gatewayVersion: string;
}

export const DEFAULT_DISCOVERY_OPTIONS: DiscoveryOptions = {
  intervalMs: 30_000,
  callTimeoutMs: 3_000,
  concurrency: 64,
  backoffBaseMs: 5_000,
  backoffMaxMs: 5 * 60_000,
  staleAfterMs: 3 * 60_000,
  quoteTtlMs: 10 * 60_000,
  blocklist: new Set(),
  gatewayVersion: "0.0.0",
};

/** Per-orchestrator bookkeeping between sweeps; snapshots copy what they need out of it. */
interface Tracked {
  uri: string;
  info?: IndexedInfo;
  offers: readonly Offer[];
  quotes: Map<string, PriceQuote>;
  lastSeen?: number;
  latencyMs?: number;
  lastError?: string;
  lastErrorTime?: number;
  consecutiveFailures: number;
  reachable: boolean;
  blockedReason?: string;
  nextAttemptAt: number;
  /** Between a sweep's listings and its quotes: the models to quote, and the listed floors they were quoted against. */
  staleQuotes?: { models: QuotedModel[]; listed: ReadonlyMap<string, bigint> };
}

/** An AI (capability, model) an orchestrator advertises. */
type QuotedModel = { capabilityId: number; modelId: string };

/** What discovery calls orchestrators with: the gRPC client pool, or a stand-in in benchmarks. */
export type OrchestratorCaller = Pick<OrchestratorClientPool, "getOrchestrator" | "getPriceQuote" | "retainOnly">;

export interface DiscoveryDeps {
  source: OrchestratorSource;
  clients: OrchestratorCaller;
  signer: RequestSigner;
  logger: Logger;
  now?: () => number;
  /** Jitter source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
  /** Called for every failed GetOrchestrator call (metrics). */
  onError?: (uri: string) => void;
}

/** The price-quote calls made per orchestrator at once: a handful, so one orchestrator cannot hog the sweep. */
const QUOTES_IN_FLIGHT_PER_ORCHESTRATOR = 4;

export class Discovery {
  private readonly tracked = new Map<string, Tracked>();
  private current = NetworkSnapshot.empty();
  private version = 0;
  private readonly listeners = new Set<(snapshot: NetworkSnapshot) => void>();
  private sweeping: Promise<NetworkSnapshot> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly abort = new AbortController();
  private readonly options: DiscoveryOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  /** The listing request, the same for every orchestrator and sweep: built and encoded once. */
  private listing: OrchestratorRequest | undefined;
  /**
   * The price-quote requests of the running sweep by quoteKey, each built and encoded once however many
   * orchestrators offer that (capability, model). New per sweep, so it holds only pairs advertised lately.
   */
  private quoteRequests = new Map<string, OrchestratorRequest>();
  /**
   * The strings the index keeps from replies (model ids, runner versions, BYOC names, quote keys), one copy each.
   * New per sweep, like quoteRequests, so it holds only what orchestrators advertised lately.
   */
  private strings = new Interner();

  constructor(
    private readonly deps: DiscoveryDeps,
    options: Partial<DiscoveryOptions> = {},
  ) {
    this.options = { ...DEFAULT_DISCOVERY_OPTIONS, ...options };
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    // Every in-flight call listens on this signal; a sweep has up to `concurrency` of them.
    setMaxListeners(0, this.abort.signal);
  }

  /** The latest snapshot; never blocks. */
  get snapshot(): NetworkSnapshot {
    return this.current;
  }

  /** Called after every published snapshot. Returns the unsubscribe function. */
  onSnapshot(listener: (snapshot: NetworkSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the loop; the first sweep begins at once. Resolves when the first sweep is published. */
  start(): Promise<NetworkSnapshot> {
    this.stopped = false;
    return this.runAndReschedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.sweeping?.catch(() => undefined);
  }

  /** One sweep now (joined if one is already running); resolves with the snapshot it published. */
  refreshNow(): Promise<NetworkSnapshot> {
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async runAndReschedule(): Promise<NetworkSnapshot> {
    try {
      return await this.refreshNow();
    } finally {
      if (!this.stopped) {
        // ±10 % jitter so that many gateways (or restarts) do not poll in lockstep.
        const delay = this.options.intervalMs * (0.9 + 0.2 * this.random());
        this.timer = setTimeout(() => void this.runAndReschedule().catch(() => undefined), delay);
      }
    }
  }

  private async sweep(): Promise<NetworkSnapshot> {
    const uris = await this.deps.source.uris();
    this.syncTracked(uris);
    this.quoteRequests = new Map();
    this.strings = new Interner();
    const due = [...this.tracked.values()].filter((t) => t.nextAttemptAt <= this.now());
    await forEachWithConcurrency(due, this.options.concurrency, (t) => this.refreshOne(t));
    // The listings are in: publish them before asking for price quotes, so that a gateway starting on a large
    // network routes as soon as it knows who offers what. Until its quotes are back, an AI offer carries its last
    // quote, or its listed (floored) price, as it would after a failed quote.
    const listings = this.publish();
    const quoting = due.filter((t) => t.staleQuotes !== undefined);
    if (quoting.length === 0) return listings;
    await forEachWithConcurrency(quoting, this.options.concurrency, (t) => this.refreshQuotes(t));
    return this.publish();
  }

  private syncTracked(uris: readonly string[]): void {
    const listed = new Set(uris);
    for (const uri of this.tracked.keys()) if (!listed.has(uri)) this.tracked.delete(uri);
    for (const uri of uris) {
      if (!this.tracked.has(uri)) {
        this.tracked.set(uri, { uri, offers: [], quotes: new Map(), consecutiveFailures: 0, reachable: false, nextAttemptAt: 0 });
      }
    }
    this.deps.clients.retainOnly(listed);
  }

  private async refreshOne(t: Tracked): Promise<void> {
    const started = performance.now();
    let received: ReceivedInfo;
    try {
      this.listing ??= encodeOnce(listingRequest(this.deps.signer));
      received = await this.deps.clients.getOrchestrator(t.uri, this.listing, {
        timeoutMs: this.options.callTimeoutMs,
        signal: this.abort.signal,
      });
    } catch (err) {
      this.recordFailure(t, (err as Error).message);
      return;
    }
    const latencyMs = performance.now() - started;
    const { info, bytes, hardwareEntries } = received;
    const invalid = validateOrchestratorInfo(info, hardwareEntries);
    if (invalid) {
      this.recordFailure(t, `rejected its info: ${invalid}`);
      return;
    }
    // The decoded message is dropped once the offers are built: the index keeps its bytes (see IndexedInfo), the
    // same IndexedInfo while the orchestrator lists the same.
    t.info = IndexedInfo.fromReply(bytes, info, t.info);
    t.latencyMs = latencyMs;
    t.lastSeen = this.now();
    t.reachable = true;
    t.consecutiveFailures = 0;
    t.lastError = undefined;
    t.nextAttemptAt = 0;
    t.blockedReason = this.blockedReason(info);
    const listed = listedPrices(info);
    const stale = t.blockedReason === undefined ? this.staleQuotes(t, listed, advertisedModels(info)) : [];
    t.staleQuotes = stale.length > 0 ? { models: stale, listed } : undefined;
    const offers = buildOffers(t.uri, info, (value) => this.strings.intern(value));
    t.offers = withQuotes(offers, t.quotes).map((offer) => new IndexedOffer(offer));
  }

  /**
   * The AI (capability, model)s whose exact price must be asked for: the listing floors AI prices to whole wei per
   * unit (so sub-wei prices read 0), so each one is quoted, again when its listed floor changes or its quote ages.
   * Drops the quotes of models no longer advertised, and those whose listed floor changed (a quote must not outlive
   * a changed listing, whether or not a new one comes).
   */
  private staleQuotes(t: Tracked, listed: ReadonlyMap<string, bigint>, models: ReadonlyArray<QuotedModel>): QuotedModel[] {
    const advertised = new Set(models.map((m) => quoteKey(m.capabilityId, m.modelId)));
    for (const [key, quote] of t.quotes) if (!advertised.has(key) || quote.listedFloor !== listed.get(key)) t.quotes.delete(key);
    return models.filter(({ capabilityId, modelId }) => {
      const quote = t.quotes.get(quoteKey(capabilityId, modelId));
      return !quote || this.now() - quote.quotedAt >= this.options.quoteTtlMs;
    });
  }

  /** Asks for the quotes staleQuotes found, then reprices the orchestrator's offers with what came back. */
  private async refreshQuotes(t: Tracked): Promise<void> {
    const stale = t.staleQuotes;
    if (stale === undefined) return;
    t.staleQuotes = undefined;
    await forEachWithConcurrency(stale.models, QUOTES_IN_FLIGHT_PER_ORCHESTRATOR, async ({ capabilityId, modelId }) => {
      const key = quoteKey(capabilityId, modelId);
      try {
        // Only the quoted price is read from the reply (getPriceQuote): the rest of it repeats the listing.
        const reply = await this.deps.clients.getPriceQuote(t.uri, this.quoteRequest(key, capabilityId, modelId), {
          timeoutMs: this.options.callTimeoutMs,
          signal: this.abort.signal,
        });
        const price = reply.priceInfo ? priceFromPriceInfo(reply.priceInfo) : "no price_info in the quote";
        if (typeof price === "string") throw new Error(price);
        t.quotes.set(this.strings.intern(key), { price, listedFloor: stale.listed.get(key), quotedAt: this.now() });
      } catch (err) {
        // The offer keeps its last quote (same listed floor, only aged) or its listed price.
        this.deps.logger.debug({ orchestrator: t.uri, capabilityId, modelId, err: (err as Error).message }, "price quote failed");
      }
    });
    // The offers the listings' snapshot holds, repriced; the next snapshot takes copies of the unchanged ones.
    t.offers = withQuotes(t.offers, t.quotes).map((offer) => (offer instanceof IndexedOffer ? offer : new IndexedOffer(offer)));
  }

  private quoteRequest(key: string, capabilityId: number, modelId: string): OrchestratorRequest {
    let request = this.quoteRequests.get(key);
    if (request === undefined) {
      request = encodeOnce(priceQuoteRequest(this.deps.signer, capabilityId, modelId, this.options.gatewayVersion));
      this.quoteRequests.set(key, request);
    }
    return request;
  }

  private blockedReason(info: OrchestratorInfo): string | undefined {
    const { blocklist } = this.options;
    if (blocklist.size === 0) return undefined;
    for (const bytes of [info.address, info.ticketParams?.recipient]) {
      if (bytes?.length === 20 && blocklist.has(hexlify(bytes).toLowerCase())) {
        return `blocklisted (${getAddress(hexlify(bytes))})`;
      }
    }
    return undefined;
  }

  private recordFailure(t: Tracked, message: string): void {
    this.deps.onError?.(t.uri);
    t.consecutiveFailures += 1;
    t.reachable = false;
    t.lastError = message;
    t.lastErrorTime = this.now();
    const backoff = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (t.consecutiveFailures - 1));
    t.nextAttemptAt = this.now() + backoff * (0.8 + 0.4 * this.random());
    const log = t.consecutiveFailures === 1 ? this.deps.logger.warn : this.deps.logger.debug;
    log.call(
      this.deps.logger,
      { orchestrator: t.uri, err: message, failures: t.consecutiveFailures, retryInMs: Math.round(t.nextAttemptAt - this.now()) },
      "orchestrator left out of this refresh",
    );
  }

  private publish(): NetworkSnapshot {
    const now = this.now();
    const states: OrchestratorState[] = [...this.tracked.values()].map((t) => ({
      uri: t.uri,
      info: t.info,
      offers: t.offers,
      usable:
        t.info !== undefined &&
        t.blockedReason === undefined &&
        t.lastSeen !== undefined &&
        now - t.lastSeen <= this.options.staleAfterMs,
      observation: {
        lastSeen: t.lastSeen,
        latencyMs: t.latencyMs,
        lastError: t.blockedReason ?? t.lastError,
        lastErrorTime: t.lastErrorTime,
        consecutiveFailures: t.consecutiveFailures,
        reachable: t.reachable,
      },
    }));
    this.version += 1;
    this.current = new NetworkSnapshot(this.version, now, states);
    // Keep the snapshot's indexed offers rather than the plain ones they were built from, so that one copy of each
    // offer stays alive between sweeps, not two. (The next snapshot indexes them afresh, with its own states.)
    for (const t of this.tracked.values()) {
      const state = this.current.orchestrator(t.uri);
      if (state?.usable) t.offers = state.offers;
    }
    for (const listener of this.listeners) {
      try {
        listener(this.current);
      } catch (err) {
        this.deps.logger.error({ err: (err as Error).message }, "snapshot listener failed");
      }
    }
    return this.current;
  }
}

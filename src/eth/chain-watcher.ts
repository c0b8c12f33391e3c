// Keeps the chain values ticket validation reads synchronously (pm/sender.go validateTicketParams) fresh:
// the latest L1 block and the last initialized round, polled every -blockPollingInterval (go-livepeer's TimeWatcher,
// 5 s by default), and the gateway's own TicketBroker sender info, refreshed on a slower timer and whenever a new
// round starts (go's SenderWatcher refreshes on events and new rounds; polling is the event-free equivalent).
//
// A failed poll keeps the last good values and is logged: a flaky RPC must not stop payments that the last known
// state still allows. Polls never overlap: the next one is scheduled only after the previous one finished.

import { getAddress } from "ethers/address";
import type { Logger } from "../log.js";
import type { ExpirationFallback, SenderInfo, SenderState } from "../payments/ticket-params.js";
import { ChainError, type LivepeerChain } from "./chain.js";

export interface ChainWatcherOptions {
  /** -blockPollingInterval, ms (default 5000). */
  readonly blockPollingIntervalMs?: number;
  /** How often the sender info is re-read, ms (default 60000). */
  readonly senderInfoRefreshMs?: number;
  readonly logger?: Pick<Logger, "warn" | "info">;
  /** Called with every failed poll (after logging); the watcher keeps running. */
  readonly onError?: (error: Error) => void;
}

/** The chain part of SenderState, always readable without waiting. */
export type ChainSenderState = Pick<SenderState, "lastSeenL1Block" | "lastInitializedRound" | "senderInfo">;

export class ChainWatcher {
  #l1Block: bigint;
  #round: bigint;
  #roundBlockHash: string;
  #senderInfo: SenderInfo;
  #blockTimer: NodeJS.Timeout | undefined;
  #senderTimer: NodeJS.Timeout | undefined;
  #senderRefresh: Promise<void> | undefined;
  #stopped = false;

  private constructor(
    private readonly chain: LivepeerChain,
    /** EIP-55 address of the gateway's ticket-signing key. */
    readonly senderAddress: string,
    private readonly options: Required<Pick<ChainWatcherOptions, "blockPollingIntervalMs" | "senderInfoRefreshMs">> & ChainWatcherOptions,
    first: { l1Block: bigint; round: bigint; roundBlockHash: string; senderInfo: SenderInfo },
  ) {
    this.#l1Block = first.l1Block;
    this.#round = first.round;
    this.#roundBlockHash = first.roundBlockHash;
    this.#senderInfo = first.senderInfo;
  }

  /** Reads everything once (throws ChainError if any read fails), then keeps polling until stop(). */
  static async start(chain: LivepeerChain, senderAddress: string, options: ChainWatcherOptions = {}): Promise<ChainWatcher> {
    const blockPollingIntervalMs = options.blockPollingIntervalMs ?? 5000;
    const senderInfoRefreshMs = options.senderInfoRefreshMs ?? 60_000;
    for (const [name, ms] of [["blockPollingIntervalMs", blockPollingIntervalMs], ["senderInfoRefreshMs", senderInfoRefreshMs]] as const) {
      if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`${name} must be a positive number of ms, got ${ms}`);
    }
    const address = getAddress(senderAddress);
    let first: { l1Block: bigint; round: bigint; roundBlockHash: string; senderInfo: SenderInfo };
    try {
      const [l1Block, round, senderInfo] = await Promise.all([chain.l1BlockNumber(), chain.lastInitializedRound(), chain.senderInfo(address)]);
      first = { l1Block, round, senderInfo, roundBlockHash: await chain.blockHashForRound(round) };
    } catch (err) {
      throw err instanceof ChainError ? err : new ChainError(`reading the chain state at start-up failed: ${(err as Error).message}`);
    }
    const watcher = new ChainWatcher(chain, address, { ...options, blockPollingIntervalMs, senderInfoRefreshMs }, first);
    watcher.#scheduleBlockPoll();
    watcher.#scheduleSenderRefresh();
    return watcher;
  }

  /** The latest L1 block seen (params-expiry checks). */
  get lastSeenL1Block(): bigint {
    return this.#l1Block;
  }

  get lastInitializedRound(): bigint {
    return this.#round;
  }

  /** blockHashForRound(lastInitializedRound), lowercase hex. */
  get lastInitializedRoundBlockHash(): string {
    return this.#roundBlockHash;
  }

  get senderInfo(): SenderInfo {
    return this.#senderInfo;
  }

  /** What parseTicketParams substitutes for an old orchestrator's missing expiration params (go: sender.expirationParams). */
  get expirationFallback(): ExpirationFallback {
    return { creationRound: this.#round, creationRoundBlockHash: this.#roundBlockHash };
  }

  /** Live chain values for validateTicketParams: the sender info is read at check time, so it is never stale by more than a refresh. */
  senderState(): ChainSenderState {
    return { lastSeenL1Block: this.#l1Block, lastInitializedRound: this.#round, senderInfo: () => this.#senderInfo };
  }

  /** Re-reads the sender info now (e.g. after funding). Concurrent calls share one read. Rejects with ChainError, keeping the last value. */
  refreshSenderInfo(): Promise<void> {
    this.#senderRefresh ??= (async () => {
      try {
        this.#senderInfo = await this.chain.senderInfo(this.senderAddress);
      } finally {
        this.#senderRefresh = undefined;
      }
    })();
    return this.#senderRefresh;
  }

  /** Stops polling. The getters keep returning the last values. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#blockTimer);
    clearTimeout(this.#senderTimer);
    this.#blockTimer = undefined;
    this.#senderTimer = undefined;
  }

  #report(what: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.options.logger?.warn({ err: error.message }, `${what} failed; keeping the last known value`);
    this.options.onError?.(error);
  }

  #scheduleBlockPoll(): void {
    if (this.#stopped) return;
    this.#blockTimer = setTimeout(() => void this.#pollBlock(), this.options.blockPollingIntervalMs);
    this.#blockTimer.unref();
  }

  #scheduleSenderRefresh(): void {
    if (this.#stopped) return;
    this.#senderTimer = setTimeout(() => {
      this.refreshSenderInfo()
        .catch((err: unknown) => this.#report("refreshing the sender info", err))
        .finally(() => this.#scheduleSenderRefresh());
    }, this.options.senderInfoRefreshMs);
    this.#senderTimer.unref();
  }

  async #pollBlock(): Promise<void> {
    try {
      const [l1Block, round] = await Promise.all([this.chain.l1BlockNumber(), this.chain.lastInitializedRound()]);
      if (this.#stopped) return;
      if (l1Block >= this.#l1Block) this.#l1Block = l1Block;
      if (round !== this.#round) {
        // Round and its hash change together, so a reader never sees a new round with the old round's hash.
        const hash = await this.chain.blockHashForRound(round);
        if (this.#stopped) return;
        this.#round = round;
        this.#roundBlockHash = hash;
        this.options.logger?.info({ round: round.toString() }, "new Livepeer round");
        // A new round can change what the sender may spend (reserve claims are per round, unlocks complete).
        this.refreshSenderInfo().catch((err: unknown) => this.#report("refreshing the sender info", err));
      }
    } catch (err) {
      this.#report("polling the latest block and round", err);
    } finally {
      this.#scheduleBlockPoll();
    }
  }
}

/** Why a sender cannot pay at all: the gateway refuses to start rather than send tickets no orchestrator accepts. */
export class SenderFundsError extends Error {
  override readonly name = "SenderFundsError";
}

/**
 * Throws SenderFundsError when go-livepeer would refuse to pay from this sender (pm/sender.go validateSender): no
 * deposit, no reserve, or (given the last initialized round) an unlock that completes within the next round.
 */
export function checkSenderFunds(info: SenderInfo, address: string, lastInitializedRound?: bigint): void {
  if (info.deposit === 0n) {
    throw new SenderFundsError(`sender ${address} has no deposit in the TicketBroker: fund it with fundDepositAndReserve`);
  }
  if (info.reserveFundsRemaining === 0n) {
    throw new SenderFundsError(`sender ${address} has no reserve in the TicketBroker: fund it with fundDepositAndReserve`);
  }
  if (lastInitializedRound !== undefined && info.withdrawRound !== 0n && info.withdrawRound <= lastInitializedRound + 1n) {
    throw new SenderFundsError(
      `sender ${address} has its deposit and reserve set to unlock in round ${info.withdrawRound} (last initialized round ${lastInitializedRound}): cancel the unlock with cancelUnlock or fund it again`,
    );
  }
}

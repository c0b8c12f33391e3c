// WatchNetworkCapabilities: the snapshot now, then only what changed, as each refresh publishes a snapshot.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { WatchNetworkCapabilitiesResponseSchema, type WatchNetworkCapabilitiesResponse } from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { Discovery } from "../discovery/discovery.js";
import type { NetworkSnapshot, OrchestratorState } from "../network/snapshot.js";
import { decodedEntry } from "./listing-entries.js";

/**
 * What counts as a change: an offer's terms (warm, capacity, runner version, price), or how the orchestrator is reached
 * and paid (service URI, payee, version). Not the raw reply: go-livepeer sends a fresh auth token (and on-chain fresh
 * ticket parameters) in every reply, encodes maps in Go's random order and reports GPU memory as it moves, so its
 * bytes differ at every refresh and every orchestrator would be sent again after each sweep.
 */
function fingerprint(state: OrchestratorState): string {
  let known = fingerprints.get(state);
  if (known === undefined) {
    const info = state.info;
    const offers = state.offers
      .map((o) => `${o.capability}/${o.modelId}:${o.warm ? "warm" : "cold"},${o.capacity},${o.capacityInUse},${o.runnerVersion},${o.price?.num ?? "?"}/${o.price?.den ?? "?"}`)
      .sort();
    known = JSON.stringify([info?.transcoder ?? "", info?.payeeHex ?? "", info?.version ?? "", offers]);
    fingerprints.set(state, known);
  }
  return known;
}

/** Each snapshot's states are its own and never change: their fingerprints are worked out once for every stream. */
const fingerprints = new WeakMap<OrchestratorState, string>();

function visible(snapshot: NetworkSnapshot, capability: string): Map<string, OrchestratorState> {
  const states = snapshot
    .usableOrchestrators()
    .filter((state) => capability === "" || state.offers.some((offer) => offer.capability === capability));
  return new Map(states.map((state) => [state.uri, state]));
}

export async function* watchNetworkCapabilities(
  discovery: Pick<Discovery, "snapshot" | "onSnapshot">,
  capability: string,
  signal: AbortSignal,
): AsyncGenerator<WatchNetworkCapabilitiesResponse> {
  const pending: NetworkSnapshot[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = discovery.onSnapshot((snapshot) => {
    // Only the newest matters: a slow reader skips intermediate snapshots instead of buffering them.
    pending.length = 0;
    pending.push(snapshot);
    wake?.();
  });
  const onAbort = (): void => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    let known = new Map<string, string>();
    let snapshot: NetworkSnapshot | undefined = discovery.snapshot;
    let initial = true;
    while (!signal.aborted) {
      if (snapshot !== undefined) {
        const current = visible(snapshot, capability);
        const seen = new Map([...current.values()].map((state) => [state.uri, fingerprint(state)]));
        const upserted = [...current.values()].filter((state) => known.get(state.uri) !== seen.get(state.uri));
        const removed = [...known.keys()].filter((uri) => !current.has(uri));
        if (initial || upserted.length > 0 || removed.length > 0) {
          yield create(WatchNetworkCapabilitiesResponseSchema, {
            snapshotVersion: BigInt(snapshot.version),
            snapshotTime: timestampFromMs(snapshot.createdAt),
            upserted: upserted.map(decodedEntry),
            removed,
            initial,
          });
        }
        known = seen;
        initial = false;
      }
      snapshot = pending.shift();
      // An abort that came while suspended at the yield has nobody to wake: check before waiting.
      if (snapshot === undefined && !signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      snapshot ??= pending.shift();
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}

// Answers derived from a whole snapshot are built once per snapshot and filter, and the gRPC path encodes a reusable
// answer once: GetNetworkCapabilities and /getNetworkCapabilities decode every orchestrator's info to build theirs.
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GetNetworkCapabilitiesResponseSchema, PingResponseSchema } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { OrchestratorInfoSchema } from "../src/gen/net/lp_rpc_pb.js";
import { networkCapabilitiesBody } from "../src/api/http-routes.js";
import { getNetworkCapabilities } from "../src/api/network-capabilities.js";
import { encodeAnswer, reusable } from "../src/api/reusable-answers.js";
import { IndexedInfo } from "../src/network/indexed-info.js";
import { byocOffer } from "../src/network/offers.js";
import { weiPerUnit } from "../src/network/price.js";
import { NetworkSnapshot, type OrchestratorState } from "../src/network/snapshot.js";
import { SnapshotMemo } from "../src/network/snapshot-memo.js";

function state(name: string, capability: string, usable = true): OrchestratorState {
  const uri = `https://${name}:8935`;
  return {
    uri,
    info: IndexedInfo.of(create(OrchestratorInfoSchema, { transcoder: uri, address: new Uint8Array(20).fill(name.length) })),
    offers: [byocOffer(uri, capability, weiPerUnit(7n, 1n))],
    usable,
    observation: { consecutiveFailures: usable ? 0 : 2, reachable: usable, latencyMs: 20 },
  };
}

const snapshot = (version: number) => new NetworkSnapshot(version, 1_000 * version, [state("a", "depth"), state("bb", "llm"), state("ccc", "llm", false)]);

afterEach(() => vi.restoreAllMocks());

describe("SnapshotMemo", () => {
  it("builds a value once per snapshot and key", () => {
    const memo = new SnapshotMemo<number>();
    const build = vi.fn(() => build.mock.calls.length);
    const [one, two] = [snapshot(1), snapshot(2)];
    expect([memo.get(one, "k", build), memo.get(one, "k", build), memo.get(one, "other", build), memo.get(two, "k", build)]).toEqual([1, 1, 2, 3]);
    expect(build).toHaveBeenCalledTimes(3);
  });
});

describe("GetNetworkCapabilities answers", () => {
  it("are built once per snapshot and filter, decoding each info once", () => {
    const decode = vi.spyOn(IndexedInfo.prototype, "decode");
    const first = snapshot(1);
    const all = getNetworkCapabilities(first, { capability: "", includeUnreachable: false });
    expect(all.orchestrators.map((o) => o.uri)).toEqual(["https://a:8935", "https://bb:8935"]);
    expect(decode).toHaveBeenCalledTimes(2);
    expect(getNetworkCapabilities(first, { capability: "", includeUnreachable: false })).toBe(all);
    expect(decode).toHaveBeenCalledTimes(2);

    const llm = getNetworkCapabilities(first, { capability: "llm", includeUnreachable: true });
    expect(llm.orchestrators.map((o) => o.uri)).toEqual(["https://bb:8935", "https://ccc:8935"]);
    expect(getNetworkCapabilities(first, { capability: "llm", includeUnreachable: false }).orchestrators.map((o) => o.uri)).toEqual(["https://bb:8935"]);

    const next = getNetworkCapabilities(snapshot(2), { capability: "", includeUnreachable: false });
    expect(next).not.toBe(all);
    expect(next.snapshotVersion).toBe(2n);
  });

  it("still refuse a capability no orchestrator offers, every time", () => {
    const first = snapshot(1);
    for (let i = 0; i < 2; i++) expect(() => getNetworkCapabilities(first, { capability: "lm", includeUnreachable: false })).toThrow(/did you mean "llm"/);
  });

  it("are encoded once by the gRPC path, to the bytes a fresh encoding gives", () => {
    const answer = getNetworkCapabilities(snapshot(3), { capability: "", includeUnreachable: false });
    const bytes = encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer);
    expect(bytes).toEqual(toBinary(GetNetworkCapabilitiesResponseSchema, answer));
    expect(encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer)).toBe(bytes);
  });

  it("leave other answers encoded per call", () => {
    const pong = create(PingResponseSchema, {});
    expect(encodeAnswer(PingResponseSchema, pong)).not.toBe(encodeAnswer(PingResponseSchema, pong));
    const kept = reusable(create(PingResponseSchema, {}));
    expect(encodeAnswer(PingResponseSchema, kept)).toBe(encodeAnswer(PingResponseSchema, kept));
  });
});

describe("/getNetworkCapabilities", () => {
  it("builds its body once per snapshot", () => {
    const decode = vi.spyOn(IndexedInfo.prototype, "decode");
    const first = snapshot(1);
    const body = networkCapabilitiesBody(first);
    expect(JSON.parse(body).orchestrators).toHaveLength(2);
    expect(networkCapabilitiesBody(first)).toBe(body);
    expect(decode).toHaveBeenCalledTimes(2);
    networkCapabilitiesBody(snapshot(2));
    expect(decode).toHaveBeenCalledTimes(4);
  });
});

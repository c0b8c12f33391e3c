// Answers derived from a whole snapshot are built once per snapshot (GetNetworkCapabilities: once per orchestrator's
// entry, whatever the filter), and the unary fast paths encode a reusable answer once per format:
// GetNetworkCapabilities and /getNetworkCapabilities decode every orchestrator's info to build theirs.
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GetNetworkCapabilitiesResponseSchema, OfferSchema, OrchestratorEntrySchema, PingResponseSchema } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { OrchestratorInfoSchema, OrchestratorRequestSchema, TicketParamsSchema, type OrchestratorInfo } from "../src/gen/net/lp_rpc_pb.js";
import { getAddress } from "ethers/address";
import { entryByDecoding } from "./support/entry-by-decoding.js";
import { DEFAULT_DEVNET_SPECS } from "../src/devnet/network.js";
import { orchestratorInfoFor } from "../src/devnet/orchestrator-info.js";
import { decodeReceivedInfo } from "../src/orchestrator/orchestrator-client.js";
import { handleHttpRoute, networkCapabilitiesBody, type HttpRouteContext } from "../src/api/http-routes.js";
import { encodeNetworkCapabilities } from "../src/api/network-capabilities-json.js";
import { getNetworkCapabilities } from "../src/api/network-capabilities.js";
import { encodeAnswer, encodeJsonAnswer, reusable } from "../src/api/reusable-answers.js";
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

describe("SnapshotMemo.getAsync", () => {
  it("keeps a value being built for every caller, and forgets a build that failed", async () => {
    const memo = new SnapshotMemo<Promise<string>>();
    const one = snapshot(1);
    let builds = 0;
    const failing = () => Promise.reject(new Error(`build ${++builds} failed`));
    await expect(memo.getAsync(one, "k", failing)).rejects.toThrow("build 1 failed");
    await new Promise((resolve) => setImmediate(resolve)); // the failure is forgotten once it settles
    const [a, b] = [memo.getAsync(one, "k", async () => `built ${++builds}`), memo.getAsync(one, "k", async () => `built ${++builds}`)];
    expect(await a).toBe("built 2");
    expect(await b).toBe("built 2");
  });
});

describe("GetNetworkCapabilities answers", () => {
  it("build each orchestrator's entry once per snapshot, whatever the filter, reading each info once", async () => {
    const read = vi.spyOn(IndexedInfo.prototype, "records");
    const first = snapshot(1);
    const all = await getNetworkCapabilities(first, { capability: "", includeUnreachable: false });
    expect(all.orchestrators.map((o) => o.uri)).toEqual(["https://a:8935", "https://bb:8935"]);
    expect(read).toHaveBeenCalledTimes(2);
    const again = await getNetworkCapabilities(first, { capability: "", includeUnreachable: false });
    expect(read).toHaveBeenCalledTimes(2);
    // The listing of every usable orchestrator is kept whole: the same bytes for every call.
    expect(encodeAnswer(GetNetworkCapabilitiesResponseSchema, again)).toBe(encodeAnswer(GetNetworkCapabilitiesResponseSchema, all));
    expect(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, again)).toBe(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, all));
    expect(again).toEqual(all);

    // Filters take the entries already built; only the unusable orchestrator's is new.
    const llm = await getNetworkCapabilities(first, { capability: "llm", includeUnreachable: true });
    expect(llm.orchestrators.map((o) => o.uri)).toEqual(["https://bb:8935", "https://ccc:8935"]);
    expect((await getNetworkCapabilities(first, { capability: "llm", includeUnreachable: false })).orchestrators.map((o) => o.uri)).toEqual(["https://bb:8935"]);
    expect(read).toHaveBeenCalledTimes(3);

    const next = await getNetworkCapabilities(snapshot(2), { capability: "", includeUnreachable: false });
    expect(next.snapshotVersion).toBe(2n);
    expect(read).toHaveBeenCalledTimes(5);
  });

  it("reuse an orchestrator's info part in the next snapshot while it lists the same, and only then", async () => {
    const states = Array.from({ length: 30 }, (_, i) => state(`n${i}`, i % 2 === 0 ? "depth" : "llm"));
    const first = new NetworkSnapshot(10, 10_000, states);
    const request = { capability: "", includeUnreachable: false };
    await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, await getNetworkCapabilities(first, request));
    // The next sweep: the same infos (discovery keeps an IndexedInfo while the reply lists the same), new observations
    // and offers; one orchestrator listing something new.
    const changed = IndexedInfo.of(create(OrchestratorInfoSchema, { transcoder: "https://elsewhere:8935" }));
    const next = new NetworkSnapshot(
      11,
      11_000,
      states.map((s, i) => ({ ...s, info: i === 3 ? changed : s.info, offers: [byocOffer(s.uri, "llm", weiPerUnit(BigInt(i + 1), 1n))], observation: { ...s.observation, latencyMs: 99 } })),
    );
    const read = vi.spyOn(IndexedInfo.prototype, "records");
    for (const filter of [request, { capability: "llm", includeUnreachable: false }]) {
      const answer = await getNetworkCapabilities(next, filter);
      const decoded = create(GetNetworkCapabilitiesResponseSchema, { ...answer, orchestrators: [...answer.orchestrators] });
      expect(Buffer.from(encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer)).equals(Buffer.from(toBinary(GetNetworkCapabilitiesResponseSchema, decoded)))).toBe(true);
      expect(Buffer.from(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer)).toString()).toBe(toJsonString(GetNetworkCapabilitiesResponseSchema, decoded));
      expect(decoded.orchestrators.every((o) => o.observation?.discoveryLatency?.nanos === 99_000_000)).toBe(true);
      expect(decoded.orchestrators.find((o) => o.uri === states[3]?.uri)?.orchUri).toBe("https://elsewhere:8935");
      // The offers are this sweep's (new prices), not the last one's.
      for (const entry of decoded.orchestrators) {
        const i = states.findIndex((s) => s.uri === entry.uri);
        expect(entry.offers.map((o) => o.price?.numerator)).toEqual([String(i + 1)]);
      }
    }
    expect(read).toHaveBeenCalledTimes(1);

    // One more sweep in which only the observations change: the offers' encodings are reused too.
    const offerReflection = vi.spyOn(OfferSchema.field.capability, "localName", "get");
    const third = new NetworkSnapshot(12, 12_000, next.orchestrators.map((s) => ({ ...s, offers: [...s.offers], observation: { ...s.observation, latencyMs: 7 } })));
    const answer = await getNetworkCapabilities(third, request);
    const binary = Buffer.from(encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer));
    const json = Buffer.from(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer)).toString();
    expect(offerReflection).not.toHaveBeenCalled();
    const decoded = create(GetNetworkCapabilitiesResponseSchema, { ...answer, orchestrators: [...answer.orchestrators] });
    expect(binary.equals(Buffer.from(toBinary(GetNetworkCapabilitiesResponseSchema, decoded)))).toBe(true);
    expect(json).toBe(toJsonString(GetNetworkCapabilitiesResponseSchema, decoded));
    expect(decoded.orchestrators.every((o) => o.observation?.discoveryLatency?.nanos === 7_000_000 && o.offers.length === 1)).toBe(true);
  });

  it("copy each info's messages into its entry as they arrived: the entry a decode of the info would build", async () => {
    // Every simulated orchestrator's info (capabilities with per-model constraints, prices, hardware with GPU maps),
    // with ticket parameters, and one whose hardware does not decode (discovery leaves it undecoded).
    const infos = DEFAULT_DEVNET_SPECS.map((spec, i) =>
      orchestratorInfoFor(spec, { serviceUri: `https://127.0.0.1:${9000 + i}`, address: new Uint8Array(20).fill(i + 1) }, create(OrchestratorRequestSchema, {})),
    );
    infos[0] = { ...(infos[0] as OrchestratorInfo), ticketParams: create(TicketParamsSchema, { recipient: new Uint8Array(20).fill(0xee) }) };
    const badHardware = Uint8Array.from([(7 << 3) | 2, 2, 0x08, 0xff]);
    const states: OrchestratorState[] = infos.map((info, i) => {
      const reply = toBinary(OrchestratorInfoSchema, info);
      const received = decodeReceivedInfo(i === 1 ? Buffer.concat([reply, badHardware]) : reply);
      return { ...state(`devnet${i}`, "llm"), info: new IndexedInfo(received.bytes, received.info) };
    });
    const snapshot = new NetworkSnapshot(14, 14_000, states);
    const answer = await getNetworkCapabilities(snapshot, { capability: "", includeUnreachable: false });
    const decoded = create(GetNetworkCapabilitiesResponseSchema, { ...answer, orchestrators: [...answer.orchestrators] });
    expect(Buffer.from(encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer)).equals(Buffer.from(toBinary(GetNetworkCapabilitiesResponseSchema, decoded)))).toBe(true);
    expect(decoded.orchestrators).toEqual(states.map(entryByDecoding));
    expect(decoded.orchestrators[0]?.address).toBe(getAddress(`0x${"ee".repeat(20)}`));
    expect(decoded.orchestrators[0]?.hardware.length).toBeGreaterThan(0);
    expect(decoded.orchestrators[1]?.hardware).toEqual([]);
    expect(decoded.orchestrators[1]?.capabilities).toEqual(infos[1]?.capabilities);
  });

  it("take a field an info repeats as a decode does: the last scalar, every message merged", async () => {
    const first = create(OrchestratorInfoSchema, { transcoder: "https://a:8935", address: new Uint8Array(20).fill(1), capabilities: { version: "0.8.7" } });
    const second = create(OrchestratorInfoSchema, { address: new Uint8Array(20).fill(2), capabilities: { bitstring: [5n] } });
    const reply = Buffer.concat([toBinary(OrchestratorInfoSchema, first), toBinary(OrchestratorInfoSchema, second)]);
    const info = fromBinary(OrchestratorInfoSchema, reply);
    const repeated: OrchestratorState = { ...state("twice", "llm"), info: new IndexedInfo(reply, info) };
    const answer = await getNetworkCapabilities(new NetworkSnapshot(15, 15_000, [repeated]), { capability: "", includeUnreachable: false });
    expect(answer.orchestrators).toEqual([entryByDecoding(repeated)]);
    expect(answer.orchestrators[0]?.localAddress).toBe(getAddress(`0x${"02".repeat(20)}`));
    expect(answer.orchestrators[0]?.capabilities).toEqual(info.capabilities);
  });

  it("keep their entries encoded, and decode them only for a caller that reads them", async () => {
    const many = new NetworkSnapshot(8, 8_000, Array.from({ length: 20 }, (_, i) => state(`d${i}`, "llm")));
    const request = { capability: "", includeUnreachable: false };
    const first = await getNetworkCapabilities(many, request);
    const encodings = async (answer: typeof first) => [encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer), await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer)];
    const expected = await encodings(first);
    // Field names are read whenever a message is encoded or decoded: once the entries are encoded, a call needs neither.
    const reflection = vi.spyOn(OrchestratorEntrySchema.field.uri, "localName", "get");
    const second = await getNetworkCapabilities(many, request);
    expect(await encodings(second)).toEqual(expected);
    expect(reflection).not.toHaveBeenCalled();
    // A path that encodes the message itself (connect-node's, for gRPC-Web) reads the entries: decoded, the same bytes.
    expect(toBinary(GetNetworkCapabilitiesResponseSchema, second)).toEqual(expected[0]);
    expect(reflection).toHaveBeenCalled();
    expect(second.orchestrators).toBe(second.orchestrators);
  });

  it("still refuse a capability no orchestrator offers, every time", async () => {
    const first = snapshot(1);
    for (let i = 0; i < 2; i++) await expect(getNetworkCapabilities(first, { capability: "lm", includeUnreachable: false })).rejects.toThrow(/did you mean "llm"/);
  });

  it("are encoded along the way, a slice at a time, to the bytes a whole encoding gives", async () => {
    // More orchestrators than one slice holds, with unreachable ones, so that slices and filters both show.
    const many = new NetworkSnapshot(3, 3_000, Array.from({ length: 100 }, (_, i) => state(`o${i}`, i % 3 === 0 ? "depth" : "llm", i % 7 !== 0)));
    const answer = await getNetworkCapabilities(many, { capability: "", includeUnreachable: true });
    expect(answer.orchestrators).toHaveLength(100);
    const bytes = encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer);
    expect(bytes).toEqual(toBinary(GetNetworkCapabilitiesResponseSchema, answer));
    expect(encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer)).toBe(bytes);
  });

  it("are encoded to JSON once, a slice at a time, to the text toJsonString gives", async () => {
    const many = new NetworkSnapshot(6, 6_000, Array.from({ length: 40 }, (_, i) => state(`j${i}`, i % 2 === 0 ? "depth" : "llm", i % 5 !== 0)));
    for (const request of [
      { capability: "", includeUnreachable: true },
      { capability: "llm", includeUnreachable: false },
    ]) {
      const answer = await getNetworkCapabilities(many, request);
      const bytes = await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer);
      expect(Buffer.from(bytes).toString()).toBe(toJsonString(GetNetworkCapabilitiesResponseSchema, answer));
      expect(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer)).toBe(bytes);
    }
    // A snapshot with nobody usable: the answer has no entries, and its JSON no "orchestrators".
    const nobody = await getNetworkCapabilities(new NetworkSnapshot(7, 7_000, [state("x", "llm", false)]), { capability: "", includeUnreachable: false });
    const text = Buffer.from(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, nobody)).toString();
    expect(text).toBe(toJsonString(GetNetworkCapabilitiesResponseSchema, nobody));
    expect(text).not.toContain("orchestrators");
  });

  it("are built from the whole listing's bytes once it is kept, to the bytes toBinary and toJsonString give", async () => {
    // Every other name long enough that its entry's length takes two varint bytes, so that the views' offsets are tested.
    const name = (i: number) => (i % 2 === 0 ? `w${i}` : `w${i}.${"x".repeat(150)}`);
    const many = new NetworkSnapshot(9, 9_000, Array.from({ length: 300 }, (_, i) => state(name(i), i % 3 === 0 ? "depth" : "llm", i % 7 !== 0)));
    const whole = await getNetworkCapabilities(many, { capability: "", includeUnreachable: false });
    const lengths = whole.orchestrators.map((entry) => toBinary(OrchestratorEntrySchema, entry).length);
    expect(lengths.some((length) => length < 128) && lengths.some((length) => length >= 128)).toBe(true);
    await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, whole);
    for (const request of [
      { capability: "", includeUnreachable: false },
      { capability: "", includeUnreachable: true },
      { capability: "depth", includeUnreachable: false },
      { capability: "llm", includeUnreachable: true },
    ]) {
      const answer = await getNetworkCapabilities(many, request);
      const decoded = create(GetNetworkCapabilitiesResponseSchema, { ...answer, orchestrators: [...answer.orchestrators] });
      expect(Buffer.from(encodeAnswer(GetNetworkCapabilitiesResponseSchema, answer)).equals(Buffer.from(toBinary(GetNetworkCapabilitiesResponseSchema, decoded)))).toBe(true);
      expect(Buffer.from(await encodeJsonAnswer(GetNetworkCapabilitiesResponseSchema, answer)).toString()).toBe(toJsonString(GetNetworkCapabilitiesResponseSchema, decoded));
      expect(decoded.orchestrators.map((o) => o.uri)).toEqual(
        many.orchestrators.filter((o) => (request.includeUnreachable || o.usable) && (request.capability === "" || o.offers[0]?.capability === request.capability)).map((o) => o.uri),
      );
    }
  });

  it("let the event loop through while they are built", async () => {
    const many = new NetworkSnapshot(4, 4_000, Array.from({ length: 100 }, (_, i) => state(`p${i}`, "llm")));
    const order: string[] = [];
    const answer = getNetworkCapabilities(many, { capability: "", includeUnreachable: false }).then(() => order.push("answer"));
    setImmediate(() => order.push("other work"));
    await answer;
    expect(order).toEqual(["other work", "answer"]);
  });

  it("leave other answers encoded per call", () => {
    const pong = create(PingResponseSchema, {});
    expect(encodeAnswer(PingResponseSchema, pong)).not.toBe(encodeAnswer(PingResponseSchema, pong));
    const kept = reusable(create(PingResponseSchema, {}));
    expect(encodeAnswer(PingResponseSchema, kept)).toBe(encodeAnswer(PingResponseSchema, kept));
  });

  it("forget a JSON encoding that failed, and encode anew on the next call", async () => {
    let attempts = 0;
    const kept = reusable(create(PingResponseSchema, {}), {
      json: async () => {
        if (++attempts === 1) throw new Error("encoding failed");
        return "{}";
      },
    });
    await expect(encodeJsonAnswer(PingResponseSchema, kept)).rejects.toThrow("encoding failed");
    await new Promise((resolve) => setImmediate(resolve)); // forgotten once it settles
    expect(Buffer.from(await encodeJsonAnswer(PingResponseSchema, kept)).toString()).toBe("{}");
    expect(attempts).toBe(2);
  });
});

describe("/getNetworkCapabilities", () => {
  it("builds its body once per snapshot, a slice at a time, to what the one-piece encoder writes", async () => {
    const decode = vi.spyOn(IndexedInfo.prototype, "decode");
    const first = snapshot(1);
    const body = await networkCapabilitiesBody(first);
    expect(JSON.parse(body.toString()).orchestrators).toHaveLength(2);
    expect(await networkCapabilitiesBody(first)).toBe(body);
    expect(decode).toHaveBeenCalledTimes(2);
    await networkCapabilitiesBody(snapshot(2));
    expect(decode).toHaveBeenCalledTimes(4);

    decode.mockRestore();
    const many = new NetworkSnapshot(5, 5_000, Array.from({ length: 30 }, (_, i) => state(`q${i}`, "llm", i % 4 !== 0)));
    const usable = many.usableOrchestrators().map((s) => ({ info: (s.info as IndexedInfo).decode() }));
    expect((await networkCapabilitiesBody(many)).toString()).toBe(encodeNetworkCapabilities(usable));
  });

  it("decodes in the next snapshot only the infos that changed, to what the one-piece encoder writes", async () => {
    const states = Array.from({ length: 20 }, (_, i) => state(`g${i}`, "llm"));
    await networkCapabilitiesBody(new NetworkSnapshot(12, 12_000, states));
    const changed = IndexedInfo.of(create(OrchestratorInfoSchema, { transcoder: "https://moved:8935", ticketParams: { recipient: new Uint8Array(20).fill(7) } }));
    const next = new NetworkSnapshot(13, 13_000, states.map((s, i) => ({ ...s, info: i === 5 ? changed : s.info })));
    const decode = vi.spyOn(IndexedInfo.prototype, "decode");
    const body = (await networkCapabilitiesBody(next)).toString();
    expect(decode).toHaveBeenCalledTimes(1);
    decode.mockRestore();
    expect(body).toBe(encodeNetworkCapabilities(next.usableOrchestrators().map((s) => ({ info: (s.info as IndexedInfo).decode() }))));
    expect(body).toContain('"orch_uri":"https://moved:8935"');
  });

  it("answers 500 naming the failure when the body cannot be built, and builds it anew on the next call", async () => {
    const first = snapshot(1);
    const context = { discovery: { snapshot: first }, sources: [], version: "test", startedAt: 0, simulated: true } as unknown as HttpRouteContext;
    const get = () =>
      new Promise<{ status: number; body: string }>((resolve) => {
        let status = 0;
        handleHttpRoute(context, { url: "/getNetworkCapabilities", method: "GET" }, {
          writeHead: (code: number) => (status = code),
          end: (body: string) => resolve({ status, body }),
        });
      });
    vi.spyOn(IndexedInfo.prototype, "decode").mockImplementationOnce(() => {
      throw new Error("bad bytes");
    });
    expect(await get()).toEqual({ status: 500, body: "listing the network failed: Error: bad bytes\n" });
    await new Promise((resolve) => setImmediate(resolve)); // the failed build is forgotten once it settles
    const again = await get();
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).orchestrators).toHaveLength(2);
  });
});

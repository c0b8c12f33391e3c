// Route answers are encoded by writers that reuse what other answers share (src/api/route-answer-encoding.ts): their
// bytes must be toBinary's and toJsonString's, for every shape an answer takes (health with and without history,
// latency from jobs or discovery, USD prices, ceilings, regions, warm and cold offers, BYOC and AI), and stay so across
// snapshots. The answers themselves are built as plain objects: they must be the messages create() would make.
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeAnswer, encodeJsonAnswer } from "../src/api/reusable-answers.js";
import { encodeRouteResponse, encodeRouteResponseJson } from "../src/api/route-answer-encoding.js";
import { route } from "../src/api/route-rpcs.js";
import { parseConfig } from "../src/config.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import {
  LatencySourceSchema,
  OutcomeClassSchema,
  RouteRequestSchema,
  RouteResponseSchema,
  WarmPolicy,
  type HealthSummary,
  type RouteResponse,
} from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { silentLogger } from "../src/log.js";
import type { EthUsdRate } from "../src/network/currency.js";
import type { IndexedOffer } from "../src/network/snapshot.js";

let devnet: Devnet;
let gateway: Gateway;
const RATE: EthUsdRate = { currency: "USD", perEth: { num: 300_050n, den: 100n }, source: "-ethUsdRate 3000.50" };

beforeAll(async () => {
  devnet = await startDevnet();
  // Two of the simulated orchestrators get a region, so that candidates carry one and others do not.
  const regions = Object.fromEntries(devnet.uris.slice(0, 2).map((uri, i) => [uri, i === 0 ? "us-east" : "eu-west"]));
  gateway = await startGateway(
    parseConfig(["-orchAddr", devnet.orchAddr, "-orchRegions", JSON.stringify(regions), "-ethUsdRate", "3000.50", "-httpAddr", "127.0.0.1:0", "-cliAddr", "off"]),
    silentLogger(),
  );
  await gateway.discovery.refreshNow();
});

afterAll(async () => {
  await gateway?.close();
  await devnet?.close();
});

type RequestInit = Parameters<typeof create<typeof RouteRequestSchema>>[1];

const REQUESTS: RequestInit[] = [
  { capability: "depth" },
  { capability: "depth", count: 100 },
  { capability: "style-transfer", maxPricePerUnit: "200000" },
  { capability: "text-to-image" },
  { capability: "text-to-image", modelId: "stabilityai/sdxl-turbo", warm: WarmPolicy.ANY },
  { capability: "image-to-image", warm: WarmPolicy.REQUIRE, count: 1 },
  { capability: "text-to-image", maxPricePerUnit: "5000.5", region: "us-east" },
  { capability: "depth", maxPricePerUnit: "0.01USD", region: "eu-west", count: 5 },
];

function expectToBinaryBytes(answer: RouteResponse): void {
  const expected = toBinary(RouteResponseSchema, answer);
  expect(Buffer.from(encodeAnswer(RouteResponseSchema, answer)).equals(Buffer.from(expected))).toBe(true);
  // And the JSON is toJsonString's, as connect-node would send it to a Connect JSON caller.
  expect(Buffer.from(encodeJsonAnswer(RouteResponseSchema, answer) as Uint8Array).toString("utf8")).toBe(toJsonString(RouteResponseSchema, answer));
  // The answer is built as plain objects rather than by create(): they must be the messages create() makes, with
  // every field there and nothing else (an absent message field may be an own property holding undefined).
  const made = fromBinary(RouteResponseSchema, expected);
  expect(answer).toEqual(made);
  expect(toJsonString(RouteResponseSchema, answer)).toBe(toJsonString(RouteResponseSchema, made));
  const ownFields = (message: object) => Object.entries(message).filter(([, value]) => value !== undefined).map(([key]) => key).sort();
  answer.candidates.forEach((candidate, i) => expect(ownFields(candidate)).toEqual(ownFields(made.candidates[i] as object)));
}

describe("Route answers' binary encoding", () => {
  it("is toBinary's, byte for byte, for every request, with and without a USD rate", () => {
    const answers: RouteResponse[] = [];
    for (const init of REQUESTS) {
      for (const rate of [undefined, RATE]) {
        const answer = route(gateway.router, create(RouteRequestSchema, init), rate);
        expect(answer.candidates.length).toBeGreaterThan(0);
        expectToBinaryBytes(answer);
        answers.push(answer);
      }
    }
    // The shapes the writer must get right all occurred.
    const candidates = answers.flatMap((a) => a.candidates);
    expect(candidates.some((c) => c.region !== "") && candidates.some((c) => c.region === "")).toBe(true);
    expect(candidates.some((c) => c.warm) && candidates.some((c) => !c.warm)).toBe(true);
    expect(candidates.some((c) => c.priceUsd !== "")).toBe(true);
    expect(answers.some((a) => a.ceiling !== undefined) && answers.some((a) => a.ceiling === undefined)).toBe(true);
  });

  it("is toBinary's once keys have history: outcomes, job latencies, ejections", () => {
    const outcomes = ["success", "success", "timeout", "http_5xx", "success", "connect_error", "connect_error", "connect_error"] as const;
    for (const [i, outcome] of outcomes.entries()) {
      for (const capability of ["depth", "text-to-image"]) {
        const answer = route(gateway.router, create(RouteRequestSchema, { capability, count: 100 }), RATE);
        for (const uri of new Set(answer.candidates.map((c) => c.orchestratorUri))) {
          gateway.router.reportOutcome(answer.routeId, uri, outcome, 40 + 17 * i);
        }
        const next = route(gateway.router, create(RouteRequestSchema, { capability, count: 100 }), RATE);
        expectToBinaryBytes(next);
      }
    }
    const withHistory = route(gateway.router, create(RouteRequestSchema, { capability: "depth", count: 100 }), RATE);
    expect(withHistory.candidates.some((c) => (c.health?.samples ?? 0n) > 0n)).toBe(true);
  });

  it("writes doubles, enums, health summaries and empty answers at their edges as protobuf-es does", () => {
    const answer = route(gateway.router, create(RouteRequestSchema, { capability: "depth", count: 100 }), RATE);
    const variants: RouteResponse[] = [{ ...answer, candidates: [], ceiling: undefined, routeId: "", summary: "" }];
    for (const score of [Number.NaN, Infinity, -Infinity, -0, 1e21, 5e-324, -1.5]) {
      for (const latencySource of LatencySourceSchema.values.map((v) => v.number)) {
        variants.push({ ...answer, candidates: answer.candidates.map((c) => ({ ...c, score, latencySource, warm: !c.warm, region: "ré\u0000gion \"q\"" })) });
      }
    }
    // A summary of history at its edges: every outcome class, the largest counters, an ejection with its deadline.
    const health = answer.candidates[0]?.health as HealthSummary;
    const ejectedUntil = create(TimestampSchema, { seconds: 1_790_000_000n, nanos: 5_000_000 });
    OutcomeClassSchema.values.forEach(({ number: lastOutcome }, i) => {
      const edge: HealthSummary = {
        ...health,
        successRate: [Number.NaN, -0, 0.1 + 0.2, 1][i % 4] as number,
        consecutiveFailures: i % 2 === 0 ? 0xffff_ffff : i,
        ejected: i % 2 === 1,
        ejectedUntil: i % 2 === 1 ? ejectedUntil : undefined,
        ejections: 2 ** 31 + i,
        possibleEviction: i % 3 === 0,
        highVariance: i % 3 === 1,
        coldStarts: i,
        samples: [0n, 1n, 2n ** 63n - 1n, 2n ** 64n - 1n][i % 4] as bigint,
        lastOutcome,
        probing: i % 2 === 0,
      };
      variants.push({ ...answer, candidates: answer.candidates.map((c) => ({ ...c, health: edge })) });
    });
    for (const variant of variants) {
      // Offers are only the key under which a candidate's first fields are kept: fresh ones encode them anew.
      const offers = variant.candidates.map(() => ({}) as IndexedOffer);
      const binary = encodeRouteResponse(variant, offers, () => false);
      expect(Buffer.from(binary).toString("hex"), `score ${variant.candidates[0]?.score}`).toBe(Buffer.from(toBinary(RouteResponseSchema, variant)).toString("hex"));
      expect(encodeRouteResponseJson(variant, offers, () => false)).toBe(toJsonString(RouteResponseSchema, variant));
    }
  });

  it("stays toBinary's after a refresh brings a new snapshot", async () => {
    const before = route(gateway.router, create(RouteRequestSchema, { capability: "depth" }), undefined);
    await gateway.discovery.refreshNow();
    const after = route(gateway.router, create(RouteRequestSchema, { capability: "depth" }), undefined);
    expectToBinaryBytes(before);
    expectToBinaryBytes(after);
  });
});

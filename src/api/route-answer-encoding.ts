// The binary encoding of a Route answer, to the very bytes toBinary writes, at a fraction of the cost: encoding the
// ~900-byte answer took the server about as long as routing, building and sending it together (bench, "Route/Ping").
// Most of a candidate never changes for the life of its offer (URIs, payee, model, price: fields 1–6), so those
// bytes are made once per offer; messages the answer shares with other answers (prices, durations, the retry
// profile, the summary of a key without history) are encoded once each. What is left is written per call with
// AnswerWriter, field by field in field-number order, as toBinary does.
import { create, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import {
  CandidateSchema,
  HealthSummarySchema,
  RetryProfileSchema,
  RouteResponseSchema,
  WeiPriceSchema,
  type Candidate,
  type RouteResponse,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { IndexedOffer } from "../network/snapshot.js";
import { AnswerWriter, WIRE } from "./answer-writer.js";

const ROUTE = RouteResponseSchema.field;
const CANDIDATE = CandidateSchema.field;

/** The fields of a candidate that depend on its offer alone. */
const OFFER_FIELDS = [CANDIDATE.orchUri, CANDIDATE.orchestratorUri, CANDIDATE.address, CANDIDATE.modelId, CANDIDATE.price, CANDIDATE.priceSource];
/** The rest, written per call below; all numbered above the offer's fields, so the offer's bytes go first. */
const CALL_FIELDS = [
  CANDIDATE.priceUsd,
  CANDIDATE.warm,
  CANDIDATE.observedLatency,
  CANDIDATE.latencySource,
  CANDIDATE.health,
  CANDIDATE.region,
  CANDIDATE.score,
  CANDIDATE.reason,
];
if (
  RouteResponseSchema.fields.length !== 6 ||
  OFFER_FIELDS.length + CALL_FIELDS.length !== CandidateSchema.fields.length ||
  Math.max(...OFFER_FIELDS.map((f) => f.number)) > Math.min(...CALL_FIELDS.map((f) => f.number))
) {
  throw new Error("route-answer-encoding: RouteResponse's or Candidate's fields changed; update the writer to match");
}

/** Fields 1–6 of a candidate, by offer: an offer belongs to one snapshot, and these fields do not change within it. */
const offerFieldBytes = new WeakMap<IndexedOffer, Uint8Array>();
/** Encodings of messages shared between answers, which are never modified once built. */
const sharedBytes = new WeakMap<Message, Uint8Array>();

function encodeShared(schema: DescMessage, message: Message): Uint8Array {
  let bytes = sharedBytes.get(message);
  if (bytes === undefined) sharedBytes.set(message, (bytes = toBinary(schema, message)));
  return bytes;
}

function offerFields(candidate: Candidate, offer: IndexedOffer): Uint8Array {
  let bytes = offerFieldBytes.get(offer);
  if (bytes === undefined) {
    const { orchUri, orchestratorUri, address, modelId, price, priceSource } = candidate;
    bytes = toBinary(CandidateSchema, create(CandidateSchema, { orchUri, orchestratorUri, address, modelId, price, priceSource }));
    offerFieldBytes.set(offer, bytes);
  }
  return bytes;
}

function writeString(writer: AnswerWriter, number: number, value: string): void {
  if (value !== "") writer.tag(number, WIRE.lengthDelimited).string(value);
}

function writeCandidate(writer: AnswerWriter, candidate: Candidate, offer: IndexedOffer, isSharedHealth: (m: Message) => boolean): void {
  writer.raw(offerFields(candidate, offer));
  writeString(writer, CANDIDATE.priceUsd.number, candidate.priceUsd);
  if (candidate.warm) writer.tag(CANDIDATE.warm.number, WIRE.varint).bool(true);
  if (candidate.observedLatency !== undefined) {
    writer.tag(CANDIDATE.observedLatency.number, WIRE.lengthDelimited).bytes(encodeShared(DurationSchema, candidate.observedLatency));
  }
  if (candidate.latencySource !== 0) writer.tag(CANDIDATE.latencySource.number, WIRE.varint).int32(candidate.latencySource);
  const { health } = candidate;
  if (health !== undefined) {
    const bytes = isSharedHealth(health) ? encodeShared(HealthSummarySchema, health) : toBinary(HealthSummarySchema, health);
    writer.tag(CANDIDATE.health.number, WIRE.lengthDelimited).bytes(bytes);
  }
  writeString(writer, CANDIDATE.region.number, candidate.region);
  if (candidate.score !== 0) writer.tag(CANDIDATE.score.number, WIRE.bit64).double(candidate.score);
  writeString(writer, CANDIDATE.reason.number, candidate.reason);
}

/**
 * toBinary(RouteResponseSchema, response), given the offer behind each candidate (in order). `isSharedHealth` tells
 * a health summary shared between answers (encoded once) from one built for this answer.
 */
export function encodeRouteResponse(response: RouteResponse, offers: readonly IndexedOffer[], isSharedHealth: (m: Message) => boolean): Uint8Array {
  const writer = new AnswerWriter();
  writeString(writer, ROUTE.routeId.number, response.routeId);
  response.candidates.forEach((candidate, i) => {
    writer.tag(ROUTE.candidates.number, WIRE.lengthDelimited).fork();
    writeCandidate(writer, candidate, offers[i] as IndexedOffer, isSharedHealth);
    writer.join();
  });
  if (response.ceiling !== undefined) writer.tag(ROUTE.ceiling.number, WIRE.lengthDelimited).bytes(encodeShared(WeiPriceSchema, response.ceiling));
  writeString(writer, ROUTE.ceilingSource.number, response.ceilingSource);
  if (response.retryProfile !== undefined) {
    writer.tag(ROUTE.retryProfile.number, WIRE.lengthDelimited).bytes(encodeShared(RetryProfileSchema, response.retryProfile));
  }
  writeString(writer, ROUTE.summary.number, response.summary);
  return writer.finish();
}

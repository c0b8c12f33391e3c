// The encodings of a Route answer, binary and JSON, to the very bytes toBinary and toJsonString write, at a fraction
// of the cost: encoding the ~900-byte answer took the server about as long as routing, building and sending it
// together (bench, "Route/Ping"), and its JSON took over a third of a Connect JSON Route's server time. Most of a
// candidate never changes for the life of its offer (URIs, payee, model, price: fields 1–6), so those fields are
// encoded once per offer; messages the answer shares with other answers (prices, durations, the retry profile, the
// summary of a key without history) are encoded once each. What is left is written per call, field by field in
// field-number order, as protobuf-es does: the binary with AnswerWriter, the JSON as text.
import { create, enumToJson, toBinary, toJsonString, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import {
  CandidateSchema,
  HealthSummarySchema,
  LatencySourceSchema,
  OutcomeClassSchema,
  RetryProfileSchema,
  RouteResponseSchema,
  WeiPriceSchema,
  type Candidate,
  type HealthSummary,
  type RouteResponse,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { IndexedOffer } from "../network/snapshot.js";
import { AnswerWriter, WIRE } from "./answer-writer.js";

const ROUTE = RouteResponseSchema.field;
const CANDIDATE = CandidateSchema.field;
const HEALTH = HealthSummarySchema.field;

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
/** Every field of a health summary, in the order the writers below write them. */
const HEALTH_FIELDS = [
  HEALTH.successRate,
  HEALTH.ewmaLatency,
  HEALTH.latencyStddev,
  HEALTH.consecutiveFailures,
  HEALTH.ejected,
  HEALTH.ejectedUntil,
  HEALTH.ejections,
  HEALTH.possibleEviction,
  HEALTH.highVariance,
  HEALTH.coldStarts,
  HEALTH.samples,
  HEALTH.lastOutcome,
  HEALTH.probing,
];
if (HEALTH_FIELDS.length !== HealthSummarySchema.fields.length || HEALTH_FIELDS.some((f, i) => i > 0 && f.number <= (HEALTH_FIELDS[i - 1] as DescField).number)) {
  throw new Error("route-answer-encoding: HealthSummary's fields changed; update the writers to match");
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

function writeUint32(writer: AnswerWriter, field: DescField, value: number): void {
  if (value !== 0) writer.tag(field.number, WIRE.varint).uint32(value);
}

function writeBool(writer: AnswerWriter, field: DescField, value: boolean): void {
  if (value) writer.tag(field.number, WIRE.varint).bool(true);
}

/** A summary of one key's history: built for one answer, written field by field (its durations are shared). */
function writeHealth(writer: AnswerWriter, health: HealthSummary): AnswerWriter {
  // -0 is written, as protobuf-es does: only +0 is a double's zero value.
  if (!Object.is(health.successRate, 0)) writer.tag(HEALTH.successRate.number, WIRE.bit64).double(health.successRate);
  if (health.ewmaLatency !== undefined) writer.tag(HEALTH.ewmaLatency.number, WIRE.lengthDelimited).bytes(encodeShared(DurationSchema, health.ewmaLatency));
  if (health.latencyStddev !== undefined) writer.tag(HEALTH.latencyStddev.number, WIRE.lengthDelimited).bytes(encodeShared(DurationSchema, health.latencyStddev));
  writeUint32(writer, HEALTH.consecutiveFailures, health.consecutiveFailures);
  writeBool(writer, HEALTH.ejected, health.ejected);
  if (health.ejectedUntil !== undefined) writer.tag(HEALTH.ejectedUntil.number, WIRE.lengthDelimited).bytes(toBinary(TimestampSchema, health.ejectedUntil));
  writeUint32(writer, HEALTH.ejections, health.ejections);
  writeBool(writer, HEALTH.possibleEviction, health.possibleEviction);
  writeBool(writer, HEALTH.highVariance, health.highVariance);
  writeUint32(writer, HEALTH.coldStarts, health.coldStarts);
  if (health.samples !== 0n) writer.tag(HEALTH.samples.number, WIRE.varint).uint64(health.samples);
  if (health.lastOutcome !== 0) writer.tag(HEALTH.lastOutcome.number, WIRE.varint).int32(health.lastOutcome);
  writeBool(writer, HEALTH.probing, health.probing);
  return writer;
}

function writeCandidate(writer: AnswerWriter, candidate: Candidate, offer: IndexedOffer, isSharedHealth: (m: Message) => boolean): void {
  writer.raw(offerFields(candidate, offer));
  writeString(writer, CANDIDATE.priceUsd.number, candidate.priceUsd);
  writeBool(writer, CANDIDATE.warm, candidate.warm);
  if (candidate.observedLatency !== undefined) {
    writer.tag(CANDIDATE.observedLatency.number, WIRE.lengthDelimited).bytes(encodeShared(DurationSchema, candidate.observedLatency));
  }
  if (candidate.latencySource !== 0) writer.tag(CANDIDATE.latencySource.number, WIRE.varint).int32(candidate.latencySource);
  const { health } = candidate;
  if (health !== undefined) {
    writer.tag(CANDIDATE.health.number, WIRE.lengthDelimited);
    if (isSharedHealth(health)) writer.bytes(encodeShared(HealthSummarySchema, health));
    else writeHealth(writer.fork(), health).join();
  }
  writeString(writer, CANDIDATE.region.number, candidate.region);
  // -0 is written, as protobuf-es does: only +0 is a double's zero value.
  if (!Object.is(candidate.score, 0)) writer.tag(CANDIDATE.score.number, WIRE.bit64).double(candidate.score);
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

/** Fields 1–6 of a candidate as JSON members, without braces ("" when all are unset), by offer. */
const offerFieldJson = new WeakMap<IndexedOffer, string>();
/** JSON of messages shared between answers. */
const sharedJson = new WeakMap<Message, string>();

function jsonShared(schema: DescMessage, message: Message): string {
  let json = sharedJson.get(message);
  if (json === undefined) sharedJson.set(message, (json = toJsonString(schema, message)));
  return json;
}

function offerFieldsJson(candidate: Candidate, offer: IndexedOffer): string {
  let json = offerFieldJson.get(offer);
  if (json === undefined) {
    const { orchUri, orchestratorUri, address, modelId, price, priceSource } = candidate;
    json = toJsonString(CandidateSchema, create(CandidateSchema, { orchUri, orchestratorUri, address, modelId, price, priceSource })).slice(1, -1);
    offerFieldJson.set(offer, json);
  }
  return json;
}

/** `"jsonName":` of every field written below, as protobuf-es names a field in JSON. */
const MEMBER_NAMES = new Map<DescField, string>([...RouteResponseSchema.fields, ...CandidateSchema.fields, ...HealthSummarySchema.fields].map((f) => [f, `${JSON.stringify(f.jsonName)}:`]));

function member(field: DescField): string {
  return MEMBER_NAMES.get(field) as string;
}

/** A double as protobuf JSON writes it: a number, or the strings "NaN", "Infinity" and "-Infinity". */
function jsonDouble(value: number): string {
  return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
}

function pushString(members: string[], field: DescField, value: string): void {
  if (value !== "") members.push(member(field) + JSON.stringify(value));
}

function pushNumber(members: string[], field: DescField, value: number): void {
  if (value !== 0) members.push(member(field) + String(value));
}

function pushTrue(members: string[], field: DescField, value: boolean): void {
  if (value) members.push(`${member(field)}true`);
}

function healthJson(health: HealthSummary): string {
  const members: string[] = [];
  if (!Object.is(health.successRate, 0)) members.push(member(HEALTH.successRate) + jsonDouble(health.successRate));
  if (health.ewmaLatency !== undefined) members.push(member(HEALTH.ewmaLatency) + jsonShared(DurationSchema, health.ewmaLatency));
  if (health.latencyStddev !== undefined) members.push(member(HEALTH.latencyStddev) + jsonShared(DurationSchema, health.latencyStddev));
  pushNumber(members, HEALTH.consecutiveFailures, health.consecutiveFailures);
  pushTrue(members, HEALTH.ejected, health.ejected);
  if (health.ejectedUntil !== undefined) members.push(member(HEALTH.ejectedUntil) + toJsonString(TimestampSchema, health.ejectedUntil));
  pushNumber(members, HEALTH.ejections, health.ejections);
  pushTrue(members, HEALTH.possibleEviction, health.possibleEviction);
  pushTrue(members, HEALTH.highVariance, health.highVariance);
  pushNumber(members, HEALTH.coldStarts, health.coldStarts);
  // 64-bit integers are decimal strings in protobuf JSON.
  if (health.samples !== 0n) members.push(`${member(HEALTH.samples)}"${health.samples}"`);
  if (health.lastOutcome !== 0) members.push(member(HEALTH.lastOutcome) + JSON.stringify(enumToJson(OutcomeClassSchema, health.lastOutcome)));
  pushTrue(members, HEALTH.probing, health.probing);
  return `{${members.join(",")}}`;
}

function candidateJson(candidate: Candidate, offer: IndexedOffer, isSharedHealth: (m: Message) => boolean): string {
  const members: string[] = [];
  const fixed = offerFieldsJson(candidate, offer);
  if (fixed !== "") members.push(fixed);
  pushString(members, CANDIDATE.priceUsd, candidate.priceUsd);
  pushTrue(members, CANDIDATE.warm, candidate.warm);
  if (candidate.observedLatency !== undefined) members.push(member(CANDIDATE.observedLatency) + jsonShared(DurationSchema, candidate.observedLatency));
  if (candidate.latencySource !== 0) members.push(member(CANDIDATE.latencySource) + JSON.stringify(enumToJson(LatencySourceSchema, candidate.latencySource)));
  const { health } = candidate;
  if (health !== undefined) members.push(member(CANDIDATE.health) + (isSharedHealth(health) ? jsonShared(HealthSummarySchema, health) : healthJson(health)));
  pushString(members, CANDIDATE.region, candidate.region);
  if (!Object.is(candidate.score, 0)) members.push(member(CANDIDATE.score) + jsonDouble(candidate.score));
  pushString(members, CANDIDATE.reason, candidate.reason);
  return `{${members.join(",")}}`;
}

/** toJsonString(RouteResponseSchema, response) with default options, given the offer behind each candidate (in order). */
export function encodeRouteResponseJson(response: RouteResponse, offers: readonly IndexedOffer[], isSharedHealth: (m: Message) => boolean): string {
  const members: string[] = [];
  pushString(members, ROUTE.routeId, response.routeId);
  if (response.candidates.length > 0) {
    const candidates = response.candidates.map((candidate, i) => candidateJson(candidate, offers[i] as IndexedOffer, isSharedHealth));
    members.push(`${member(ROUTE.candidates)}[${candidates.join(",")}]`);
  }
  if (response.ceiling !== undefined) members.push(member(ROUTE.ceiling) + jsonShared(WeiPriceSchema, response.ceiling));
  pushString(members, ROUTE.ceilingSource, response.ceilingSource);
  if (response.retryProfile !== undefined) members.push(member(ROUTE.retryProfile) + jsonShared(RetryProfileSchema, response.retryProfile));
  pushString(members, ROUTE.summary, response.summary);
  return `{${members.join(",")}}`;
}

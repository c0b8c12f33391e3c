// Reading -maxPricePerCapability: go-livepeer's JSON, validated strictly, into ceiling rules still in their own
// currencies (conversion to wei happens in price-ceilings.ts, whenever the exchange rate changes).
//
//   {"capabilities_prices":[{"pipeline":"text-to-image","model_id":"stabilityai/sd-turbo",
//     "price_per_unit":1000,"pixels_per_unit":1,"currency":"USD"}, ...]}
//
// Where go-livepeer logs and ignores malformed JSON or panics on a bad entry, every problem here is a start-up
// error naming the entry and field. Keys match case-insensitively, as Go's encoding/json does; unknown keys are
// errors, because a misspelt "price_per_unit" would otherwise silently mean "no limit".
import { PIPELINE_CAPABILITY_IDS } from "../network/capabilities.js";
import type { CurrencyAmount } from "../network/currency.js";
import { parseDecimal, ratio, type Ratio } from "../network/price.js";
import { describeJson, isJsonObject, JsonNumber, type ExactJson, type ExactJsonObject } from "../util/exact-json.js";
import { similarNames } from "../util/similar-names.js";

/** A ceiling as configured: an amount in some currency per `pixelsPerUnit` units of work. */
export interface CeilingRule {
  readonly amount: Ratio;
  /** "" means wei. */
  readonly currency: string;
  readonly pixelsPerUnit: Ratio;
  /** Where it came from, for "why" explanations: "maxPricePerCapability[2] text-to-image/default 0.5USD". */
  readonly source: string;
}

export interface CapabilityCeilingRule extends CeilingRule {
  /** A built-in pipeline name, or any other name, which is taken to be a BYOC capability. */
  readonly capability: string;
  /** "default" covers every model of the capability that has no entry of its own. */
  readonly modelId: string;
}

/** The global -maxPricePerUnit / -pixelsPerUnit pair that entries without a price or unit size fall back on. */
export interface GlobalPriceDefaults {
  /** Absent when -maxPricePerUnit is 0: entries without a price are then skipped. */
  readonly maxPricePerUnit?: CurrencyAmount;
  readonly pixelsPerUnit: bigint;
}

export const DEFAULT_MODEL_ID = "default";

const ENTRY_FIELDS = ["pipeline", "model_id", "price_per_unit", "pixels_per_unit", "currency"] as const;
type EntryField = (typeof ENTRY_FIELDS)[number];

/** An object's fields by lower-cased key; an unknown key or one spelt two ways is an error. */
function fieldsOf<K extends string>(object: ExactJsonObject, known: readonly K[], where: string): Map<K, ExactJson> {
  const fields = new Map<K, ExactJson>();
  for (const [key, value] of Object.entries(object)) {
    const name = known.find((k) => k === key.toLowerCase());
    if (name === undefined) {
      const similar = similarNames(key, known);
      throw new Error(`${where}: unknown field ${JSON.stringify(key)}${similar.length > 0 ? `; did you mean ${similar.join(", ")}?` : ""} (known: ${known.join(", ")})`);
    }
    if (fields.has(name)) throw new Error(`${where}: field ${JSON.stringify(name)} given twice with different capitalisation`);
    // null reads as absent, which is what an operator writing null means.
    if (value !== null) fields.set(name, value);
  }
  return fields;
}

function optionalString(fields: Map<EntryField, ExactJson>, field: EntryField, where: string): string | undefined {
  const value = fields.get(field);
  if (value === undefined || typeof value === "string") return value;
  throw new Error(`${where}.${field} must be a string, got ${describeJson(value)}`);
}

/** A JSON number as an exact ratio (go-livepeer's JSONRat). Quoted numbers are refused there too. */
function optionalNumber(fields: Map<EntryField, ExactJson>, field: EntryField, where: string): { value: Ratio; text: string } | undefined {
  const value = fields.get(field);
  if (value === undefined) return undefined;
  const parsed = value instanceof JsonNumber ? parseDecimal(value.text) : undefined;
  if (!(value instanceof JsonNumber) || !parsed) {
    throw new Error(`${where}.${field} must be a JSON number (not quoted), got ${describeJson(value)}`);
  }
  return { value: parsed, text: value.text };
}

function readEntry(entry: ExactJson, index: number, defaults: GlobalPriceDefaults, flag: string): CapabilityCeilingRule | string {
  const where = `${flag}: capabilities_prices[${index}]`;
  if (!isJsonObject(entry)) throw new Error(`${where} must be an object, got ${describeJson(entry)}`);
  const fields = fieldsOf(entry, ENTRY_FIELDS, where);

  const capability = optionalString(fields, "pipeline", where)?.trim() ?? "";
  if (capability === "") throw new Error(`${where}.pipeline is required: a pipeline such as "text-to-image" or a BYOC capability name`);
  const modelId = optionalString(fields, "model_id", where)?.trim() || DEFAULT_MODEL_ID;
  const label = `maxPricePerCapability[${index}] ${capability}/${modelId}`;

  const price = optionalNumber(fields, "price_per_unit", where);
  if (price && price.value.num < 0n) throw new Error(`${where}.price_per_unit must not be negative, got ${price.text}`);
  const pixels = optionalNumber(fields, "pixels_per_unit", where);
  const currency = optionalString(fields, "currency", where)?.trim() ?? "";
  if (currency !== "" && !/^[A-Za-z][A-Za-z0-9]*$/.test(currency)) {
    throw new Error(`${where}.currency ${JSON.stringify(currency)} must be a currency code such as USD, ETH or wei`);
  }

  // As in go-livepeer, a missing or non-positive unit size means -pixelsPerUnit.
  const ownPixels = pixels && pixels.value.num > 0n;
  const pixelsPerUnit = ownPixels ? pixels.value : ratio(defaults.pixelsPerUnit);
  const perUnits = ownPixels
    ? pixels.value.num === pixels.value.den ? "" : ` per ${pixels.text} units`
    : defaults.pixelsPerUnit === 1n ? "" : ` per ${defaults.pixelsPerUnit} units (-pixelsPerUnit)`;

  // A price of 0 means "no price of its own", as in go-livepeer.
  if (price && price.value.num > 0n) {
    const amountText = `${price.text}${currency === "" ? " wei" : currency}`;
    return { capability, modelId, amount: price.value, currency, pixelsPerUnit, source: `${label} ${amountText}${perUnits}` };
  }
  const global = defaults.maxPricePerUnit;
  if (!global) return `${label} has no price_per_unit and -maxPricePerUnit is not set: no ceiling of its own`;
  // go-livepeer pairs the global number with the entry's currency (0.5USD becoming 0.5 wei); the global amount
  // keeps its own currency here, and an entry naming a different one is contradictory.
  if (currency !== "" && canonicalCurrency(currency) !== canonicalCurrency(global.currency)) {
    throw new Error(`${where}.currency ${JSON.stringify(currency)} is given without price_per_unit, but the price would come from -maxPricePerUnit ${global.text}, in ${global.currency || "wei"}`);
  }
  return {
    capability,
    modelId,
    amount: global.amount,
    currency: global.currency,
    pixelsPerUnit,
    source: `${label} ${global.text} (price from -maxPricePerUnit)${perUnits}`,
  };
}

/** "" and "wei" are the same currency; codes are case-insensitive. */
const canonicalCurrency = (currency: string): string => currency.toLowerCase() || "wei";

/** A name that is not a built-in pipeline is a BYOC capability; one that looks like a misspelt pipeline is worth a warning. */
function byocWarning(capability: string, index: number): string | undefined {
  if (PIPELINE_CAPABILITY_IDS.has(capability)) return undefined;
  const similar = similarNames(capability, [...PIPELINE_CAPABILITY_IDS.keys()], 1);
  if (similar.length === 0) return undefined;
  return `maxPricePerCapability[${index}]: "${capability}" is not a built-in pipeline and is taken as a BYOC capability name (did you mean ${similar[0]}?)`;
}

/**
 * The rules a parsed -maxPricePerCapability value holds, and warnings for the start-up log (entries that set no
 * ceiling, names that look like misspelt pipelines). Throws naming the entry and field on anything malformed.
 */
export function readMaxPricePerCapability(
  json: ExactJson,
  defaults: GlobalPriceDefaults,
  flag = "-maxPricePerCapability",
): { rules: CapabilityCeilingRule[]; warnings: string[] } {
  if (!isJsonObject(json)) throw new Error(`${flag} must be a JSON object {"capabilities_prices":[...]}, got ${describeJson(json)}`);
  const entries = fieldsOf(json, ["capabilities_prices"] as const, flag).get("capabilities_prices") ?? [];
  if (!Array.isArray(entries)) throw new Error(`${flag}: capabilities_prices must be an array, got ${describeJson(entries)}`);

  const rules: CapabilityCeilingRule[] = [];
  const warnings: string[] = [];
  const firstIndexOf = new Map<string, number>();
  entries.forEach((entry, index) => {
    const rule = readEntry(entry, index, defaults, flag);
    if (typeof rule === "string") {
      warnings.push(rule);
      return;
    }
    const key = `${rule.capability}\u0000${rule.modelId}`;
    const earlier = firstIndexOf.get(key);
    if (earlier !== undefined) {
      throw new Error(`${flag}: capabilities_prices[${index}] repeats ${rule.capability}/${rule.modelId} from capabilities_prices[${earlier}]`);
    }
    firstIndexOf.set(key, index);
    const warning = byocWarning(rule.capability, index);
    if (warning) warnings.push(warning);
    rules.push(rule);
  });
  return { rules, warnings };
}

// Price ceilings: the most the gateway pays per unit of work, per capability and model, exactly in wei.
//
// Settings (go-livepeer's flags and meanings): -maxPricePerUnit (0 = any price), -pixelsPerUnit (divides it),
// -maxPricePerCapability (JSON, see max-price-per-capability.ts). Unlike go-livepeer, which reads these only on
// chain, the ceilings apply off-chain too: an operator's limit is a limit whether or not tickets are being sent.
//
// Lookup for (capability, model): the model's own entry, else the capability's "default" entry, else the global
// maximum, else no limit. Rules stay in their own currencies; withRate() recomputes every ceiling in wei when the
// ETH/USD rate moves, so a USD ceiling tracks the feed the way go-livepeer's AutoConvertedPrice does.
import { convertToWei, describeRate, needsExchangeRate, parsePricePerUnit, type EthUsdRate } from "../network/currency.js";
import { divideRatios, formatRatio, isInteger, multiplyRatios, parseDecimal, ratio, weiPerUnit, type Ratio, type WeiPerUnit } from "../network/price.js";
import { readJsonSetting } from "../util/json-setting.js";
import {
  DEFAULT_MODEL_ID,
  readMaxPricePerCapability,
  type CapabilityCeilingRule,
  type CeilingRule,
  type GlobalPriceDefaults,
} from "./max-price-per-capability.js";

export { DEFAULT_MODEL_ID, type CapabilityCeilingRule, type CeilingRule } from "./max-price-per-capability.js";

/** The flags as typed; absent ones take go-livepeer's defaults ("0", "1", none). */
export interface PriceCeilingFlags {
  readonly maxPricePerUnit?: string;
  readonly pixelsPerUnit?: string;
  /** Inline JSON or the path of a file holding it. */
  readonly maxPricePerCapability?: string;
}

/** The ceilings as configured, independent of any exchange rate. */
export interface PriceCeilingConfig {
  /** Absent when -maxPricePerUnit is 0: capabilities without an entry then have no limit. */
  readonly global?: CeilingRule;
  readonly rules: readonly CapabilityCeilingRule[];
  /** For the start-up log: entries that set nothing, names taken as BYOC that look like misspelt pipelines. */
  readonly warnings: readonly string[];
}

export type CeilingLevel = "model" | "capability" | "global";

export interface ResolvedCeiling {
  readonly price: WeiPerUnit;
  /** "maxPricePerCapability[2] text-to-image/default 0.5USD", "-maxPricePerUnit 0.5USD -pixelsPerUnit 1000000000000". */
  readonly source: string;
  readonly level: CeilingLevel;
  /** The exchange rate used, when the rule is in a currency other than wei or ETH: "3000 USD/ETH (-ethUsdRate 3000)". */
  readonly rate?: string;
}

/** Scales the global fallback for capabilities that need more compute per unit (the chained retry profile). */
export interface CeilingMultiplier {
  readonly factor: Ratio;
  /** "chained profile" */
  readonly source: string;
}

function parsePixelsPerUnit(text: string): bigint {
  const value = parseDecimal(text.trim());
  if (!value || !isInteger(value) || value.num <= 0n) {
    throw new Error(`-pixelsPerUnit ${JSON.stringify(text)} must be a positive integer, e.g. 1 or 1000000000000`);
  }
  return value.num;
}

/** Validates the three flags and reads the per-capability JSON. Throws naming the bad flag, entry or field. */
export function parsePriceCeilingConfig(flags: PriceCeilingFlags): PriceCeilingConfig {
  const pixelsPerUnit = parsePixelsPerUnit(flags.pixelsPerUnit ?? "1");
  const maxPrice = parsePricePerUnit(flags.maxPricePerUnit ?? "0", "-maxPricePerUnit");
  const hasGlobal = maxPrice.amount.num > 0n;
  const defaults: GlobalPriceDefaults = { pixelsPerUnit, maxPricePerUnit: hasGlobal ? maxPrice : undefined };
  const global: CeilingRule | undefined = hasGlobal
    ? {
        amount: maxPrice.amount,
        currency: maxPrice.currency,
        pixelsPerUnit: ratio(pixelsPerUnit),
        source: `-maxPricePerUnit ${maxPrice.text}${pixelsPerUnit === 1n ? "" : ` -pixelsPerUnit ${pixelsPerUnit}`}`,
      }
    : undefined;

  const json = flags.maxPricePerCapability?.trim() ? readJsonSetting(flags.maxPricePerCapability, "-maxPricePerCapability") : undefined;
  const { rules, warnings } = json === undefined ? { rules: [], warnings: [] } : readMaxPricePerCapability(json, defaults);
  return { global, rules, warnings };
}

/** The currencies (upper case) the config needs an exchange rate for; empty when everything is in wei or ETH. */
export function currenciesNeedingRate(config: PriceCeilingConfig): string[] {
  const rules = config.global ? [config.global, ...config.rules] : config.rules;
  return [...new Set(rules.filter((r) => needsExchangeRate(r.currency)).map((r) => r.currency.toUpperCase()))].sort();
}

function resolveRule(rule: CeilingRule, level: CeilingLevel, rate: EthUsdRate | undefined): ResolvedCeiling {
  let wei: Ratio;
  try {
    wei = convertToWei(rule.amount, rule.currency, rate);
  } catch (error) {
    throw new Error(`${rule.source}: ${(error as Error).message}`);
  }
  const perUnit = divideRatios(wei, rule.pixelsPerUnit);
  const converted = needsExchangeRate(rule.currency) && rate;
  return { price: weiPerUnit(perUnit.num, perUnit.den), source: rule.source, level, ...(converted ? { rate: describeRate(rate) } : {}) };
}

/** Every ceiling resolved in wei per unit for one exchange rate. Immutable; withRate() gives the next one. */
export class PriceCeilings {
  /** Absent when there is no global maximum. */
  readonly global: ResolvedCeiling | undefined;
  private readonly byCapability: ReadonlyMap<string, ReadonlyMap<string, ResolvedCeiling>>;

  private constructor(
    readonly config: PriceCeilingConfig,
    readonly rate: EthUsdRate | undefined,
  ) {
    this.global = config.global && resolveRule(config.global, "global", rate);
    const byCapability = new Map<string, Map<string, ResolvedCeiling>>();
    for (const rule of config.rules) {
      const models = byCapability.get(rule.capability) ?? new Map<string, ResolvedCeiling>();
      models.set(rule.modelId, resolveRule(rule, rule.modelId === DEFAULT_MODEL_ID ? "capability" : "model", rate));
      byCapability.set(rule.capability, models);
    }
    this.byCapability = byCapability;
  }

  /**
   * Resolves every rule in wei. Throws naming the rule when its currency is unknown, or needs a rate and `rate` is
   * absent (see currenciesNeedingRate to know whether to wait for a price feed first).
   */
  static resolve(config: PriceCeilingConfig, rate?: EthUsdRate): PriceCeilings {
    return new PriceCeilings(config, rate);
  }

  /** The same rules at a new exchange rate. */
  withRate(rate: EthUsdRate): PriceCeilings {
    return new PriceCeilings(this.config, rate);
  }

  /**
   * The ceiling for a capability (pipeline or BYOC name) and model: the model's entry, else the capability's
   * "default", else the global maximum (scaled by `globalMultiplier` when given), else undefined for no limit.
   * The multiplier never touches explicit per-capability entries: those already say what the operator will pay.
   */
  ceilingFor(capability: string, modelId?: string, globalMultiplier?: CeilingMultiplier): ResolvedCeiling | undefined {
    const models = this.byCapability.get(capability);
    const own = modelId ? models?.get(modelId) : undefined;
    const found = own ?? models?.get(DEFAULT_MODEL_ID);
    if (found) return found;
    if (!this.global || !globalMultiplier || (globalMultiplier.factor.num === 1n && globalMultiplier.factor.den === 1n)) return this.global;
    const scaled = multiplyRatios(this.global.price, globalMultiplier.factor);
    return {
      ...this.global,
      price: weiPerUnit(scaled.num, scaled.den),
      source: `${this.global.source} × ${formatRatio(globalMultiplier.factor)} (${globalMultiplier.source})`,
    };
  }

  /** Every per-capability ceiling, for listings such as ListOfferings. */
  entries(): Array<ResolvedCeiling & { capability: string; modelId: string }> {
    return [...this.byCapability].flatMap(([capability, models]) =>
      [...models].map(([modelId, ceiling]) => ({ capability, modelId, ...ceiling })),
    );
  }
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertToWei, fixedEthUsdRate, parsePricePerUnit, rateFromPriceFeed, type EthUsdRate } from "../src/network/currency.js";
import { exceedsRatio, formatPrice, formatRatio, parseDecimal, ratio, ratioToNumber, type Ratio } from "../src/network/price.js";
import { currenciesNeedingRate, parsePriceCeilingConfig, PriceCeilings, type PriceCeilingFlags } from "../src/routing/price-ceilings.js";
import { JsonNumber, parseExactJson } from "../src/util/exact-json.js";

const E18 = 10n ** 18n;
const usdRate = (usdPerEth: Ratio): EthUsdRate => ({ currency: "USD", perEth: usdPerEth, source: "test" });
const text = (r: Ratio): string => (r.den === 1n ? `${r.num}` : `${r.num}/${r.den}`);
const ceilings = (flags: PriceCeilingFlags, rate?: EthUsdRate): PriceCeilings => PriceCeilings.resolve(parsePriceCeilingConfig(flags), rate);
const capabilityPrices = (...entries: object[]): string => JSON.stringify({ capabilities_prices: entries });
const dir = mkdtempSync(join(tmpdir(), "price-ceilings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parsePricePerUnit (go-livepeer TestParsePricePerUnit)", () => {
  it.each([
    ["100USD", "100", "USD"],
    ["0.13USD", "13/100", "USD"],
    ["99.99eur", "9999/100", "eur"],
    ["420DOG3", "420", "DOG3"],
    ["100", "100", ""],
    ["100wei", "100", "wei"],
  ])("%s -> %s %s", (input, price, currency) => {
    const parsed = parsePricePerUnit(input);
    expect(text(parsed.amount)).toBe(price);
    expect(parsed.currency).toBe(currency);
  });

  it.each(["abcUSD", "-100USD", "", "1.", ".5", "1e3x!", "100 USD"])("refuses %j", (input) => {
    expect(() => parsePricePerUnit(input, "-maxPricePerUnit")).toThrow(/-maxPricePerUnit/);
  });

  it("does not reproduce the [A-z] quirk: [ \\ ] ^ _ ` are not currency letters", () => {
    for (const input of ["100_USD", "100^", "100[x", "100`"]) expect(() => parsePricePerUnit(input)).toThrow(/currency/);
  });
});

describe("conversion to wei (go-livepeer core/autoconvertedprice_test.go)", () => {
  it("keeps wei and multiplies ETH by 1e18, case-insensitively", () => {
    expect(convertToWei(ratio(1n), "wei", undefined)).toEqual(ratio(1n));
    expect(convertToWei(ratio(1n), "WEI", undefined)).toEqual(ratio(1n));
    expect(convertToWei(ratio(1n), "", undefined)).toEqual(ratio(1n));
    expect(convertToWei(ratio(2n), "ETH", undefined)).toEqual(ratio(2n * E18));
    expect(convertToWei(ratio(2n), "eth", undefined)).toEqual(ratio(2n * E18));
  });

  it("converts USD through an ETH/USD feed", () => {
    const at = (price: Ratio): EthUsdRate => rateFromPriceFeed({ base: "ETH", quote: "USD", price, source: "feed" });
    expect(convertToWei(ratio(2n), "USD", at(ratio(100n)))).toEqual(ratio(2n * 10n ** 16n));
    expect(convertToWei(ratio(50n), "USD", at(ratio(3000n)))).toEqual(ratio(5n * 10n ** 16n, 3n));
    expect(convertToWei(ratio(50n), "usd", at(ratio(6000n)))).toEqual(ratio(5n * 10n ** 16n, 6n));
  });

  it("converts USD through a USD/ETH feed", () => {
    const rate = rateFromPriceFeed({ base: "USD", quote: "ETH", price: ratio(1n, 420n), source: "feed" });
    expect(convertToWei(ratio(66n), "USD", rate)).toEqual(ratio(11n * 10n ** 17n, 7n));
  });

  it("matches currencyToWeiMultiplier for both feed orientations", () => {
    const ethBase = rateFromPriceFeed({ base: "ETH", quote: "USD", price: ratio(500n), source: "feed" });
    expect(convertToWei(ratio(1n), "USD", ethBase)).toEqual(ratio(E18, 500n));
    const usdBase = rateFromPriceFeed({ base: "USD", quote: "ETH", price: ratio(1n, 2000n), source: "feed" });
    expect(convertToWei(ratio(1n), "USD", usdBase)).toEqual(ratio(5n * 10n ** 14n));
  });

  it("takes a Chainlink answer scaled by its decimals exactly (TestComputePriceData)", () => {
    const rate = rateFromPriceFeed({ base: "ETH", quote: "USD", price: ratio(420666000n, 10n ** 6n), source: "feed" });
    expect(text(rate.perEth)).toBe("210333/500");
  });

  it("refuses a feed without ETH on one side, or a zero price", () => {
    expect(() => rateFromPriceFeed({ base: "BTC", quote: "USD", price: ratio(1n), source: "feed" })).toThrow(/ETH on exactly one side/);
    expect(() => rateFromPriceFeed({ base: "ETH", quote: "USD", price: ratio(0n), source: "feed" })).toThrow(/positive/);
  });

  it("names an unknown currency, and a currency whose rate is missing", () => {
    expect(() => convertToWei(ratio(1n), "EUR", usdRate(ratio(3000n)))).toThrow(/unknown currency "EUR"/);
    expect(() => convertToWei(ratio(1n), "USD", undefined)).toThrow(/"USD" needs an ETH\/USD rate/);
  });

  it("reads -ethUsdRate exactly", () => {
    expect(fixedEthUsdRate("3000.50").perEth).toEqual(ratio(6001n, 2n));
    expect(() => fixedEthUsdRate("0")).toThrow(/-ethUsdRate "0"/);
    expect(() => fixedEthUsdRate("3,000")).toThrow(/-ethUsdRate/);
  });
});

describe("doubles of exact ratios, for ranking and pre-filters only", () => {
  it("gives the nearest double even when numerator and denominator overflow one", () => {
    expect(ratioToNumber(ratio(1n, 3n))).toBeCloseTo(1 / 3, 15);
    expect(ratioToNumber(ratio(10n ** 400n + 1n, 2n * 10n ** 400n))).toBeCloseTo(0.5, 15);
    expect(ratioToNumber(ratio(10n ** 400n, 3n))).toBe(Infinity);
    expect(ratioToNumber(ratio(1n, 10n ** 400n))).toBe(0);
  });

  it("compares exactly where the doubles cannot tell", () => {
    const a = ratio(10n ** 30n + 1n, 10n ** 30n);
    const b = ratio(10n ** 30n + 2n, 10n ** 30n);
    expect(ratioToNumber(a)).toBe(ratioToNumber(b));
    expect(exceedsRatio(b, ratioToNumber(b), a, ratioToNumber(a))).toBe(true);
    expect(exceedsRatio(a, ratioToNumber(a), b, ratioToNumber(b))).toBe(false);
    expect(exceedsRatio(a, ratioToNumber(a), a, ratioToNumber(a))).toBe(false);
    const huge = ratio(10n ** 400n + 1n, 1n);
    expect(exceedsRatio(huge, ratioToNumber(huge), ratio(10n ** 400n), Infinity)).toBe(true);
  });
});

describe("exact decimals and JSON", () => {
  it("parses decimals with fractions and exponents exactly", () => {
    expect(parseDecimal("0.0002")).toEqual(ratio(1n, 5000n));
    expect(parseDecimal("1e12")).toEqual(ratio(10n ** 12n));
    expect(parseDecimal("-2.5E-3")).toEqual(ratio(-1n, 400n));
    expect(parseDecimal("1e99999")).toBeUndefined();
    expect(parseDecimal("0x10")).toBeUndefined();
    expect(formatRatio(ratio(1n, 5000n))).toBe("0.0002");
    expect(formatRatio(ratio(500n, 3n))).toBe("500/3");
  });

  it("keeps JSON numbers as written and refuses duplicate keys", () => {
    const parsed = parseExactJson('{"a": [0.0002, 1e3, -7], "b": "x"}') as { a: JsonNumber[] };
    expect(parsed.a.map((n) => n.text)).toEqual(["0.0002", "1e3", "-7"]);
    expect(() => parseExactJson('{"a": 1, "a": 2}')).toThrow(/duplicate key "a" at line 1 column 10/);
    expect(() => parseExactJson('{"a": 01}')).toThrow(/malformed number/);
    expect(() => parseExactJson('{"a": 1,}')).toThrow(/line 1/);
    expect(() => parseExactJson("[1] x")).toThrow(/after the JSON value/);
  });
});

describe("global ceiling (-maxPricePerUnit, -pixelsPerUnit)", () => {
  it("is the worked example: 0.5USD per 1e12 pixels at 3000 USD/ETH is 500/3 wei per pixel", () => {
    const c = ceilings({ maxPricePerUnit: "0.5USD", pixelsPerUnit: "1000000000000" }, fixedEthUsdRate("3000"));
    expect(formatPrice(c.global!.price)).toBe("500/3");
    expect(c.global!.source).toBe("-maxPricePerUnit 0.5USD -pixelsPerUnit 1000000000000");
    expect(c.global!.rate).toBe("3000 USD/ETH (-ethUsdRate 3000)");
    expect(formatPrice(c.ceilingFor("text-to-image", "any/model")!.price)).toBe("500/3");
  });

  it("divides by -pixelsPerUnit, which may be written as 1e12", () => {
    expect(formatPrice(ceilings({ maxPricePerUnit: "1000", pixelsPerUnit: "1e12" }).global!.price)).toBe("1/1000000000");
    expect(formatPrice(ceilings({ maxPricePerUnit: "0.00001ETH", pixelsPerUnit: "3" }).global!.price)).toBe("10000000000000/3");
  });

  it("means no limit at 0, the default", () => {
    expect(ceilings({}).global).toBeUndefined();
    expect(ceilings({ maxPricePerUnit: "0USD" }).ceilingFor("llm")).toBeUndefined();
  });

  it.each(["0", "-1", "1.5", "abc", ""])("refuses -pixelsPerUnit %j", (pixels) => {
    expect(() => parsePriceCeilingConfig({ pixelsPerUnit: pixels })).toThrow(/-pixelsPerUnit .* must be a positive integer/);
  });
});

describe("-maxPricePerCapability (go-livepeer TestMaxPricePerCapability)", () => {
  const goVectors = capabilityPrices(
    { pipeline: "text-to-image", model_id: "stabilityai/sd-turbo", price_per_unit: 1000, pixels_per_unit: 1 },
    { pipeline: "image-to-video", model_id: "default", price_per_unit: 2000, pixels_per_unit: 3 },
    { pipeline: "upscale", price_per_unit: 3000, pixels_per_unit: 1 },
  );

  it("resolves the upstream vectors", () => {
    const c = ceilings({ maxPricePerCapability: goVectors });
    expect(formatPrice(c.ceilingFor("text-to-image", "stabilityai/sd-turbo")!.price)).toBe("1000");
    expect(formatPrice(c.ceilingFor("image-to-video", "anything")!.price)).toBe("2000/3");
    expect(c.ceilingFor("upscale", "x")).toMatchObject({ level: "capability", source: "maxPricePerCapability[2] upscale/default 3000 wei" });
    expect(formatPrice(c.ceilingFor("upscale")!.price)).toBe("3000");
    expect(c.entries().map((e) => `${e.capability}/${e.modelId}`)).toEqual([
      "text-to-image/stabilityai/sd-turbo",
      "image-to-video/default",
      "upscale/default",
    ]);
  });

  it("looks up the model's entry, then the capability default, then the global maximum, then nothing", () => {
    const c = ceilings({
      maxPricePerUnit: "10",
      maxPricePerCapability: capabilityPrices(
        { pipeline: "text-to-image", model_id: "m1", price_per_unit: 1 },
        { pipeline: "text-to-image", price_per_unit: 2 },
        { pipeline: "image-to-image", model_id: "m1", price_per_unit: 3 },
      ),
    });
    expect(c.ceilingFor("text-to-image", "m1")).toMatchObject({ level: "model", price: { num: 1n, den: 1n } });
    expect(c.ceilingFor("text-to-image", "m2")).toMatchObject({ level: "capability", price: { num: 2n, den: 1n } });
    expect(c.ceilingFor("image-to-image", "m2")).toMatchObject({ level: "global", source: "-maxPricePerUnit 10" });
    expect(c.ceilingFor("llm")).toMatchObject({ level: "global" });
    expect(ceilings({ maxPricePerCapability: goVectors }).ceilingFor("llm", "x")).toBeUndefined();
  });

  it("keeps 0.0002 USD exact and converts each entry in its own currency", () => {
    const c = ceilings(
      {
        maxPricePerCapability:
          '{"capabilities_prices":[' +
          '{"pipeline":"live-video-to-video","model_id":"streamdiffusion","price_per_unit":0.0002,"pixels_per_unit":1,"currency":"USD"},' +
          '{"pipeline":"llm","price_per_unit":0.000001,"currency":"ETH"},' +
          '{"pipeline":"text-to-image","price_per_unit":0.5,"pixels_per_unit":1e12,"currency":"usd"}]}',
      },
      fixedEthUsdRate("3000"),
    );
    expect(formatPrice(c.ceilingFor("live-video-to-video", "streamdiffusion")!.price)).toBe("200000000000/3");
    expect(formatPrice(c.ceilingFor("llm")!.price)).toBe("1000000000000");
    expect(c.ceilingFor("text-to-image")).toMatchObject({
      price: { num: 500n, den: 3n },
      source: "maxPricePerCapability[2] text-to-image/default 0.5usd per 1e12 units",
      rate: "3000 USD/ETH (-ethUsdRate 3000)",
    });
  });

  it("falls back to the global amount in the global's own currency (not go-livepeer's 0.5 wei)", () => {
    const c = ceilings(
      {
        maxPricePerUnit: "0.5USD",
        pixelsPerUnit: "1000000000000",
        maxPricePerCapability: capabilityPrices({ pipeline: "upscale" }, { pipeline: "llm", price_per_unit: 0, pixels_per_unit: 1 }),
      },
      fixedEthUsdRate("3000"),
    );
    expect(c.ceilingFor("upscale")).toMatchObject({
      price: { num: 500n, den: 3n },
      source: "maxPricePerCapability[0] upscale/default 0.5USD (price from -maxPricePerUnit) per 1000000000000 units (-pixelsPerUnit)",
    });
    // price_per_unit 0 means "none of its own", as in go-livepeer; the entry's own pixels_per_unit still applies.
    expect(formatPrice(c.ceilingFor("llm")!.price)).toBe("500000000000000/3");
  });

  it("refuses an entry that names another currency but takes the global price", () => {
    expect(() =>
      parsePriceCeilingConfig({ maxPricePerUnit: "0.5USD", maxPricePerCapability: capabilityPrices({ pipeline: "upscale", currency: "ETH" }) }),
    ).toThrow(/capabilities_prices\[0\]\.currency "ETH" is given without price_per_unit/);
    // The same currency is not a contradiction.
    expect(() =>
      parsePriceCeilingConfig({ maxPricePerUnit: "0.5USD", maxPricePerCapability: capabilityPrices({ pipeline: "upscale", currency: "usd" }) }),
    ).not.toThrow();
    expect(() =>
      parsePriceCeilingConfig({ maxPricePerUnit: "5", maxPricePerCapability: capabilityPrices({ pipeline: "upscale", currency: "WEI" }) }),
    ).not.toThrow();
  });

  it("skips an entry without a price when there is no global maximum, with a warning", () => {
    const config = parsePriceCeilingConfig({ maxPricePerCapability: capabilityPrices({ pipeline: "upscale", pixels_per_unit: 2 }) });
    expect(config.rules).toEqual([]);
    expect(config.warnings).toEqual(["maxPricePerCapability[0] upscale/default has no price_per_unit and -maxPricePerUnit is not set: no ceiling of its own"]);
  });

  it("uses -pixelsPerUnit for a missing or non-positive pixels_per_unit", () => {
    const c = ceilings({
      pixelsPerUnit: "4",
      maxPricePerCapability: capabilityPrices({ pipeline: "upscale", price_per_unit: 8 }, { pipeline: "llm", price_per_unit: 8, pixels_per_unit: -1 }),
    });
    expect(formatPrice(c.ceilingFor("upscale")!.price)).toBe("2");
    expect(formatPrice(c.ceilingFor("llm")!.price)).toBe("2");
  });

  it("takes names that are not built-in pipelines as BYOC capabilities, warning about likely typos", () => {
    const config = parsePriceCeilingConfig({
      maxPricePerCapability: capabilityPrices({ pipeline: "depth", price_per_unit: 5 }, { pipeline: "text-to-imag", price_per_unit: 5 }),
    });
    expect(config.rules.map((r) => r.capability)).toEqual(["depth", "text-to-imag"]);
    expect(config.warnings).toEqual([
      'maxPricePerCapability[1]: "text-to-imag" is not a built-in pipeline and is taken as a BYOC capability name (did you mean text-to-image?)',
    ]);
    expect(formatPrice(PriceCeilings.resolve(config).ceilingFor("depth", "whatever")!.price)).toBe("5");
  });

  it("matches keys case-insensitively, as Go's encoding/json does", () => {
    const c = ceilings({ maxPricePerCapability: '{"Capabilities_Prices":[{"Pipeline":"llm","PRICE_PER_UNIT":7}]}' });
    expect(formatPrice(c.ceilingFor("llm")!.price)).toBe("7");
  });

  it("reads the JSON from a file", () => {
    const file = join(dir, "prices.json");
    writeFileSync(file, `\uFEFF${goVectors}`);
    expect(formatPrice(ceilings({ maxPricePerCapability: file }).ceilingFor("image-to-video")!.price)).toBe("2000/3");
    expect(() => parsePriceCeilingConfig({ maxPricePerCapability: join(dir, "missing.json") })).toThrow(
      /-maxPricePerCapability: .*missing\.json" is neither inline JSON nor a readable file \(ENOENT\)/,
    );
  });

  it.each([
    ['{"capabilities_prices":[{"pipeline":"llm",}]}', /-maxPricePerCapability: invalid JSON: expected a key in double quotes at line 1 column 43/],
    ['{"capabilities_prices":[{"pipeline":"llm","price_per_unit":"1000"}]}', /capabilities_prices\[0\]\.price_per_unit must be a JSON number \(not quoted\), got string "1000"/],
    ['{"capabilities_prices":[{"pipeline":"llm","price_per_unit":1},{"pipeline":"upscale","price_per_unit":-1}]}', /capabilities_prices\[1\]\.price_per_unit must not be negative, got -1/],
    ['{"capabilities_prices":[{"pipeline":"llm","pixels_per_unit":true}]}', /capabilities_prices\[0\]\.pixels_per_unit must be a JSON number/],
    ['{"capabilities_prices":[{"model_id":"x","price_per_unit":1}]}', /capabilities_prices\[0\]\.pipeline is required/],
    ['{"capabilities_prices":[{"pipeline":"llm","model_id":5,"price_per_unit":1}]}', /capabilities_prices\[0\]\.model_id must be a string, got number 5/],
    ['{"capabilities_prices":[{"pipeline":"llm","price_per_units":1}]}', /capabilities_prices\[0\]: unknown field "price_per_units"; did you mean price_per_unit/],
    ['{"capabilities_prices":[{"pipeline":"llm","currency":"US$","price_per_unit":1}]}', /capabilities_prices\[0\]\.currency "US\$" must be a currency code/],
    ['{"capabilities_prices":[{"pipeline":"llm","price_per_unit":1},{"pipeline":"llm","model_id":"default","price_per_unit":2}]}', /capabilities_prices\[1\] repeats llm\/default from capabilities_prices\[0\]/],
    ['{"capabilities_prices":[{"pipeline":"llm","price_per_unit":1,"Price_Per_Unit":2}]}', /capabilities_prices\[0\]: field "price_per_unit" given twice/],
    ['{"capabilities_prices":{}}', /capabilities_prices must be an array/],
    ['{"capabilities_prices":[7]}', /capabilities_prices\[0\] must be an object, got number 7/],
    ['{"prices":[]}', /unknown field "prices"/],
    ["[]", /must be a JSON object/],
  ])("refuses %s naming what is wrong", (json, message) => {
    expect(() => parsePriceCeilingConfig({ maxPricePerCapability: json })).toThrow(message);
  });
});

describe("exchange rates", () => {
  const flags = { maxPricePerUnit: "0.5USD", pixelsPerUnit: "1000000000000", maxPricePerCapability: capabilityPrices({ pipeline: "llm", price_per_unit: 1, currency: "ETH" }) };

  it("lists the currencies that need a rate, and refuses to resolve them without one", () => {
    const config = parsePriceCeilingConfig(flags);
    expect(currenciesNeedingRate(config)).toEqual(["USD"]);
    expect(() => PriceCeilings.resolve(config)).toThrow(/^-maxPricePerUnit 0\.5USD -pixelsPerUnit 1000000000000: currency "USD" needs an ETH\/USD rate/);
    expect(currenciesNeedingRate(parsePriceCeilingConfig({ maxPricePerUnit: "1ETH" }))).toEqual([]);
  });

  it("recomputes every ceiling when the rate changes", () => {
    const at3000 = PriceCeilings.resolve(parsePriceCeilingConfig(flags), fixedEthUsdRate("3000"));
    const at6000 = at3000.withRate(rateFromPriceFeed({ base: "ETH", quote: "USD", price: ratio(6000n), source: "feed" }));
    expect(formatPrice(at3000.global!.price)).toBe("500/3");
    expect(formatPrice(at6000.global!.price)).toBe("250/3");
    expect(at6000.global!.rate).toBe("6000 USD/ETH (feed)");
    // 1 ETH per 1e12 units (-pixelsPerUnit): no rate involved.
    expect(formatPrice(at6000.ceilingFor("llm")!.price)).toBe("1000000");
    expect(at6000.ceilingFor("llm")!.rate).toBeUndefined();
  });

  it("names a currency the rate does not cover", () => {
    expect(() => ceilings({ maxPricePerUnit: "1EUR" }, fixedEthUsdRate("3000"))).toThrow(/-maxPricePerUnit 1EUR: unknown currency "EUR": prices may be in wei, ETH or USD/);
  });
});

describe("global multiplier", () => {
  it("scales only the global fallback", () => {
    const c = ceilings({ maxPricePerUnit: "9", maxPricePerCapability: capabilityPrices({ pipeline: "depth", price_per_unit: 4 }) });
    const double = { factor: ratio(2n), source: "chained profile" };
    expect(c.ceilingFor("my-chain", undefined, double)).toMatchObject({ price: { num: 18n, den: 1n }, source: "-maxPricePerUnit 9 × 2 (chained profile)" });
    expect(c.ceilingFor("depth", undefined, double)).toMatchObject({ price: { num: 4n, den: 1n } });
    expect(c.ceilingFor("my-chain", undefined, { factor: ratio(3n, 2n), source: "x" })!.source).toBe("-maxPricePerUnit 9 × 1.5 (x)");
  });
});

// Price vectors from go-livepeer (ref pm-eth §6.1 "Prices"), checked against the existing exact-price code that the
// payment core reuses (src/network/currency.ts, src/network/price.ts).
import { describe, expect, it } from "vitest";
import { convertToWei, parsePricePerUnit, rateFromPriceFeed } from "../src/network/currency.js";
import { divideRatios, formatPrice, ratio, type Ratio } from "../src/network/price.js";

const r = (n: bigint, d = 1n): Ratio => ratio(n, d);
const feedPrice = (answer: bigint, decimals: bigint): Ratio => ratio(answer, 10n ** decimals); // eth/pricefeed.go computePriceData

describe("price feed data (eth/pricefeed_test.go TestComputePriceData)", () => {
  it("answer / 10^decimals", () => {
    expect(formatPrice(feedPrice(420666000n, 6n))).toBe("210333/500");
    expect(formatPrice(feedPrice(0n, 6n))).toBe("0");
    expect(formatPrice(feedPrice(13n, 0n))).toBe("13");
    expect(new Date(1626192000 * 1000).toISOString()).toBe("2021-07-13T16:00:00.000Z");
  });
});

describe("currency conversion (core/autoconvertedprice_test.go)", () => {
  const ethUsd = (p: Ratio) => rateFromPriceFeed({ base: "ETH", quote: "USD", price: p, source: "test" });
  it("wei and ETH need no feed", () => {
    expect(convertToWei(r(1n), "wei", undefined)).toEqual(r(1n));
    expect(convertToWei(r(2n), "ETH", undefined)).toEqual(r(2n * 10n ** 18n));
  });
  it("ETH/USD 100, 2 USD → 2e16 wei", () => {
    expect(convertToWei(r(2n), "USD", ethUsd(r(100n)))).toEqual(r(2n * 10n ** 16n));
  });
  it("USD/ETH 1/420, 66 USD → 11e17/7 wei", () => {
    const rate = rateFromPriceFeed({ base: "USD", quote: "ETH", price: r(1n, 420n), source: "test" });
    expect(convertToWei(r(66n), "USD", rate)).toEqual(r(11n * 10n ** 17n, 7n));
  });
  it("ETH/USD 3000 then 6000, 50 USD → 5e16/3 then 5e16/6 wei", () => {
    expect(convertToWei(r(50n), "USD", ethUsd(r(3000n)))).toEqual(r(5n * 10n ** 16n, 3n));
    expect(convertToWei(r(50n), "USD", ethUsd(r(6000n)))).toEqual(r(5n * 10n ** 16n, 6n));
  });
  it("currencyToWeiMultiplier: ETH base at 500 → 1e18/500; USD base at 1/2000 → 5e14", () => {
    expect(convertToWei(r(1n), "USD", ethUsd(r(500n)))).toEqual(r(10n ** 18n, 500n));
    const usdEth = rateFromPriceFeed({ base: "USD", quote: "ETH", price: r(1n, 2000n), source: "test" });
    expect(convertToWei(r(1n), "USD", usdEth)).toEqual(r(5n * 10n ** 14n));
  });
  it("worked example: 0.5USD per 1e12 pixels at 3000 USD/ETH (answer 300000000000, 8 decimals) = 500/3 wei per pixel", () => {
    const perUnit = convertToWei(parsePricePerUnit("0.5USD").amount, "USD", ethUsd(feedPrice(300000000000n, 8n)));
    expect(divideRatios(perUnit, r(10n ** 12n))).toEqual(r(500n, 3n));
  });
});

describe("parsePricePerUnit (starter_test.go TestParsePricePerUnit)", () => {
  const ok: Array<[string, Ratio, string]> = [
    ["100USD", r(100n), "USD"],
    ["0.13USD", r(13n, 100n), "USD"],
    ["99.99eur", r(9999n, 100n), "eur"],
    ["420DOG3", r(420n), "DOG3"],
    ["100", r(100n), ""],
    ["100wei", r(100n), "wei"],
  ];
  for (const [text, amount, currency] of ok) {
    it(text, () => {
      expect(parsePricePerUnit(text)).toMatchObject({ amount, currency });
    });
  }
  it("abcUSD and -100USD are errors", () => {
    expect(() => parsePricePerUnit("abcUSD")).toThrow();
    expect(() => parsePricePerUnit("-100USD")).toThrow();
  });
});

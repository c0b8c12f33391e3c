// Exact prices -> net.PriceInfo, with go-livepeer's two encodings: the reduced fraction when it fits in int64, and
// the whole-wei floor (pixelsPerUnit 1) used for capabilities_prices and for fractions that overflow.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PriceInfoSchema } from "../gen/net/lp_rpc_pb.js";
import { weiPerUnit, type WeiPerUnit } from "../network/price.js";

export type PriceInfoInit = MessageInitShape<typeof PriceInfoSchema>;

const INT64_MAX = (1n << 63n) - 1n;

/** What the price is for: a capability id and its model id or BYOC name. Empty for the base price. */
export interface PriceTarget {
  readonly capability?: number;
  readonly constraint?: string;
}

/** floor(price) wei per 1 unit, saturating at the int64 maximum rather than wrapping. */
export function flooredPriceInfo(price: WeiPerUnit, target: PriceTarget = {}): PriceInfoInit {
  const floor = price.num / price.den;
  return { ...target, pricePerUnit: floor > INT64_MAX ? INT64_MAX : floor, pixelsPerUnit: 1n };
}

/** The reduced fraction as pricePerUnit/pixelsPerUnit, or the floor when either part overflows int64. */
export function exactPriceInfo(price: WeiPerUnit, target: PriceTarget = {}): PriceInfoInit {
  const reduced = weiPerUnit(price.num, price.den);
  if (reduced.num > INT64_MAX || reduced.den > INT64_MAX) return flooredPriceInfo(reduced, target);
  return { ...target, pricePerUnit: reduced.num, pixelsPerUnit: reduced.den };
}

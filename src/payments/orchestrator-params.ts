// How a go-livepeer orchestrator picks faceValue and winProb (pm/recipient.go faceValue, winProb), for simulated
// orchestrators and for sizing the gateway's reserve. The gateway itself only receives these values.

import { MAX_UINT256 } from "./ticket.js";

/** starter.go txCostMultiplier and evMultiplier. */
export const TX_COST_MULTIPLIER = 100n;
export const EV_MULTIPLIER = 100n;
/** pm/recipient.go avgGasPrice: 3 gwei. */
export const AVG_GAS_PRICE = 3_000_000_000n;

export interface FaceValueInput {
  /** The orchestrator's -ticketEV, wei (an integer in go-livepeer). */
  readonly ticketEV: bigint;
  readonly redeemGas: bigint;
  readonly gasPrice: bigint;
  /** The sender's max float (reserve share) for this orchestrator. */
  readonly maxFloat: bigint;
  /** -maxFaceValue; 0 = no cap. */
  readonly maxFaceValue?: bigint;
}

/** pm/recipient.go recipient.faceValue: txCost × 100 (at least EV × 100), capped by maxFloat and -maxFaceValue. */
export function orchestratorFaceValue(input: FaceValueInput): bigint {
  const txCost = input.redeemGas * input.gasPrice;
  let faceValue = txCost * TX_COST_MULTIPLIER;
  if (faceValue < input.ticketEV) faceValue = input.ticketEV * EV_MULTIPLIER;
  if (faceValue > input.maxFloat) faceValue = input.maxFloat;
  if (input.maxFaceValue && input.maxFaceValue > 0n && faceValue > input.maxFaceValue) faceValue = input.maxFaceValue;
  if (faceValue < input.ticketEV) throw new Error("insufficient sender reserve");
  if (faceValue < txCost && faceValue < input.redeemGas * AVG_GAS_PRICE) {
    throw new Error(`insufficient sender reserve: faceValue ${faceValue} below the transaction cost ${txCost}`);
  }
  return faceValue;
}

/** pm/recipient.go recipient.winProb: the smallest win probability giving at least `ev` per ticket. */
export function orchestratorWinProb(faceValue: bigint, ev: bigint): bigint {
  if (faceValue === 0n) return 0n;
  if (faceValue === ev) return MAX_UINT256;
  const x = MAX_UINT256 / faceValue;
  return MAX_UINT256 % faceValue !== 0n ? ev * (x + 1n) : ev * x;
}

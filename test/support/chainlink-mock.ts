// A Chainlink AggregatorV3-shaped contract for anvil without a compiler: a few dozen bytes of hand-assembled EVM
// code that dispatches on the selector and returns fixed ABI-encoded answers (description, decimals,
// latestRoundData). Change its answers with anvil_setCode(address, aggregatorRuntime(newState)).
import { concat, Interface, toBeHex } from "ethers";

const aggregator = new Interface([
  "function description() view returns (string)",
  "function decimals() view returns (uint8)",
  "function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)",
]);

export interface FeedState {
  description: string;
  decimals: number;
  roundId: bigint;
  answer: bigint;
  updatedAt: bigint;
}

const hex = (n: number, bytes: number): string => toBeHex(n, bytes).slice(2);

/**
 * Runtime code: dispatch on the selector, CODECOPY the matching ABI-encoded answer (stored after the code) to
 * memory and RETURN it; unknown selectors revert.
 *   PUSH1 0 CALLDATALOAD PUSH1 0xe0 SHR                                   selector on the stack   (6 bytes)
 *   per function: DUP1 PUSH4 sel EQ PUSH2 dest JUMPI                                             (11 bytes each)
 *   PUSH1 0 DUP1 REVERT                                                                           (4 bytes)
 *   per function at dest: JUMPDEST PUSH2 len PUSH2 off PUSH1 0 CODECOPY PUSH2 len PUSH1 0 RETURN   (16 bytes each)
 *   the answers
 */
export function aggregatorRuntime(state: FeedState): string {
  const answers: Array<[string, string]> = [
    [aggregator.getFunction("description")!.selector, aggregator.encodeFunctionResult("description", [state.description])],
    [aggregator.getFunction("decimals")!.selector, aggregator.encodeFunctionResult("decimals", [state.decimals])],
    [
      aggregator.getFunction("latestRoundData")!.selector,
      aggregator.encodeFunctionResult("latestRoundData", [state.roundId, state.answer, state.updatedAt, state.updatedAt, state.roundId]),
    ],
  ];
  const dispatchLength = 6 + 11 * answers.length + 4;
  const handlersLength = 16 * answers.length;
  let code = "60003560e01c";
  answers.forEach(([selector], i) => {
    code += `80 63${selector.slice(2)} 14 61${hex(dispatchLength + 16 * i, 2)} 57`.replace(/ /g, "");
  });
  code += "600080fd";
  let dataOffset = dispatchLength + handlersLength;
  for (const [, data] of answers) {
    const length = (data.length - 2) / 2;
    code += `5b 61${hex(length, 2)} 61${hex(dataOffset, 2)} 6000 39 61${hex(length, 2)} 6000 f3`.replace(/ /g, "");
    dataOffset += length;
  }
  return "0x" + code + answers.map(([, data]) => data.slice(2)).join("");
}

/** Creation code that returns `runtime`: PUSH2 len DUP1 PUSH2 13 PUSH1 0 CODECOPY PUSH1 0 RETURN (13 bytes), then the runtime. */
export function creationCode(runtime: string): string {
  const length = (runtime.length - 2) / 2;
  return concat([`0x61${hex(length, 2)}8061${hex(13, 2)}6000396000f3`, runtime]);
}


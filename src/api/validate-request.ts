// Checks on client-supplied RPC fields. Each failure is INVALID_ARGUMENT naming the field and the bad value.
import { Code, ConnectError } from "@connectrpc/connect";
import { capabilityNameProblem } from "../network/capabilities.js";

/** Capability names are pipeline names or BYOC names: short, printable, no spaces or control characters. */
export function validateCapabilityName(value: string, field: string): void {
  const problem = capabilityNameProblem(value, field);
  if (problem !== undefined) throw new ConnectError(problem, Code.InvalidArgument);
}

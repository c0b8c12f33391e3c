// Checks on client-supplied RPC fields. Each failure is INVALID_ARGUMENT naming the field and the bad value.
import { Code, ConnectError } from "@connectrpc/connect";

const MAX_CAPABILITY_NAME_LENGTH = 128;

/** Capability names are pipeline names or BYOC names: short, printable, no spaces or control characters. */
export function validateCapabilityName(value: string, field: string): void {
  if (value.length > MAX_CAPABILITY_NAME_LENGTH) {
    throw new ConnectError(`${field} is ${value.length} characters long; the limit is ${MAX_CAPABILITY_NAME_LENGTH}`, Code.InvalidArgument);
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new ConnectError(`${field} ${JSON.stringify(value)} must be printable ASCII without spaces`, Code.InvalidArgument);
  }
}

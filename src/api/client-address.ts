// The caller's address as handlers see it (per-client limits, logs): Connect handlers get it from context values.
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";

export const clientAddressKey = createContextKey<string>("unknown", { description: "remote address of the caller" });

export function clientAddressOf(req: { socket?: { remoteAddress?: string | undefined } | null }): string {
  return req.socket?.remoteAddress ?? "unknown";
}

export function clientContextValues(req: { socket?: { remoteAddress?: string | undefined } | null }): ContextValues {
  return createContextValues().set(clientAddressKey, clientAddressOf(req));
}

// The job runner's port over the BYOC wire layer: keep-alive HTTP pools per orchestrator and a token cache per
// (orchestrator, capability), so a job costs one request, not go-livepeer's token fan-out to the whole network.
import type { GatewayIdentity } from "../eth/identity.js";
import { ByocHttpClient, type ByocHttpOptions } from "../orchestrator/byoc-http.js";
import { TokenCache, type TokenCacheOptions } from "../orchestrator/byoc-token-cache.js";
import { ethAddressHeader } from "../orchestrator/byoc-token.js";
import type { ByocPort } from "./byoc-port.js";

export interface ByocWirePort extends ByocPort {
  close(): void;
}

export function byocWirePort(
  identity: GatewayIdentity,
  options: { http?: ByocHttpOptions; tokens?: Omit<TokenCacheOptions, "fetch"> } = {},
): ByocWirePort {
  const http = new ByocHttpClient(options.http);
  const addressHeader = ethAddressHeader(identity);
  const tokens = new TokenCache({
    ...options.tokens,
    fetch: (serviceUri, capability, signal) => http.fetchToken({ serviceUri, capability, ethAddressHeader: addressHeader, signal }),
  });
  return {
    token: (serviceUri, capability, signal) => tokens.get(serviceUri, capability, signal),
    invalidateToken: (serviceUri, capability) => tokens.invalidate(serviceUri, capability),
    send: (request) => http.sendJob(request),
    close() {
      tokens.close();
      http.close();
    },
  };
}

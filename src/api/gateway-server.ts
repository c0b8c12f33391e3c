// Assembles the gateway's listeners: the API port (-httpAddr: RPCs + HTTP routes) and the CLI port (-cliAddr:
// the HTTP routes go-livepeer tooling polls).
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "../log.js";
import { handleByocRequest, type ByocEndpointDeps } from "./byoc-endpoint.js";
import { registerGatewayService, type GatewayServiceDeps } from "./gateway-service.js";
import { handleHttpRoute, notFound, type HttpRouteContext } from "./http-routes.js";
import { listen, type RunningServer, type RequestHandler } from "./listen.js";

export interface GatewayServerOptions extends HttpRouteContext {
  service: GatewayServiceDeps;
  /** go-livepeer's BYOC client endpoint, on the API port only. */
  byoc: ByocEndpointDeps;
  http: { host: string; port: number; tls?: { key: string | Buffer; cert: string | Buffer } };
  cli?: { host: string; port: number };
  logger: Logger;
}

export interface GatewayServers {
  api: RunningServer;
  cli?: RunningServer;
  close(graceMs?: number): Promise<void>;
}

export function gatewayHandler(options: GatewayServerOptions): RequestHandler {
  return connectNodeAdapter({
    routes: (router) => registerGatewayService(router, options.service),
    fallback: (req, res) => {
      if (handleByocRequest(options.byoc, req, res)) return;
      if (!handleHttpRoute(options, req, res)) notFound(req, res);
    },
  }) as RequestHandler;
}

export async function startGatewayServers(options: GatewayServerOptions): Promise<GatewayServers> {
  const api = await listen(gatewayHandler(options), options.http);
  let cli: RunningServer | undefined;
  try {
    if (options.cli) {
      const cliHandler: RequestHandler = (req, res) => {
        if (!handleHttpRoute(options, req, res)) notFound(req, res);
      };
      cli = await listen(cliHandler, options.cli);
    }
  } catch (err) {
    await api.close(0);
    throw err;
  }
  return {
    api,
    cli,
    close: async (graceMs) => {
      await Promise.all([api.close(graceMs), cli?.close(graceMs)]);
    },
  };
}

// livepeer.gateway.v1.GatewayService, served by connect-node.
import type { ConnectRouter } from "@connectrpc/connect";
import { GatewayService } from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { Discovery } from "../discovery/discovery.js";
import { getNetworkCapabilities } from "./network-capabilities.js";

export function registerGatewayService(router: ConnectRouter, discovery: Discovery): void {
  router.service(GatewayService, {
    getNetworkCapabilities: (request) => getNetworkCapabilities(discovery.snapshot, request),
  });
}

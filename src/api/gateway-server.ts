// Assembles the gateway's listeners: the API port (-httpAddr: RPCs + HTTP routes) and the CLI port (-cliAddr:
// the HTTP routes go-livepeer tooling polls).
import http from "node:http";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "../log.js";
import { GatewayService } from "../gen/livepeer/gateway/v1/gateway_pb.js";
import { handleByocRequest, type ByocEndpointDeps } from "./byoc-endpoint.js";
import { clientContextValues } from "./client-address.js";
import type { HealthStatus } from "./grpc-health.js";
import { registerOperationalServices } from "./operational-services.js";
import { registerGatewayService, type GatewayServiceDeps } from "./gateway-service.js";
import { respellGrpcStatusMessage } from "./grpc-status-message.js";
import { useBufferTextEncoding } from "./protobuf-text.js";
import { handleHttpRoute, notFound, type HttpRouteContext } from "./http-routes.js";
import { listen, type RunningServer, type RequestHandler, type StreamHandler } from "./listen.js";
import { grpcUnaryStreamHandler, recordUnaryRoutes, type UnaryRoutes } from "./grpc-unary-streams.js";
import { connectUnaryHandlers } from "./connect-unary.js";

export interface GatewayServerOptions extends HttpRouteContext {
  service: GatewayServiceDeps;
  /** go-livepeer's BYOC client endpoint, on the API port only. */
  byoc: ByocEndpointDeps;
  http: { host: string; port: number; tls?: { key: string | Buffer; cert: string | Buffer } };
  cli?: { host: string; port: number };
  logger: Logger;
  /** grpc.health.v1 statuses; set to NOT_SERVING when the servers close. */
  health: HealthStatus;
}

export interface GatewayServers {
  api: RunningServer;
  cli?: RunningServer;
  close(graceMs?: number): Promise<void>;
}

const RPC_FIELDS_HEADROOM_BYTES = 1024 * 1024;

/** Answers below this are sent uncompressed (network listings and long candidate lists are still compressed). */
const COMPRESS_MIN_BYTES = 16 * 1024;

/**
 * The API port's handlers: gRPC and Connect unary calls answered by the fast paths (from HTTP/2 streams, and Connect
 * from HTTP/1.1 requests too), everything else through connect-node.
 */
export interface GatewayHandlers {
  request: RequestHandler;
  stream: StreamHandler;
}

export function gatewayHandlers(options: GatewayServerOptions): GatewayHandlers {
  const unaryRoutes: UnaryRoutes = new Map();
  const readMaxBytes = options.byoc.maxRequestBytes + RPC_FIELDS_HEADROOM_BYTES;
  const connect = connectNodeAdapter({
    routes: (connectRouter) => {
      const router = recordUnaryRoutes(connectRouter, unaryRoutes);
      registerGatewayService(router, options.service);
      // grpc.health.v1 and server reflection (v1, v1alpha), so grpc_health_probe, grpcurl and buf curl work.
      registerOperationalServices(router, { services: [GatewayService], health: options.health });
    },
    // connect-node gzips any answer over 1 KiB by default: a Route answer in JSON then cost the server and the client
    // more CPU than the routing itself, to save a kilobyte. Only answers large enough for that to pay are compressed.
    compressMinBytes: COMPRESS_MIN_BYTES,
    // A SubmitJob message holds the job body: allow it, plus room for the other fields, and no more.
    readMaxBytes,
    contextValues: clientContextValues,
    fallback: (req, res) => {
      if (handleByocRequest(options.byoc, req, res)) return;
      if (!handleHttpRoute(options, req, res)) notFound(req, res);
    },
  }) as RequestHandler;
  const grpcUnary = grpcUnaryStreamHandler(unaryRoutes, {
    readMaxBytes,
    compressMinBytes: COMPRESS_MIN_BYTES,
    contextValues: (stream) => clientContextValues(stream.session ?? {}),
  });
  const connectUnary = connectUnaryHandlers(unaryRoutes, { readMaxBytes, compressMinBytes: COMPRESS_MIN_BYTES, contextValues: clientContextValues });
  return {
    request: (req, res) => {
      if (req instanceof http.IncomingMessage && connectUnary.request(req, res as http.ServerResponse)) return;
      respellGrpcStatusMessage(req, res); // so that grpc-js clients read error messages as Connect clients do
      connect(req, res);
    },
    stream: (stream, headers) => grpcUnary(stream, headers) || connectUnary.stream(stream, headers),
  };
}

export async function startGatewayServers(options: GatewayServerOptions): Promise<GatewayServers> {
  useBufferTextEncoding();
  const handlers = gatewayHandlers(options);
  const api = await listen(handlers.request, { ...options.http, streamHandler: handlers.stream });
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
      options.health.shutdown(); // health checks see NOT_SERVING while in-flight calls drain
      await Promise.all([api.close(graceMs), cli?.close(graceMs)]);
    },
  };
}

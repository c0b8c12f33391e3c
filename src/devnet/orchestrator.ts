// A simulated go-livepeer orchestrator on 127.0.0.1: a real grpc-js server (TLS with a fresh self-signed
// certificate, or h2c) serving net.Orchestrator for a spec, and on a second port (grpc-js cannot share one) the BYOC
// HTTP routes of its service URI (byoc-server.ts), each with switchable faults.
import type { ByocPayments } from "./payee.js";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { getBytes } from "ethers/utils";
import {
  EndTranscodingSessionResponseSchema,
  Orchestrator,
  type EndTranscodingSessionRequest,
  type EndTranscodingSessionResponse,
  type OrchestratorInfo,
  type OrchestratorRequest,
  type PingPong,
} from "../gen/net/lp_rpc_pb.js";
import { grpcServiceDefinition } from "../orchestrator/grpc-adapter.js";
import {
  NORMAL_BEHAVIOUR,
  absurdOrchestratorInfo,
  oversizedOrchestratorInfo,
  type SimulatedBehaviour,
} from "./behaviour.js";
import { startByocServer, type ByocTicketParamsProvider, type SimulatedByoc } from "./byoc-server.js";
import type { ByocWorker } from "./byoc-worker.js";
import { selfSignedCertificate, type PemKeyPair } from "./cert.js";
import {
  capacityRefusal,
  orchestratorInfoFor,
  type OrchestratorIdentity,
  type TicketParamsProvider,
} from "./orchestrator-info.js";
import { simulatedOrchestratorWallet, validateSpec, type SimulatedOrchestratorSpec } from "./spec.js";
import { StatusError, UnaryResponder } from "./unary-responder.js";

export { startGarbageServer, type GarbageServer } from "./garbage-server.js";
export type { SimulatedBehaviour } from "./behaviour.js";
export type { SimulatedByoc } from "./byoc-server.js";

const LOOPBACK = "127.0.0.1";

/** How long close() lets connections wind down before cutting them. */
const SHUTDOWN_GRACE_MS = 1000;

/**
 * Seam for on-chain mode: check the gateway's signature over its address and return an error text to refuse the
 * request. The default accepts everything, as off-chain go-livepeer orchestrators skip the check.
 */
export type RequestVerifier = (request: OrchestratorRequest) => string | undefined;

export interface SimulatedOrchestratorOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** false serves plaintext HTTP/2 (h2c) and an "http://" URI; default TLS. */
  readonly tls?: boolean;
  readonly behaviour?: SimulatedBehaviour;
  readonly verifyRequest?: RequestVerifier;
  readonly ticketParams?: TicketParamsProvider;
  /** TCP port of the BYOC HTTP server (the service URI) on 127.0.0.1; 0 (the default) picks a free one. */
  readonly byocPort?: number;
  /**
   * Check BYOC signatures (Livepeer-Eth-Address and the job's) as an on-chain orchestrator does. Default false,
   * as on an off-chain go-livepeer orchestrator.
   */
  readonly verifySignatures?: boolean;
  /**
   * Refuse the BYOC signature "0x" (an off-chain go-livepeer gateway's) like go-livepeer at the reference commit
   * (livepeer/go-livepeer#3905). Default false: read as an empty signature.
   */
  readonly rejectBareSigPrefix?: boolean;
  /** Seam for on-chain work: ticket params for /process/token; none by default (off-chain). */
  readonly byocTicketParams?: ByocTicketParamsProvider;
  /** The BYOC worker behind every capability; default the deterministic one (byoc-worker.ts). */
  readonly byocWorker?: ByocWorker;
  /** On-chain mode of the BYOC side (byoc-server.ts `payments`); absent: off-chain, jobs are free. */
  readonly byocPayments?: ByocPayments;
}

export interface SimulatedOrchestrator {
  /** "https://127.0.0.1:<port>" (or "http://" without TLS): the gRPC server, i.e. the -orchAddr entry. */
  readonly uri: string;
  /**
   * The service URI the orchestrator advertises (OrchestratorInfo.transcoder, JobToken.service_addr): the BYOC
   * HTTP server, "https://127.0.0.1:<port>" (or "http://" without TLS).
   */
  readonly serviceUri: string;
  /** The BYOC HTTP server: faults, counters, the last job request seen. */
  readonly byoc: SimulatedByoc;
  /** EIP-55 address of the node account. */
  readonly address: string;
  readonly spec: SimulatedOrchestratorSpec;
  readonly behaviour: SimulatedBehaviour;
  setBehaviour(behaviour: SimulatedBehaviour): void;
  /** GetOrchestrator calls received so far, whatever the behaviour did with them. */
  readonly getOrchestratorCalls: number;
  /** Stops listening, ends unanswered calls and releases every socket and timer. Idempotent. */
  close(): Promise<void>;
}

export async function startSimulatedOrchestrator(
  spec: SimulatedOrchestratorSpec,
  options: SimulatedOrchestratorOptions = {},
): Promise<SimulatedOrchestrator> {
  validateSpec(spec); // fail before opening a port, not on every call
  const useTls = options.tls ?? true;
  const wallet = simulatedOrchestratorWallet(spec.name);
  const server = new grpc.Server();
  const responder = new UnaryResponder();
  let behaviour = options.behaviour ?? NORMAL_BEHAVIOUR;
  let getOrchestratorCalls = 0;
  let identity: OrchestratorIdentity | undefined;
  let byoc: SimulatedByoc | undefined;

  /** Applies the behaviour shared by every method; `answer` builds the normal reply. */
  function respond<Req, Res>(
    call: grpc.ServerUnaryCall<Req, Res>,
    callback: grpc.sendUnaryData<Res>,
    answer: () => Res,
  ): void {
    const current = behaviour;
    switch (current.kind) {
      case "error":
        return responder.fail(callback, current.code, current.message);
      case "hang":
        return responder.never(call, callback);
      case "delay":
        return responder.later(call, callback, current.ms, answer);
      default:
        return responder.now(callback, answer);
    }
  }

  function answerGetOrchestrator(request: OrchestratorRequest, current: SimulatedBehaviour): OrchestratorInfo {
    if (!identity) throw new Error("answered before the port was bound");
    if (current.kind === "absurd") return absurdOrchestratorInfo(identity.serviceUri);
    const refusal = options.verifyRequest?.(request) ?? capacityRefusal(spec, request);
    // go-livepeer returns these as plain Go errors, which grpc-go sends as UNKNOWN.
    if (refusal) throw new StatusError(grpc.status.UNKNOWN, refusal);
    const info = orchestratorInfoFor(spec, identity, request, options.ticketParams, (name) => byoc?.isRegistered(name) ?? true);
    return current.kind === "oversized" ? oversizedOrchestratorInfo(info) : info;
  }

  const getOrchestrator: grpc.handleUnaryCall<OrchestratorRequest, OrchestratorInfo> = (call, callback) => {
    getOrchestratorCalls++;
    const current = behaviour;
    respond(call, callback, () => answerGetOrchestrator(call.request, current));
  };

  const ping: grpc.handleUnaryCall<PingPong, PingPong> = (call, callback) => {
    respond(call, callback, () => call.request);
  };

  const endTranscodingSession: grpc.handleUnaryCall<EndTranscodingSessionRequest, EndTranscodingSessionResponse> = (
    call,
    callback,
  ) => {
    respond(call, callback, () => create(EndTranscodingSessionResponseSchema));
  };

  server.addService(grpcServiceDefinition(Orchestrator), { getOrchestrator, ping, endTranscodingSession });
  // One certificate for both ports, as go-livepeer serves gRPC and HTTP with one.
  const certificate = useTls ? await selfSignedCertificate(LOOPBACK) : undefined;
  const byocServer = await startByocServer({
    spec,
    tls: certificate,
    port: options.byocPort ?? 0,
    verifySignatures: options.verifySignatures,
    rejectBareSigPrefix: options.rejectBareSigPrefix,
    ticketParams: options.byocTicketParams,
    worker: options.byocWorker,
    payments: options.byocPayments,
  });
  let port: number;
  try {
    port = await bind(server, options.port ?? 0, certificate ? tlsCredentials(certificate) : grpc.ServerCredentials.createInsecure());
  } catch (error) {
    await byocServer.close();
    throw error;
  }
  byoc = byocServer;
  const uri = `${useTls ? "https" : "http"}://${LOOPBACK}:${port}`;
  identity = { serviceUri: byocServer.uri, address: getBytes(wallet.address) };

  let closing: Promise<void> | undefined;
  return {
    uri,
    serviceUri: byocServer.uri,
    byoc: byocServer,
    address: wallet.address,
    spec,
    get behaviour() {
      return behaviour;
    },
    setBehaviour(next) {
      behaviour = next;
    },
    get getOrchestratorCalls() {
      return getOrchestratorCalls;
    },
    close() {
      closing ??= (async () => {
        responder.closeAll();
        await Promise.all([shutdown(server), byocServer.close()]);
      })();
      return closing;
    },
  };
}

function tlsCredentials({ key, cert }: PemKeyPair): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(key), cert_chain: Buffer.from(cert) }], false);
}

function bind(server: grpc.Server, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${LOOPBACK}:${port}`, credentials, (error, boundPort) => {
      if (!error) return resolve(boundPort);
      server.forceShutdown();
      reject(new Error(`simulated orchestrator could not listen on ${LOOPBACK}:${port}: ${error.message}`));
    });
  });
}

/** Graceful shutdown, forced after a grace period so a peer holding a connection cannot keep the port open. */
function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

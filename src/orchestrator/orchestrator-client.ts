// gRPC client for net.Orchestrator/GetOrchestrator. Unlike go-livepeer, which dials and handshakes anew for
// every call, it keeps one channel per orchestrator across refreshes.
import * as grpc from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Orchestrator,
  type OrchestratorInfo,
  type OrchestratorRequestSchema,
} from "../gen/net/lp_rpc_pb.js";
import { grpcServiceDefinition } from "./grpc-adapter.js";

/** go-livepeer leaves grpc-go's default client receive limit in place: 4 MiB. */
export const MAX_ORCHESTRATOR_REPLY_BYTES = 4 * 1024 * 1024;

const OrchestratorGrpcClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(Orchestrator), "Orchestrator");

type OrchestratorRequestInit = MessageInitShape<typeof OrchestratorRequestSchema>;

/** A failed GetOrchestrator call, with the gRPC status code when the failure came from gRPC. */
export class OrchestratorCallError extends Error {
  constructor(
    readonly uri: string,
    message: string,
    readonly code?: grpc.status,
  ) {
    super(message);
    this.name = "OrchestratorCallError";
  }
}

export interface CallOptions {
  /** Time allowed for the whole call, connection included. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * One reusable channel per orchestrator URI. `https://` URIs use TLS without certificate verification, as
 * go-livepeer does against the self-signed certificates orchestrators generate at every start; `http://` uses h2c.
 */
export class OrchestratorClientPool {
  private readonly clients = new Map<string, grpc.Client>();
  private tlsCredentials: grpc.ChannelCredentials | undefined;

  getOrchestrator(uri: string, request: OrchestratorRequestInit, options: CallOptions): Promise<OrchestratorInfo> {
    const client = this.clientFor(uri) as grpc.Client & {
      getOrchestrator: (
        req: OrchestratorRequestInit,
        metadata: grpc.Metadata,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res?: OrchestratorInfo) => void,
      ) => grpc.ClientUnaryCall;
    };
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new OrchestratorCallError(uri, "call cancelled", grpc.status.CANCELLED));
        return;
      }
      const call = client.getOrchestrator(
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + options.timeoutMs },
        (err, res) => {
          options.signal?.removeEventListener("abort", cancel);
          if (err) reject(new OrchestratorCallError(uri, describeGrpcError(err, options.timeoutMs), err.code));
          else if (!res) reject(new OrchestratorCallError(uri, "empty reply"));
          else resolve(res);
        },
      );
      const cancel = (): void => call.cancel();
      options.signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /** Close the channels of orchestrators that are no longer listed. */
  retainOnly(uris: Iterable<string>): void {
    const keep = new Set(uris);
    for (const [uri, client] of this.clients) {
      if (!keep.has(uri)) {
        client.close();
        this.clients.delete(uri);
      }
    }
  }

  close(): void {
    this.retainOnly([]);
  }

  /**
   * One TLS credentials object for every orchestrator: each one builds a secure context, which loads the whole
   * root certificate store (about 40 ms of CPU), so one per channel made the first sweep of 1,000 orchestrators
   * take close to a minute of CPU.
   */
  private tls(): grpc.ChannelCredentials {
    this.tlsCredentials ??= grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false });
    return this.tlsCredentials;
  }

  private clientFor(uri: string): grpc.Client {
    let client = this.clients.get(uri);
    if (!client) {
      const url = new URL(uri);
      const credentials = url.protocol === "http:" ? INSECURE : this.tls();
      client = new OrchestratorGrpcClient(url.host, credentials, {
        "grpc.max_receive_message_length": MAX_ORCHESTRATOR_REPLY_BYTES,
        // Orchestrators are polled every few seconds to minutes; keep idle channels open between refreshes.
        "grpc.client_idle_timeout_ms": 10 * 60_000,
      });
      this.clients.set(uri, client);
    }
    return client;
  }
}

const INSECURE = grpc.credentials.createInsecure();

function describeGrpcError(err: grpc.ServiceError, timeoutMs: number): string {
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return `no answer within ${timeoutMs} ms`;
    case grpc.status.RESOURCE_EXHAUSTED:
      return `reply too large or refused: ${err.details}`;
    case grpc.status.UNAVAILABLE:
      return `unreachable: ${err.details}`;
    default:
      return `${grpc.status[err.code] ?? err.code}: ${err.details}`;
  }
}

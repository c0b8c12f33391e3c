// gRPC client for net.Orchestrator/GetOrchestrator. Unlike go-livepeer, which dials and handshakes anew for
// every call, it keeps one channel per orchestrator across refreshes.
import { isIPv4, isIPv6 } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  Orchestrator,
  OrchestratorInfoSchema,
  type OrchestratorInfo,
  type OrchestratorRequestSchema,
} from "../gen/net/lp_rpc_pb.js";
import { INFO_FIELD, selectInfoFields, selectReadByDiscovery } from "../network/info-fields.js";
import { grpcServiceDefinition } from "./grpc-adapter.js";
import { preEncoded } from "./orchestrator-request.js";

/** go-livepeer leaves grpc-go's default client receive limit in place: 4 MiB. */
export const MAX_ORCHESTRATOR_REPLY_BYTES = 4 * 1024 * 1024;

/**
 * An OrchestratorInfo holding only its price_info, decoded from a whole reply: a price quote's reply repeats the
 * capabilities (maps of maps, the costliest part to decode) and carries an auth token, none of which a quote reads.
 * Every price_info record is kept, so repeated records merge exactly as in a full decode.
 */
export function decodePriceInfoOnly(bytes: Uint8Array): OrchestratorInfo {
  return fromBinary(OrchestratorInfoSchema, selectInfoFields(bytes, (field) => field === INFO_FIELD.priceInfo).selected);
}

/**
 * A reply to GetOrchestrator: the bytes it arrived in (the index copies the fields it lists), and its decoding
 * without the fields discovery never reads (UNREAD_BY_DISCOVERY: `info.hardware` is empty), with how many hardware
 * entries the reply had.
 */
export interface ReceivedInfo {
  readonly info: OrchestratorInfo;
  readonly bytes: Uint8Array;
  readonly hardwareEntries: number;
}

/**
 * The reply decoded where it lies: the decoded bytes fields are views into it. Neither is kept beyond the call
 * (IndexedInfo copies what it keeps), so the reply dies young; a copy here was one more malloc'd block per reply.
 */
export function decodeReceivedInfo(bytes: Uint8Array): ReceivedInfo {
  const { selected, skipped } = selectReadByDiscovery(bytes);
  return { info: fromBinary(OrchestratorInfoSchema, selected), bytes, hardwareEntries: skipped.get(INFO_FIELD.hardware) ?? 0 };
}

/**
 * The service as grpc-js sees it, with changes that leave the bytes on the wire as they were: a request already
 * encoded by encodeOnce (the same for every orchestrator of a sweep) is sent as is rather than encoded again per
 * call; GetOrchestrator's reply comes with its bytes; and a second local name for GetOrchestrator (same path)
 * decodes only the reply's price_info.
 */
function orchestratorServiceDefinition(): grpc.ServiceDefinition {
  const base = grpcServiceDefinition(Orchestrator) as Record<string, grpc.MethodDefinition<unknown, unknown>>;
  const getOrchestrator = base.getOrchestrator as grpc.MethodDefinition<unknown, unknown>;
  const encodeRequest = getOrchestrator.requestSerialize;
  const withEncoded: grpc.MethodDefinition<unknown, unknown> = {
    ...getOrchestrator,
    requestSerialize: (request) => preEncoded(request) ?? encodeRequest(request),
  };
  return {
    ...base,
    getOrchestrator: { ...withEncoded, responseDeserialize: decodeReceivedInfo },
    getOrchestratorPriceInfo: { ...withEncoded, responseDeserialize: decodePriceInfoOnly },
  } as grpc.ServiceDefinition;
}

const OrchestratorGrpcClient = grpc.makeGenericClientConstructor(orchestratorServiceDefinition(), "Orchestrator");

/**
 * Channel options. One channel per orchestrator, up to thousands of them, each used by one call at a time every
 * refresh: what grpc-js would otherwise set up per channel for features discovery never uses is left out.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": MAX_ORCHESTRATOR_REPLY_BYTES,
  // Orchestrators are polled every few seconds to minutes; keep idle channels open between refreshes.
  "grpc.client_idle_timeout_ms": 10 * 60_000,
  // No channelz registry entries and call counters per channel, subchannel and socket.
  "grpc.enable_channelz": 0,
  // Discovery makes its own decision after a failed call (back-off, next sweep): no transparent retries, no
  // buffering of each request for them.
  "grpc.enable_retries": 0,
  // Each channel owns its subchannel: no global pool to search and sweep, and closing a channel frees its own.
  "grpc.use_local_subchannel_pool": 1,
};

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

type UnaryMethod<Res> = (
  req: OrchestratorRequestInit,
  metadata: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: Res) => void,
) => grpc.ClientUnaryCall;

type OrchestratorGrpcClient = grpc.Client & {
  getOrchestrator: UnaryMethod<ReceivedInfo>;
  getOrchestratorPriceInfo: UnaryMethod<OrchestratorInfo>;
};

/**
 * One reusable channel per orchestrator URI. `https://` URIs use TLS without certificate verification, as
 * go-livepeer does against the self-signed certificates orchestrators generate at every start; `http://` uses h2c.
 */
export class OrchestratorClientPool {
  private readonly clients = new Map<string, OrchestratorGrpcClient>();
  private tlsCredentials: grpc.ChannelCredentials | undefined;

  /** GetOrchestrator: the whole reply, with its bytes. */
  getOrchestrator(uri: string, request: OrchestratorRequestInit, options: CallOptions): Promise<ReceivedInfo> {
    const client = this.clientFor(uri);
    return this.call(uri, client, client.getOrchestrator, request, options);
  }

  /**
   * GetOrchestrator for a price quote: only the reply's price_info is decoded (see decodePriceInfoOnly), as a quote
   * reads nothing else; every other field of the resolved OrchestratorInfo is at its default.
   */
  getPriceQuote(uri: string, request: OrchestratorRequestInit, options: CallOptions): Promise<OrchestratorInfo> {
    const client = this.clientFor(uri);
    return this.call(uri, client, client.getOrchestratorPriceInfo, request, options);
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

  private call<Res>(
    uri: string,
    client: OrchestratorGrpcClient,
    method: UnaryMethod<Res>,
    request: OrchestratorRequestInit,
    options: CallOptions,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new OrchestratorCallError(uri, "call cancelled", grpc.status.CANCELLED));
        return;
      }
      const call = method.call(
        client,
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

  private clientFor(uri: string): OrchestratorGrpcClient {
    let client = this.clients.get(uri);
    if (!client) {
      const url = new URL(uri);
      const credentials = url.protocol === "http:" ? INSECURE : this.tls();
      client = new OrchestratorGrpcClient(grpcTarget(url), credentials, CHANNEL_OPTIONS) as unknown as OrchestratorGrpcClient;
      this.clients.set(uri, client);
    }
    return client;
  }
}

/**
 * The grpc-js target for a URL. An IP address goes through grpc-js's ipv4:/ipv6: resolver, which hands the address
 * straight back; the default dns: resolver would also create a c-ares resolver per channel that an address never
 * uses. The authority (and so :authority and the TLS server name) is "host:port" either way.
 */
export function grpcTarget(url: URL): string {
  // WHATWG URLs keep an IPv6 hostname in brackets ("[::1]"); url.host adds ":port" when one is given.
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (isIPv4(host)) return `ipv4:${url.host}`;
  if (isIPv6(host)) return `ipv6:${url.host}`;
  return url.host;
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

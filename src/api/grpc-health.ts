// grpc.health.v1.Health: the standard gRPC health check that load balancers, Kubernetes (grpc probes),
// grpc_health_probe, grpcurl and buf curl understand. The statuses live in a HealthStatus the gateway owns, so that
// a shutdown can report NOT_SERVING to every watcher before the listeners close.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";

export { HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";

/** The service name that stands for the server as a whole. */
export const OVERALL_SERVICE = "";

type Listener = (service: string, status: ServingStatus) => void;

/** The serving status of each service the server reports on; "" is the server as a whole. */
export class HealthStatus {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #listeners = new Set<Listener>();

  constructor(initial?: Iterable<[service: string, status: ServingStatus]>) {
    for (const [service, status] of initial ?? []) this.#statuses.set(service, status);
  }

  /** The status of a service, or undefined for a service this server does not report on. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  has(service: string): boolean {
    return this.#statuses.has(service);
  }

  /** How many watchers are subscribed (open Watch streams). */
  get watcherCount(): number {
    return this.#listeners.size;
  }

  /** Every known service and its status. */
  entries(): Array<[service: string, status: ServingStatus]> {
    return [...this.#statuses];
  }

  /** Sets a service's status and tells the watchers when it changed. */
  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const listener of [...this.#listeners]) listener(service, status);
  }

  /** Forgets a service: Check then answers NOT_FOUND and watchers see SERVICE_UNKNOWN. */
  delete(service: string): void {
    if (!this.#statuses.delete(service)) return;
    for (const listener of [...this.#listeners]) listener(service, ServingStatus.SERVICE_UNKNOWN);
  }

  /** Marks every known service NOT_SERVING, for a server that is draining before it stops. */
  shutdown(): void {
    for (const service of [...this.#statuses.keys()]) this.set(service, ServingStatus.NOT_SERVING);
  }

  /**
   * Calls the listener with the service's current status (SERVICE_UNKNOWN when unknown), then at each change of it,
   * until the returned function is called.
   */
  watch(service: string, listener: (status: ServingStatus) => void): () => void {
    const forService: Listener = (changed, status) => {
      if (changed === service) listener(status);
    };
    this.#listeners.add(forService);
    listener(this.#statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN);
    return () => {
      this.#listeners.delete(forService);
    };
  }
}

function response(status: ServingStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

/**
 * The Watch stream of one service: its status now, then each change, until the signal aborts. Only the latest
 * status is kept while the client is slow to read, and a status equal to the last one sent is not sent again.
 */
export async function* watchHealth(
  health: HealthStatus,
  service: string,
  signal: AbortSignal,
): AsyncGenerator<HealthCheckResponse> {
  let pending: ServingStatus | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const stop = health.watch(service, (status) => {
    pending = status;
    notify();
  });
  signal.addEventListener("abort", notify);
  let last: ServingStatus | undefined;
  try {
    while (!signal.aborted) {
      if (pending === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const status: ServingStatus = pending;
      pending = undefined;
      if (status === last) continue;
      last = status;
      yield response(status);
    }
  } finally {
    stop();
    signal.removeEventListener("abort", notify);
  }
}

export function registerHealthService(router: ConnectRouter, health: HealthStatus): void {
  router.service(Health, {
    check: (request) => {
      const status = health.get(request.service);
      if (status === undefined) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      return response(status);
    },
    list: () =>
      create(HealthListResponseSchema, {
        statuses: Object.fromEntries(health.entries().map(([service, status]) => [service, response(status)])),
      }),
    watch: (request, context) => watchHealth(health, request.service, context.signal),
  });
}

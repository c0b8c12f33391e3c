// The services an operator's tooling expects on any gRPC port, next to the gateway's own API:
// grpc.health.v1.Health (load balancers, Kubernetes grpc probes, grpc_health_probe) and server reflection
// (grpcurl, buf curl, grpcui, Postman), v1 and v1alpha.
import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { HealthStatus, OVERALL_SERVICE, registerHealthService, ServingStatus } from "./grpc-health.js";
import { DescriptorIndex, REFLECTION_SERVICES, registerReflectionServices } from "./grpc-reflection.js";

export { HealthStatus, ServingStatus } from "./grpc-health.js";

export interface OperationalServicesOptions {
  /** The application services this router serves (e.g. GatewayService): listed by reflection, reported by health. */
  services: readonly DescService[];
  /**
   * The statuses Health answers with. "" and each of `services` that has no status yet are set to SERVING here;
   * set them to NOT_SERVING (e.g. `health.shutdown()`) when the server starts draining. A new one when omitted.
   */
  health?: HealthStatus;
  /** More files whose descriptors reflection should serve (the services' own files are always included). */
  files?: readonly DescFile[];
}

/** Registers Health and reflection on the router; returns the HealthStatus in use. */
export function registerOperationalServices(router: ConnectRouter, options: OperationalServicesOptions): HealthStatus {
  const health = options.health ?? new HealthStatus();
  for (const service of [OVERALL_SERVICE, ...options.services.map((s) => s.typeName)]) {
    if (!health.has(service)) health.set(service, ServingStatus.SERVING);
  }
  registerHealthService(router, health);
  const index = new DescriptorIndex([...options.services, Health, ...REFLECTION_SERVICES], options.files);
  registerReflectionServices(router, index);
  return health;
}

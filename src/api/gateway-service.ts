// livepeer.gateway.v1.GatewayService, served by connect-node.
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  CapabilityHealthSchema,
  GatewayService,
  GetCapabilityHealthResponseSchema,
  PingResponseSchema,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { Discovery } from "../discovery/discovery.js";
import type { EthUsdRate } from "../network/currency.js";
import type { Router } from "../routing/router.js";
import { healthSummary } from "./health-messages.js";
import { getNetworkCapabilities } from "./network-capabilities.js";
import { listOfferings } from "./offerings.js";
import { reportOutcome, route } from "./route-rpcs.js";
import { submitJob, submitJobStream, type SubmitJobDeps } from "./submit-job.js";
import { validateCapabilityName } from "./validate-request.js";
import { watchNetworkCapabilities } from "./watch.js";

export interface GatewayServiceDeps {
  discovery: Discovery;
  router: Router;
  regions: ReadonlyMap<string, string>;
  rate?: EthUsdRate;
  jobs: SubmitJobDeps;
}

const PONG = create(PingResponseSchema, {});

export function registerGatewayService(router: ConnectRouter, deps: GatewayServiceDeps): void {
  router.service(GatewayService, {
    getNetworkCapabilities: (request) => getNetworkCapabilities(deps.discovery.snapshot, request),
    route: (request) => route(deps.router, request, deps.rate),
    reportOutcome: (request) => reportOutcome(deps.router, request),
    listOfferings: (request) => {
      if (request.capability !== "") validateCapabilityName(request.capability, "capability");
      return listOfferings(deps.discovery.snapshot, deps.router, deps.regions, deps.rate, request.capability);
    },
    getCapabilityHealth: (request) => {
      if (request.capability !== "") validateCapabilityName(request.capability, "capability");
      const states = deps.router.health.states({
        ...(request.capability !== "" ? { capability: request.capability } : {}),
        ...(request.orchestratorUri !== "" ? { orchestratorUri: request.orchestratorUri } : {}),
      });
      return create(GetCapabilityHealthResponseSchema, {
        entries: states.map((state) =>
          create(CapabilityHealthSchema, {
            orchestratorUri: state.key.orchestratorUri,
            capability: state.key.capability,
            modelId: state.key.modelId,
            health: healthSummary(state),
          }),
        ),
      });
    },
    watchNetworkCapabilities: (request, context) => {
      if (request.capability !== "") validateCapabilityName(request.capability, "capability");
      return watchNetworkCapabilities(deps.discovery, request.capability, context.signal);
    },
    submitJob: (request, context) => submitJob(deps.jobs, request.job, context),
    submitJobStream: (request, context) => submitJobStream(deps.jobs, request.job, context),
    ping: () => PONG,
  });
}

// Workload 2: the Route RPC against the no-op Ping RPC on the same gateway and port, over gRPC (two client stacks)
// and Connect JSON; the gateway's gRPC path against a bare @grpc/grpc-js server answering the same Ping (the
// ceiling of Node's gRPC stack); and the gateway's Connect path against connect-node alone answering the same Ping
// (what the Connect fast path saves). The servers run here; the callers run in a child process (rpc-load.ts) so the two
// do not share an event loop. Each round runs the two sides back to back (the order alternates between rounds);
// the ratio is the median of the per-round ratios.
import type { ChildProcess } from "node:child_process";
import { forkScript } from "./children.js";
import { create } from "@bufbuild/protobuf";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { GatewayService, PingResponseSchema } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { grpcServiceDefinition } from "../src/orchestrator/grpc-adapter.js";
import { parseConfig } from "../src/config.js";
import { startGateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import type { BenchResult } from "./report.js";
import { median, round } from "./stats.js";

export const TRANSPORTS = ["gRPC (connect-node, h2c)", "gRPC (@grpc/grpc-js)", "Connect JSON (HTTP/1.1)"] as const;
/**
 * The grpc-js client keeping answers as bytes: Route/Ping without the client's decoding of Route's answer, which on
 * shared cores takes throughput from the server. Reported beside the goal, not against it.
 */
export const UNDECODED_GRPC_JS = "gRPC (@grpc/grpc-js), answers left undecoded";
export type TransportName = (typeof TRANSPORTS)[number] | typeof UNDECODED_GRPC_JS;
/** The grpc-js client calling a bare grpc-js server (Ping only). */
export const BARE_GRPC_JS = "gRPC (@grpc/grpc-js) to a bare @grpc/grpc-js server";
/** The Connect JSON client calling a server of connect-node alone (Ping only). */
export const CONNECT_NODE_ALONE = "Connect JSON (HTTP/1.1) to connect-node alone";
export type LoadTarget = TransportName | typeof BARE_GRPC_JS | typeof CONNECT_NODE_ALONE;
export type RpcName = "Ping" | "Route";

export interface LoadRequest {
  id: number;
  transport: LoadTarget;
  rpc: RpcName;
  concurrency: number;
  durationMs: number;
  maxCalls: number;
}

export interface LoadResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  /** CPU time of the client process during the run (all its threads). */
  cpuMs: number;
  /** The first failure, e.g. "UNIMPLEMENTED: …". */
  firstError?: string;
}

const CONCURRENCY = [16, 64];
const ROUNDS = 3;
/** One run of one RPC: this long, or MAX_CALLS calls, whichever ends first. */
const RUN_MS = 1_000;
const MAX_CALLS = 200_000;
const WARMUP_MS = 300;
const GOAL_RATIO = 0.9;
/** The gateway's gRPC path against the bare grpc-js server, both answering Ping to the same grpc-js client. */
const GOAL_GRPC_PATH_RATIO = 0.8;
/** What Route asks for: a BYOC capability three of the simulated orchestrators offer. */
export const ROUTE_REQUEST = { capability: "depth" };

/** The child process generating load, driven one run at a time. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (result: LoadResult) => void>();
  private nextId = 1;

  /** `nodeFlags` for the child, e.g. --cpu-prof. */
  constructor(baseUrl: string, bareGrpcJsUrl: string, connectNodeUrl: string, nodeFlags: readonly string[] = []) {
    this.child = forkScript("./rpc-load.ts", [baseUrl, JSON.stringify(ROUTE_REQUEST), bareGrpcJsUrl, connectNodeUrl], nodeFlags);
    this.child.on("message", (message: { id: number; result: LoadResult }) => {
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    });
  }

  run(request: Omit<LoadRequest, "id">): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A hung server must not hang the benchmark: every run ends within its duration plus a margin.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${request.transport} ${request.rpc}: no result ${request.durationMs + 10_000} ms after start`));
      }, request.durationMs + 10_000);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.child.send({ id, ...request });
    });
  }

  close(): void {
    this.child.disconnect();
  }
}

export async function benchRouteRpc(progress: (line: string) => void): Promise<BenchResult[]> {
  const gateway = await startGateway(parseConfig(["-devnet", "-httpAddr", "127.0.0.1:0", "-cliAddr", "off"]), silentLogger());
  const results: BenchResult[] = [];
  try {
    await gateway.discovery.refreshNow();
    const orchestrators = gateway.devnet?.uris.length ?? 0;
    progress(`rpc: gateway at ${gateway.servers.api.url} with ${orchestrators} simulated orchestrators`);
    const bare = await startBareGrpcJsServer();
    const connectNode = await startConnectNodeServer();
    const load = new LoadGenerator(gateway.servers.api.url, bare.url, connectNode.url);
    try {
      for (const transport of TRANSPORTS) results.push(...(await benchTransport(load, transport, orchestrators, progress)));
      results.push(...(await benchTransport(load, UNDECODED_GRPC_JS, orchestrators, progress)));
      results.push(...(await benchPath(load, GRPC_PATH, progress)));
      results.push(...(await benchPath(load, CONNECT_PATH, progress)));
    } finally {
      load.close();
      bare.close();
      connectNode.close();
    }
  } finally {
    await gateway.close();
  }
  return results;
}

export interface Run {
  requestsPerSecond: number;
  /** CPU time per successful call: the gateway process (server) and the load generator (client). */
  serverCpuUsPerCall: number;
  clientCpuUsPerCall: number;
  errors: number;
  firstError?: string;
}

export async function measure(load: LoadGenerator, request: Omit<LoadRequest, "id">): Promise<Run> {
  const cpu = process.cpuUsage();
  const result = await load.run(request);
  const server = process.cpuUsage(cpu);
  const calls = Math.max(1, result.ok);
  return {
    requestsPerSecond: result.ok / (result.elapsedMs / 1_000),
    serverCpuUsPerCall: (server.user + server.system) / calls,
    clientCpuUsPerCall: (result.cpuMs * 1_000) / calls,
    errors: result.errors,
    ...(result.firstError !== undefined ? { firstError: result.firstError } : {}),
  };
}

/** Medians over the rounds, and the per-round throughput. */
function figures(runs: readonly Run[]): Record<string, unknown> & { requestsPerSecond: number } {
  return {
    requestsPerSecond: Math.round(median(runs.map((r) => r.requestsPerSecond))),
    serverCpuUsPerCall: Math.round(median(runs.map((r) => r.serverCpuUsPerCall))),
    clientCpuUsPerCall: Math.round(median(runs.map((r) => r.clientCpuUsPerCall))),
    rounds: runs.map((r) => Math.round(r.requestsPerSecond)),
  };
}

async function benchTransport(
  load: LoadGenerator,
  transport: TransportName,
  orchestrators: number,
  progress: (line: string) => void,
): Promise<BenchResult[]> {
  const name = (concurrency: number): string => `Route/Ping, ${transport}, ${concurrency} in flight`;
  const judged = transport !== UNDECODED_GRPC_JS;
  const goal = judged ? `Route/Ping >= ${GOAL_RATIO}` : "report: the client's decoding left out";
  const parameters = (concurrency: number): Record<string, unknown> => ({
    transport,
    concurrency,
    rounds: ROUNDS,
    runMs: RUN_MS,
    maxCallsPerRun: MAX_CALLS,
    route: ROUTE_REQUEST,
    simulatedOrchestrators: orchestrators,
    clients: "one child process, one connection per transport",
  });

  // One call of each first: an RPC that fails (e.g. not wired yet) is reported, not benchmarked.
  const failures: string[] = [];
  for (const rpc of ["Ping", "Route"] as const) {
    const probe = await load.run({ transport, rpc, concurrency: 1, durationMs: 5_000, maxCalls: 1 });
    if (probe.ok !== 1) failures.push(`${rpc} failed: ${probe.firstError ?? "no answer"}`);
  }
  if (failures.length > 0) {
    progress(`rpc: ${transport}: skipped (${failures.join("; ")})`);
    return CONCURRENCY.map((concurrency) => ({
      name: name(concurrency),
      parameters: parameters(concurrency),
      measured: null,
      goal,
      pass: false,
      note: `not run: ${failures.join("; ")}`,
    }));
  }

  for (const rpc of ["Ping", "Route"] as const) {
    await load.run({ transport, rpc, concurrency: Math.max(...CONCURRENCY), durationMs: WARMUP_MS, maxCalls: MAX_CALLS });
  }
  const results: BenchResult[] = [];
  for (const concurrency of CONCURRENCY) {
    const runs: Record<RpcName, Run[]> = { Ping: [], Route: [] };
    const ratios: number[] = [];
    const errors: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order: RpcName[] = r % 2 === 0 ? ["Ping", "Route"] : ["Route", "Ping"];
      for (const rpc of order) {
        const run = await measure(load, { transport, rpc, concurrency, durationMs: RUN_MS, maxCalls: MAX_CALLS });
        runs[rpc].push(run);
        if (run.errors > 0) errors.push(`${rpc}: ${run.errors} errors (${run.firstError})`);
      }
      ratios.push((runs.Route[r] as Run).requestsPerSecond / (runs.Ping[r] as Run).requestsPerSecond);
    }
    const ratio = round(median(ratios), 3);
    results.push({
      name: name(concurrency),
      parameters: parameters(concurrency),
      measured: figures(runs.Route),
      baseline: figures(runs.Ping),
      ratio,
      goal,
      pass: (!judged || ratio >= GOAL_RATIO) && errors.length === 0,
      ...(errors.length > 0 ? { note: errors.join("; ") } : {}),
    });
    progress(`rpc: ${transport}, ${concurrency} in flight: Route ${figures(runs.Route).requestsPerSecond}/s, Ping ${figures(runs.Ping).requestsPerSecond}/s, ratio ${ratio}`);
  }
  return results;
}

/** A @grpc/grpc-js server in this process answering GatewayService.Ping, with the same protobuf-es codec. */
async function startBareGrpcJsServer(): Promise<{ url: string; close(): void }> {
  const server = new grpc.Server();
  const pong = create(PingResponseSchema, {});
  const ping: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) => callback(null, pong);
  server.addService(grpcServiceDefinition(GatewayService), { ping });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { url: `http://127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

/** A server of connect-node alone (HTTP/1.1, no fast path) answering GatewayService.Ping. */
async function startConnectNodeServer(): Promise<{ url: string; close(): void }> {
  const pong = create(PingResponseSchema, {});
  const server = http.createServer(connectNodeAdapter({ routes: (router) => router.service(GatewayService, { ping: () => pong }) }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** Ping through the gateway's port against Ping on a reference server, from the same client. */
interface PathComparison {
  name: string;
  gatewaySide: TransportName;
  reference: LoadTarget;
  referenceName: string;
  client: string;
  /** The ratio the gateway must reach, if the issue sets one. */
  goalRatio?: number;
}

const GRPC_PATH: PathComparison = {
  name: "gRPC path: gateway port vs bare @grpc/grpc-js server",
  gatewaySide: "gRPC (@grpc/grpc-js)",
  reference: BARE_GRPC_JS,
  referenceName: "bare grpc-js",
  client: "@grpc/grpc-js",
  goalRatio: GOAL_GRPC_PATH_RATIO,
};

const CONNECT_PATH: PathComparison = {
  name: "Connect path: gateway port vs connect-node alone",
  gatewaySide: "Connect JSON (HTTP/1.1)",
  reference: CONNECT_NODE_ALONE,
  referenceName: "connect-node alone",
  client: "@connectrpc/connect-node, Connect JSON over HTTP/1.1",
};

async function benchPath(load: LoadGenerator, path: PathComparison, progress: (line: string) => void): Promise<BenchResult[]> {
  const goal = path.goalRatio === undefined ? "report" : `gateway/reference >= ${path.goalRatio}`;
  await load.run({ transport: path.reference, rpc: "Ping", concurrency: Math.max(...CONCURRENCY), durationMs: WARMUP_MS, maxCalls: MAX_CALLS });
  const results: BenchResult[] = [];
  for (const concurrency of CONCURRENCY) {
    const gateway: Run[] = [];
    const reference: Run[] = [];
    const ratios: number[] = [];
    const errors: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order: LoadTarget[] = r % 2 === 0 ? [path.gatewaySide, path.reference] : [path.reference, path.gatewaySide];
      for (const transport of order) {
        const run = await measure(load, { transport, rpc: "Ping", concurrency, durationMs: RUN_MS, maxCalls: MAX_CALLS });
        (transport === path.reference ? reference : gateway).push(run);
        if (run.errors > 0) errors.push(`${transport}: ${run.errors} errors (${run.firstError})`);
      }
      ratios.push((gateway[r] as Run).requestsPerSecond / (reference[r] as Run).requestsPerSecond);
    }
    const ratio = round(median(ratios), 3);
    results.push({
      name: `${path.name}, Ping, ${concurrency} in flight`,
      parameters: { client: path.client, concurrency, rounds: ROUNDS, runMs: RUN_MS, maxCallsPerRun: MAX_CALLS, clients: "one child process, one connection per server" },
      measured: figures(gateway),
      baseline: figures(reference),
      ratio,
      goal,
      pass: (path.goalRatio === undefined || ratio >= path.goalRatio) && errors.length === 0,
      ...(errors.length > 0 ? { note: errors.join("; ") } : {}),
    });
    progress(`rpc: ${path.name}, ${concurrency} in flight: gateway ${figures(gateway).requestsPerSecond}/s, ${path.referenceName} ${figures(reference).requestsPerSecond}/s, ratio ${ratio}`);
  }
  return results;
}

// Workload 3: BYOC jobs through the gateway against the same jobs sent straight to the orchestrator, in the same
// run, at 1, 16 and 64 in flight, with the floor of any Node relay measured alongside (bare-relay.ts); and workload 5: what one failed attempt (connection refused, 500, reset) adds
// before the success on the next orchestrator. Three processes: orchestrators (byoc-orchestrators.ts), the load
// generator (byoc-load.ts) and the gateway, here.
import type { ChildProcess } from "node:child_process";
import { forkScript, nextMessage } from "./children.js";
import { parseConfig } from "../src/config.js";
import type { ByocFault } from "../src/devnet/byoc-faults.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { encodeOrchestratorJobHeader, parseClientJobRequest } from "../src/orchestrator/byoc-job-request.js";
import { ZeroAddress } from "ethers/constants";
import { BENCH_CAPABILITY, type FaultMessage } from "./byoc-bench-network.js";
import type { JobLoadRequest, JobLoadResult } from "./byoc-load.js";
import type { BenchResult } from "./report.js";
import { median, round } from "./stats.js";
import { startBareRelay } from "./bare-relay.js";

const CONCURRENCY = [1, 16, 64];
const ROUNDS = 3;
const JOBS_PER_RUN: Readonly<Record<number, number>> = { 1: 1_500, 16: 6_000, 64: 8_000 };
const RUN_MAX_MS = 8_000;
const FAILOVER_SAMPLES = 40;
const GOAL_RATIO = 0.8;
const GOAL_ADDED_P50_US = 1_000;

const FAILOVER_FAULTS: ReadonlyArray<[string, string, ByocFault]> = [
  ["connection refused", "*", { mode: "down" }],
  ["HTTP 500", BENCH_CAPABILITY, { mode: "error-500" }],
  ["connection reset", BENCH_CAPABILITY, { mode: "crash" }],
];

class Load {
  private nextId = 1;
  constructor(private readonly child: ChildProcess) {}

  async run(request: Omit<JobLoadRequest, "id">): Promise<JobLoadResult> {
    const id = this.nextId++;
    const answer = nextMessage(
      this.child,
      (m): m is { id: number; result: JobLoadResult } => (m as { id?: number }).id === id,
      request.maxMs + 10_000,
      `load run ${id}`,
    );
    this.child.send({ id, ...request });
    return (await answer).result;
  }
}

export async function benchForwarding(progress: (line: string) => void): Promise<BenchResult[]> {
  const orchestrators = forkScript("./byoc-orchestrators.ts");
  const loadChild = forkScript("./byoc-load.ts");
  let gateway: Gateway | undefined;
  let relay: Awaited<ReturnType<typeof startBareRelay>> | undefined;
  try {
    const network = await nextMessage(
      orchestrators,
      (m): m is { uris: string[]; serviceUris: string[] } => Array.isArray((m as { uris?: unknown }).uris),
      30_000,
      "simulated orchestrators",
    );
    // Price alone decides, so every job goes to "cheap" (the first orchestrator) unless it fails.
    gateway = await startGateway(
      parseConfig([
        "-orchAddr", network.uris.join(","), "-httpAddr", "127.0.0.1:0", "-cliAddr", "off",
        "-rankingWeights", "latency=0,price=1,reliability=0", "-logLevel", "silent",
      ]),
      silentLogger(),
    );
    await gateway.discovery.refreshNow();
    const load = new Load(loadChild);
    const livepeerHeader = Buffer.from(JSON.stringify({ request: "{}", parameters: "{}", capability: BENCH_CAPABILITY, timeout_seconds: 30 })).toString("base64");
    const direct = network.serviceUris[0] as string;
    // Sent straight to the orchestrator, the job carries the header the gateway would send it (with sender, sig and
    // the search timeouts), so that the orchestrator decodes the same bytes on both paths: a client of an orchestrator
    // has to send these fields too, and the simulated orchestrator's decoding cost grows with the header's length.
    const directHeader = await encodeOrchestratorJobHeader(parseClientJobRequest(livepeerHeader), { address: ZeroAddress });
    relay = await startBareRelay(direct);
    const targets: Targets = { gateway: gateway.servers.api.url, direct, relay: relay.url, livepeerHeader, directHeader };
    const results: BenchResult[] = [];
    for (const concurrency of CONCURRENCY) {
      progress(`forwarding: ${concurrency} in flight`);
      results.push(...(await compareAtConcurrency(load, targets, concurrency)));
    }
    const setFault = async (fault: FaultMessage["fault"]) => {
      const done = nextMessage(orchestrators, (m): m is { faultSet: true } => (m as { faultSet?: boolean }).faultSet === true, 10_000, "set fault");
      orchestrators.send({ fault });
      await done;
    };
    results.push(...(await failoverCost(load, gateway, network.uris[0] as string, livepeerHeader, setFault, progress)));
    return results;
  } finally {
    await relay?.close();
    await gateway?.close();
    loadChild.disconnect();
    orchestrators.disconnect();
  }
}

/** Where the load generator sends jobs, and the Livepeer header each side takes. */
interface Targets {
  gateway: string;
  direct: string;
  /** The bare relay in front of `direct`: it sends the job on as it came, so it takes the direct header. */
  relay: string;
  livepeerHeader: string;
  directHeader: string;
}

type Side = "direct" | "gateway" | "relay";
/** Each round runs every side once, in an order that rotates, so that no side always runs on a warmer machine. */
const ROUND_ORDERS: ReadonlyArray<readonly Side[]> = [
  ["direct", "gateway", "relay"],
  ["gateway", "relay", "direct"],
  ["relay", "direct", "gateway"],
];

async function compareAtConcurrency(load: Load, targets: Targets, concurrency: number): Promise<BenchResult[]> {
  type Run = JobLoadResult & { gatewayCpuUsPerJob: number };
  const run = async (side: Side): Promise<Run> => {
    const cpu = process.cpuUsage();
    const header = side === "gateway" ? targets.livepeerHeader : targets.directHeader;
    const result = await load.run({ target: targets[side], livepeerHeader: header, concurrency, count: JOBS_PER_RUN[concurrency] ?? 2_000, maxMs: RUN_MAX_MS });
    const used = process.cpuUsage(cpu);
    return { ...result, gatewayCpuUsPerJob: (used.user + used.system) / Math.max(1, result.ok) };
  };
  for (const side of ROUND_ORDERS[0] as readonly Side[]) await run(side); // warm-up: connections, JIT, token cache
  const rounds: Array<Record<Side, Run>> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const round = {} as Record<Side, Run>;
    for (const side of ROUND_ORDERS[i % ROUND_ORDERS.length] as readonly Side[]) round[side] = await run(side);
    rounds.push(round);
  }
  const rps = (r: JobLoadResult) => r.ok / (r.elapsedMs / 1_000);
  const ratioOf = (side: Side) => median(rounds.map((r) => rps(r[side]) / rps(r.direct)));
  const addedP50Of = (side: Side) => median(rounds.map((r) => r[side].latency.p50Us - r.direct.latency.p50Us));
  const figures = (side: Side) => ({
    requestsPerSecond: Math.round(median(rounds.map((r) => rps(r[side])))),
    clientCpuUsPerJob: Math.round(median(rounds.map((r) => (r[side].latency.samples > 0 ? r[side].clientCpuUsPerJob : NaN)))),
    p50Us: round(median(rounds.map((r) => r[side].latency.p50Us))),
    p99Us: round(median(rounds.map((r) => r[side].latency.p99Us))),
  });
  // CPU this process spent per job: what forwarding costs the gateway (or the relay), apart from the contention.
  const cpuPerJob = (side: Side) => Math.round(median(rounds.map((r) => r[side].gatewayCpuUsPerJob)));
  const failures = (side: Side) => {
    const count = rounds.reduce((sum, r) => sum + r[side].errors + r.direct.errors, 0);
    const first = rounds.map((r) => r[side].firstError ?? r.direct.firstError).find((e) => e !== undefined);
    return count > 0 ? { note: `${count} failed jobs; first: ${first}` } : {};
  };
  const parameters = { concurrency, jobsPerRun: JOBS_PER_RUN[concurrency], rounds: ROUNDS, transport: "HTTP/1.1 keep-alive to the gateway, HTTPS to the orchestrator" };
  const ratio = ratioOf("gateway");
  const addedP50Us = addedP50Of("gateway");
  const gatewayFailures = failures("gateway");
  const relayFailures = failures("relay");
  return [
    {
      name: `Forwarding BYOC jobs, gateway vs direct, ${concurrency} in flight`,
      parameters,
      measured: {
        ...figures("gateway"),
        addedP50Us: round(addedP50Us),
        addedP99Us: round(median(rounds.map((r) => r.gateway.latency.p99Us - r.direct.latency.p99Us))),
        gatewayCpuUsPerJob: cpuPerJob("gateway"),
        // The gateway's throughput against the bare relay's, round by round: what routing, payment and the rest cost.
        vsBareRelay: round(median(rounds.map((r) => rps(r.gateway) / rps(r.relay))), 3),
      },
      baseline: figures("direct"),
      ratio: round(ratio, 3),
      goal: `throughput >= ${GOAL_RATIO} x direct, added p50 <= ${GOAL_ADDED_P50_US / 1_000} ms`,
      pass: gatewayFailures.note === undefined && ratio >= GOAL_RATIO && addedP50Us <= GOAL_ADDED_P50_US,
      ...gatewayFailures,
    },
    {
      name: `Forwarding floor: a bare Node relay vs direct, ${concurrency} in flight`,
      parameters: { ...parameters, relay: "node:http server piping to a keep-alive node:https agent; nothing else (bench/bare-relay.ts)" },
      measured: { ...figures("relay"), addedP50Us: round(addedP50Of("relay")), relayCpuUsPerJob: cpuPerJob("relay") },
      baseline: figures("direct"),
      ratio: round(ratioOf("relay"), 3),
      goal: "report: the most any Node relay reaches here",
      pass: relayFailures.note === undefined,
      ...relayFailures,
    },
  ];
}

/**
 * One job at a time, with the first-ranked orchestrator failing in one way and the second serving. Its health is
 * forgotten before every job, so that each job meets exactly one failed attempt (instead of the gateway learning
 * to avoid it, which is what it would otherwise do).
 */
async function failoverCost(
  load: Load,
  gateway: Gateway,
  failing: string,
  livepeerHeader: string,
  setFault: (fault: FaultMessage["fault"]) => Promise<void>,
  progress: (line: string) => void,
): Promise<BenchResult[]> {
  const sample = async (): Promise<number[]> => {
    const latencies: number[] = [];
    for (let i = 0; i < FAILOVER_SAMPLES; i++) {
      gateway.health.forget(failing);
      const result = await load.run({ target: gateway.servers.api.url, livepeerHeader, concurrency: 1, count: 1, maxMs: 10_000 });
      if (result.ok === 1) latencies.push(result.latency.p50Us);
    }
    return latencies;
  };
  progress("failover: baseline");
  const baseline = await sample();
  const results: BenchResult[] = [];
  for (const [name, capability, fault] of FAILOVER_FAULTS) {
    progress(`failover: ${name}`);
    await setFault({ orchestrator: "cheap", capability, fault });
    const withFailure = await sample();
    await setFault("clear");
    const addedUs = median(withFailure) - median(baseline);
    results.push({
      name: `Failover cost: one ${name} before the success`,
      parameters: { samples: FAILOVER_SAMPLES, concurrency: 1 },
      measured: { p50Us: round(median(withFailure)), addedP50Us: round(addedUs), succeeded: withFailure.length },
      baseline: { p50Us: round(median(baseline)) },
      goal: "report (no goal)",
      pass: withFailure.length === FAILOVER_SAMPLES,
    });
  }
  return results;
}

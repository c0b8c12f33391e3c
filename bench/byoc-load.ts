// Child process of the forwarding benchmark: sends BYOC jobs (POST /process/request/run with a Livepeer header)
// over keep-alive connections, `concurrency` at a time, and reports throughput and latency percentiles.
import http from "node:http";
import https from "node:https";
import { summariseNs, type LatencySummary } from "./stats.js";

export interface JobLoadRequest {
  id: number;
  /** Base URL: the gateway, or an orchestrator's service URI. */
  target: string;
  livepeerHeader: string;
  concurrency: number;
  count: number;
  maxMs: number;
}

export interface JobLoadResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  latency: LatencySummary;
  /** CPU of this load generator per job: what a keep-alive HTTP(S) client costs on this machine. */
  clientCpuUsPerJob: number;
  firstError?: string;
}

const agents = new Map<string, http.Agent>();

function agentFor(target: URL): http.Agent {
  let agent = agents.get(target.origin);
  if (agent === undefined) {
    agent = target.protocol === "https:" ? new https.Agent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 256 }) : new http.Agent({ keepAlive: true, maxSockets: 256 });
    agents.set(target.origin, agent);
  }
  return agent;
}

const BODY = Buffer.from("the quick brown fox jumps over the lazy dog");

function postJob(url: URL, header: string): Promise<number> {
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: "POST",
      agent: agentFor(url),
      headers: { Livepeer: header, "Content-Type": "text/plain", "Content-Length": BODY.length },
    });
    req.on("response", (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(BODY);
  });
}

async function run(request: JobLoadRequest): Promise<JobLoadResult> {
  const url = new URL("/process/request/run", request.target);
  const latencies = new Float64Array(request.count);
  let measured = 0;
  let sent = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + request.maxMs;
  const caller = async (): Promise<void> => {
    while (sent < request.count && performance.now() < deadline) {
      sent++;
      const t0 = process.hrtime.bigint();
      try {
        const status = await postJob(url, request.livepeerHeader);
        if (status !== 200) throw new Error(`HTTP ${status}`);
        latencies[measured++] = Number(process.hrtime.bigint() - t0);
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, caller));
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    ok: measured,
    errors,
    elapsedMs,
    latency: summariseNs(latencies.subarray(0, measured)),
    clientCpuUsPerJob: Math.round((used.user + used.system) / Math.max(1, measured)),
    ...(firstError ? { firstError } : {}),
  };
}

process.on("message", (request: JobLoadRequest) => {
  void run(request).then((result) => process.send?.({ id: request.id, result }));
});
process.on("disconnect", () => process.exit(0));

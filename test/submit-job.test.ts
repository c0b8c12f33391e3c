// SubmitJob, SubmitJobStream and go-livepeer's POST /process/request over real sockets, on the simulated network:
// answers, attempts, streamed answers, client errors that never reach an orchestrator, and cancellation.
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { GatewayService, JobAttemptsSchema, OutcomeClass } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { silentLogger } from "../src/log.js";
import { weiPerUnit } from "../src/network/price.js";

const SPECS: SimulatedOrchestratorSpec[] = ["one", "two"].map((name) => ({
  name,
  version: "0.8.9",
  transcodingPrice: weiPerUnit(1000n, 1n),
  pipelines: {},
  byoc: [{ name: "echo", pricePerSecond: weiPerUnit(1000n, 1n), capacity: 8 }],
}));
const MAX_BODY = 64 * 1024;

let devnet: Devnet;
let gateway: Gateway;
let client: Client<typeof GatewayService>;

beforeAll(async () => {
  devnet = await startDevnet({ specs: SPECS });
  gateway = await startGateway(
    parseConfig([
      "-orchAddr", devnet.orchAddr, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", "-maxJobRequestBytes", String(MAX_BODY),
      "-retryProfiles", JSON.stringify({ capabilities: { echo: { perAttemptTimeout: "1s", firstAttemptTimeout: "1s" } } }),
    ]),
    silentLogger(),
  );
  await gateway.discovery.refreshNow();
  client = createClient(GatewayService, createGrpcTransport({ baseUrl: gateway.servers.api.url }));
});

afterAll(async () => {
  await gateway?.close();
  await devnet?.close();
});

const jobsReceived = () => devnet.orchestrators.reduce((sum, o) => sum + o.byoc.jobsReceived(), 0);

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  return ConnectError.from(await promise.then(() => new Error("expected a failure"), (e: unknown) => e));
}

function header(job: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(job)).toString("base64");
}

function post(path: string, headers: Record<string, string>, body: string | Uint8Array = "x"): Promise<Response> {
  return fetch(`${gateway.servers.api.url}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : new Uint8Array(body) });
}

describe("SubmitJob", () => {
  it("returns the worker's answer, who served it and the attempts", async () => {
    const response = await client.submitJob({
      job: { capability: "echo", path: "run", body: Buffer.from("hello"), contentType: "text/plain", timeoutSeconds: 10 },
    });
    const head = response.head;
    expect(head?.status).toBe(200);
    expect(head?.headers["content-type"]).toBe("application/json");
    expect(head?.headers["x-metadata"]).toContain('"capability":"echo"');
    expect(head?.requestId).toMatch(/^[0-9a-f]{16}$/);
    expect(devnet.uris).toContain(head?.orchestratorUri);
    expect(head?.attempts).toHaveLength(1);
    expect(head?.attempts[0]?.outcome).toBe(OutcomeClass.SUCCESS);
    const answer = JSON.parse(Buffer.from(response.body).toString()) as { output: string; path: string; content_type: string };
    expect(answer).toMatchObject({ output: "olleh", path: "run", content_type: "text/plain" });
  });

  it("streams an SSE answer: the head first, then the events as they come", async () => {
    const events = [];
    for await (const event of client.submitJobStream({ job: { capability: "echo", path: "x/stream", body: Buffer.from("abc"), timeoutSeconds: 10 } })) {
      events.push(event);
    }
    expect(events[0]?.event.case).toBe("head");
    const head = events[0]?.event.case === "head" ? events[0].event.value : undefined;
    expect(head?.headers["content-type"]).toBe("text/event-stream");
    const text = events
      .flatMap((e) => (e.event.case === "chunk" ? [Buffer.from(e.event.value).toString()] : []))
      .join("");
    expect(text).toMatch(/^data: \{.*"capability":"echo"/);
    expect(text).toContain("data: [DONE]");
  });

  it.each([
    [{}, /job is required/],
    [{ job: { capability: "", timeoutSeconds: 5 } }, /job.capability: capability is required/],
    [{ job: { capability: "echo" } }, /job.timeout_seconds: timeout_seconds must be a positive integer, got 0/],
    [{ job: { capability: "echo", timeoutSeconds: 5, requestJson: "{not json" } }, /job.request_json: /],
    [{ job: { capability: "echo", timeoutSeconds: 5, parametersJson: "[1]" } }, /job.parameters_json: /],
    [{ job: { capability: "echo", timeoutSeconds: 100_000 } }, /job.timeout_seconds: .*at most 86400/],
  ])("refuses %j as INVALID_ARGUMENT naming the field, before any orchestrator is called", async (request, message) => {
    const before = jobsReceived();
    const err = await failure(client.submitJob(request));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(message);
    expect(jobsReceived()).toBe(before);
  });

  it("answers NOT_FOUND with similar names for an unknown capability", async () => {
    const err = await failure(client.submitJob({ job: { capability: "ecko", timeoutSeconds: 5 } }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toMatch(/did you mean "echo"/);
  });

  it("answers UNAVAILABLE with every attempt in a JobAttempts detail when all orchestrators fail", async () => {
    for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.setFault("echo", { mode: "error-500", body: "worker exploded" });
    try {
      const err = await failure(client.submitJob({ job: { capability: "echo", timeoutSeconds: 5 } }));
      expect(err.code).toBe(Code.Unavailable);
      expect(err.rawMessage).toMatch(/every attempt failed \(2 attempts: .*http_5xx: HTTP 500: worker exploded/);
      const [detail] = err.findDetails(JobAttemptsSchema);
      expect(detail?.attempts.map((a) => [a.outcome, a.status])).toEqual([
        [OutcomeClass.HTTP_5XX, 500],
        [OutcomeClass.HTTP_5XX, 500],
      ]);
      expect(new Set(detail?.attempts.map((a) => a.orchestratorUri)).size).toBe(2);
    } finally {
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
    }
  });

  it("passes a worker's 4xx back as the answer without trying elsewhere", async () => {
    // The devnet worker refuses the input on this path with a 400.
    const before = jobsReceived();
    const response = await client.submitJob({ job: { capability: "echo", path: "v1/invalid", timeoutSeconds: 5 } });
    expect(response.head?.status).toBe(400);
    expect(Buffer.from(response.body).toString()).toMatch(/cannot use this input/);
    expect(response.head?.attempts).toHaveLength(1);
    expect(response.head?.attempts[0]?.outcome).toBe(OutcomeClass.CLIENT_ERROR);
    expect(jobsReceived()).toBe(before + 1);
  });

  it("cancels the orchestrator request when the client gives up", async () => {
    for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.setFault("echo", { mode: "hang" });
    try {
      const controller = new AbortController();
      const pending = failure(client.submitJob({ job: { capability: "echo", timeoutSeconds: 30 } }, { signal: controller.signal }));
      for (let i = 0; i < 200 && devnet.orchestrators.every((o) => o.byoc.inFlight("echo") === 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      controller.abort();
      expect((await pending).code).toBe(Code.Canceled);
      for (let i = 0; i < 200 && devnet.orchestrators.some((o) => o.byoc.inFlight("echo") > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(devnet.orchestrators.map((o) => o.byoc.inFlight("echo"))).toEqual([0, 0]);
    } finally {
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
    }
  });
});

describe("POST /process/request (go-livepeer's BYOC endpoint)", () => {
  const good = { request: "{}", parameters: "{}", capability: "echo", timeout_seconds: 10 };

  it("forwards the job, keeping the query string and the worker's Content-Type", async () => {
    const response = await post("/process/request/run?fast=1", { Livepeer: header(good), "Content-Type": "text/plain" }, "abc");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(devnet.serviceUris).toContain(response.headers.get("x-orchestrator-url"));
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}$/);
    expect(await response.json()).toMatchObject({ output: "cba" });
    const seen = devnet.orchestrators.flatMap((o) => (o.byoc.lastJob ? [o.byoc.lastJob] : [])).map((job) => job.query);
    expect(seen).toContain("fast=1");
  });

  it.each([
    ["no Livepeer header", {}, "x", 400, /Livepeer header: missing/],
    ["URL-safe base64", { Livepeer: header(good).replace(/\+/g, "-").replace(/=+$/, "") + "_" }, "x", 400, /not standard base64/],
    ["a header that is not JSON", { Livepeer: Buffer.from("{nope").toString("base64") }, "x", 400, /not valid JSON/],
    ["zero timeout", { Livepeer: header({ ...good, timeout_seconds: 0 }) }, "x", 400, /timeout_seconds must be a positive integer, got 0/],
    ["parameters missing", { Livepeer: header({ ...good, parameters: undefined }) }, "x", 400, /parameters is required/],
    ["an oversized body", { Livepeer: header(good) }, new Uint8Array(MAX_BODY + 1), 413, /larger than 65536 bytes/],
    ["an unknown capability", { Livepeer: header({ ...good, capability: "ecko" }) }, "x", 404, /did you mean "echo"/],
  ])("refuses %s with a clear error, and nothing reaches an orchestrator", async (_name, headers, body, status, message) => {
    const before = jobsReceived();
    const response = await post("/process/request/run", headers as Record<string, string>, body);
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(message);
    expect(jobsReceived()).toBe(before);
  });

  it("answers 405 to other methods", async () => {
    const response = await fetch(`${gateway.servers.api.url}/process/request/run`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });

  it("answers 503 with the attempts as JSON when every orchestrator fails, never 200 with an empty body", async () => {
    for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.setFault("echo", { mode: "crash" });
    try {
      const response = await post("/process/request/run", { Livepeer: header(good) });
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: string; attempts: Array<{ outcome: string }> };
      expect(body.attempts.map((a) => a.outcome)).toEqual(["connection_reset", "connection_reset"]);
    } finally {
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
    }
  });
});

describe("jobs in flight per client (-maxJobsPerClient)", () => {
  it("refuses a client's job beyond the limit with 429 / RESOURCE_EXHAUSTED, and takes it again once one ends", async () => {
    const limited = await startGateway(
      parseConfig(["-orchAddr", devnet.orchAddr, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", "-maxJobsPerClient", "1"]),
      silentLogger(),
    );
    try {
      await limited.discovery.refreshNow();
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.setFault("echo", { mode: "hang" });
      const url = `${limited.servers.api.url}/process/request/run`;
      const headers = { Livepeer: header({ request: "{}", parameters: "{}", capability: "echo", timeout_seconds: 30 }) };
      const first = new AbortController();
      const hanging = fetch(url, { method: "POST", headers, body: "x", signal: first.signal }).catch(() => undefined);
      for (let i = 0; i < 200 && devnet.orchestrators.every((o) => o.byoc.inFlight("echo") === 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const refused = await fetch(url, { method: "POST", headers, body: "x" });
      expect(refused.status).toBe(429);
      expect(await refused.text()).toMatch(/already has 1 jobs in flight, the most allowed \(-maxJobsPerClient\)/);
      const rpc = createClient(GatewayService, createGrpcTransport({ baseUrl: limited.servers.api.url }));
      const err = await failure(rpc.submitJob({ job: { capability: "echo", timeoutSeconds: 5 } }));
      expect(err.code).toBe(Code.ResourceExhausted);
      first.abort();
      await hanging;
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await fetch(url, { method: "POST", headers, body: "x" })).status;
        if (status === 429) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(status).toBe(200);
    } finally {
      for (const orchestrator of devnet.orchestrators) await orchestrator.byoc.clearFaults();
      await limited.close();
    }
  });
});

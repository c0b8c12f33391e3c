// The simulated orchestrators' BYOC side over real sockets on 127.0.0.1: go-livepeer's /process/token and
// /process/request wire formats, the deterministic worker, fault injection, the admin endpoint, signature checks
// and clean shutdown.
import { create } from "@bufbuild/protobuf";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import { getBytes, hexlify, toUtf8Bytes, Wallet } from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FaultInputError, FaultTargetError, DEFAULT_GPU_OOM_MESSAGE } from "../src/devnet/byoc-faults.js";
import { deterministicWorker, streamChunks, workerOutput } from "../src/devnet/byoc-worker.js";
import { DEFAULT_DEVNET_SPECS, startDevnet, type Devnet } from "../src/devnet/network.js";
import { startSimulatedOrchestrator, type SimulatedOrchestrator } from "../src/devnet/orchestrator.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { walletIdentity, type GatewayIdentity } from "../src/eth/identity.js";
import { OrchestratorRequestSchema, type OrchestratorInfo } from "../src/gen/net/lp_rpc_pb.js";
import { BYOC_CAPABILITY_ID } from "../src/network/capabilities.js";
import { weiPerUnit } from "../src/network/price.js";
import { OrchestratorClientPool } from "../src/orchestrator/orchestrator-client.js";

// ---------------------------------------------------------------------------------------------------------------
// Clients

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

interface SendInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly signal?: AbortSignal;
}

/** One HTTP/1.1 request on its own connection (no keep-alive), accepting self-signed certificates. */
function send(base: string, path: string, init: SendInit = {}): Promise<Answer> {
  const url = new URL(path, base);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: init.method ?? "GET",
        // Node frames no body for GET/DELETE unless told its length.
        headers: init.body === undefined ? init.headers : { "Content-Length": String(Buffer.byteLength(init.body)), ...init.headers },
        agent: false,
        rejectUnauthorized: false,
        signal: init.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** One HTTP/2 request on its own session. */
function sendH2(base: string, path: string, init: SendInit = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(base, { rejectUnauthorized: false });
    session.on("error", reject);
    const stream = session.request({ ":method": init.method ?? "GET", ":path": path, ...init.headers });
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (response) => {
      status = Number(response[":status"]);
      headers = response as http.IncomingHttpHeaders;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", (error) => {
      session.destroy();
      reject(error);
    });
    stream.on("close", () => {
      session.close();
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && status === 0) {
        reject(Object.assign(new Error(`stream reset with code ${stream.rstCode}`), { rstCode: stream.rstCode }));
        return;
      }
      const body = Buffer.concat(chunks);
      resolve({ status, headers, body, text: body.toString("utf8") });
    });
    stream.end(init.body);
  });
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; rstCode?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the request to fail");
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64");

/** What a go-livepeer gateway sends as Livepeer-Eth-Address. */
function ethAddressHeader(addr: string, sig: string): string {
  return b64({ addr, sig });
}

function tokenHeaders(identity: GatewayIdentity, capability: string): Record<string, string> {
  return {
    "Livepeer-Eth-Address": ethAddressHeader(identity.address, hexlify(identity.orchestratorRequestSig)),
    "Livepeer-Capability": capability,
  };
}

interface JobFields {
  readonly capability: string;
  readonly request?: string;
  readonly parameters?: string;
  readonly timeout_seconds?: number;
  readonly sender?: string;
  readonly sig?: string;
  readonly id?: string;
}

/** The `Livepeer` header of a job, as a gateway sends it to an orchestrator. */
function jobHeader(fields: JobFields): string {
  return b64({
    id: fields.id ?? "job-1",
    request: fields.request ?? "{}",
    parameters: fields.parameters ?? "{}",
    capability: fields.capability,
    capability_url: "",
    sender: fields.sender ?? "0x0000000000000000000000000000000000000000",
    sig: fields.sig ?? "",
    timeout_seconds: fields.timeout_seconds ?? 30,
  });
}

async function signedJobHeader(identity: GatewayIdentity, fields: JobFields): Promise<string> {
  const request = fields.request ?? "{}";
  const parameters = fields.parameters ?? "{}";
  const sig = await identity.signer?.sign(toUtf8Bytes(request + parameters));
  if (!sig) throw new Error("identity cannot sign");
  return jobHeader({ ...fields, request, parameters, sender: identity.address, sig: hexlify(sig) });
}

function postJob(base: string, workerPath: string, fields: JobFields, body = "hello devnet", signal?: AbortSignal) {
  return send(base, `/process/request/${workerPath}`, {
    method: "POST",
    headers: { Livepeer: jobHeader(fields), "Content-Type": "text/plain" },
    body,
    signal,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms, at most 300 times. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// gRPC, for the capabilities_prices check, through the gateway's own client.
async function listing(uri: string): Promise<OrchestratorInfo> {
  const clients = new OrchestratorClientPool();
  try {
    return (await clients.getOrchestrator(uri, create(OrchestratorRequestSchema, {}), { timeoutMs: 5_000 })).info;
  } finally {
    clients.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

const ALPHA = DEFAULT_DEVNET_SPECS.find((spec) => spec.name === "orch-alpha") as SimulatedOrchestratorSpec;

/** Prices and capacities that exercise omitempty: a sub-wei price (listed as 0) and a zero capacity. */
const ODD_SPEC: SimulatedOrchestratorSpec = {
  ...ALPHA,
  name: "orch-odd",
  byoc: [
    { name: "free", pricePerSecond: weiPerUnit(1n, 10n), capacity: 0 },
    { name: "half", pricePerSecond: weiPerUnit(50_001n, 2n), capacity: 1 },
  ],
};

let gateway: GatewayIdentity;
let stranger: GatewayIdentity;

beforeAll(async () => {
  gateway = await walletIdentity(Wallet.createRandom());
  stranger = await walletIdentity(Wallet.createRandom());
});

// ---------------------------------------------------------------------------------------------------------------

describe("GET /process/token", () => {
  let alpha: SimulatedOrchestrator;
  let odd: SimulatedOrchestrator;

  beforeAll(async () => {
    [alpha, odd] = await Promise.all([startSimulatedOrchestrator(ALPHA), startSimulatedOrchestrator(ODD_SPEC)]);
  });
  afterAll(async () => {
    await Promise.all([alpha.close(), odd.close()]);
  });

  it("advertises the BYOC server as the service URI, on its own port", () => {
    expect(alpha.serviceUri).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(alpha.serviceUri).not.toBe(alpha.uri);
    expect(alpha.byoc.uri).toBe(alpha.serviceUri);
  });

  it("answers a JobToken byte for byte as json.NewEncoder writes it", async () => {
    const sig = hexlify(gateway.orchestratorRequestSig);
    const answer = await send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "depth") });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.text).toBe(
      `{"sender_address":{"addr":"${gateway.address}","sig":"${sig}"},` +
        `"price":{"pricePerUnit":50000,"pixelsPerUnit":1},"service_addr":"${alpha.serviceUri}",` +
        `"available_capacity":4,"LastNonce":0}\n`,
    );
  });

  it("answers an unknown capability with 200, price 0 and no available_capacity", async () => {
    const answer = await send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "teleport") });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(
      `{"sender_address":{"addr":"${gateway.address}","sig":"${hexlify(gateway.orchestratorRequestSig)}"},` +
        `"price":{"pixelsPerUnit":1},"service_addr":"${alpha.serviceUri}","LastNonce":0}\n`,
    );
  });

  it("omits zero values: a sub-wei price, a zero capacity; floors the price; escapes like Go", async () => {
    const free = await send(odd.serviceUri, "/process/token", {
      headers: { "Livepeer-Eth-Address": ethAddressHeader("<a>&", ""), "Livepeer-Capability": "free" },
    });
    expect(free.text).toBe(
      `{"sender_address":{"addr":"\\u003ca\\u003e\\u0026","sig":""},"price":{"pixelsPerUnit":1},` +
        `"service_addr":"${odd.serviceUri}","LastNonce":0}\n`,
    );
    const half = await send(odd.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "half") });
    expect(JSON.parse(half.text)).toMatchObject({ price: { pricePerUnit: 25000, pixelsPerUnit: 1 }, available_capacity: 1 });
  });

  it("accepts a signature of 130 hex digits without 0x, and a JSON null sender", async () => {
    const bare = hexlify(gateway.orchestratorRequestSig).slice(2);
    const answer = await send(alpha.serviceUri, "/process/token", {
      headers: { "Livepeer-Eth-Address": ethAddressHeader(gateway.address, bare), "Livepeer-Capability": "depth" },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).sender_address).toEqual({ addr: gateway.address, sig: bare });
    const nullSender = await send(alpha.serviceUri, "/process/token", {
      headers: { "Livepeer-Eth-Address": Buffer.from("null").toString("base64"), "Livepeer-Capability": "depth" },
    });
    expect(nullSender.text.startsWith(`{"sender_address":{"addr":"","sig":""},`)).toBe(true);
  });

  it.each([
    ["no Livepeer-Eth-Address", {}, 400, "Must have eth address and signature on address in Livepeer-Eth-Address header\n"],
    ["unpadded base64", { "Livepeer-Eth-Address": "eyJhZGRyIjoiMHgifQ" }, 400, "Invalid eth address header \n"],
    ["URL-safe base64", { "Livepeer-Eth-Address": "-_-_" }, 400, "Invalid eth address header \n"],
    ["not JSON", { "Livepeer-Eth-Address": Buffer.from("{addr").toString("base64") }, 400, "Invalid eth address header \n"],
    ["a number for addr", { "Livepeer-Eth-Address": b64({ addr: 5, sig: "" }) }, 400, "Invalid eth address header \n"],
    ["a sig that is not hex", { "Livepeer-Eth-Address": ethAddressHeader("0xab", "0xZZ") }, 400, "Invalid eth address header \n"],
    [
      "an empty Livepeer-Capability",
      { "Livepeer-Eth-Address": ethAddressHeader("0xab", ""), "Livepeer-Capability": "" },
      400,
      "Job capabilities not provided, must provide comma separated capabilities in Livepeer-Capability header\n",
    ],
  ])("refuses %s like go-livepeer", async (_case, headers: Record<string, string>, status, body) => {
    const answer = await send(alpha.serviceUri, "/process/token", { headers: { "Livepeer-Capability": "depth", ...headers } });
    expect(answer.status).toBe(status);
    expect(answer.text).toBe(body);
    expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("refuses other methods with 405 and unknown paths with 404", async () => {
    const post = await send(alpha.serviceUri, "/process/token", { method: "POST", headers: tokenHeaders(gateway, "depth") });
    expect([post.status, post.text]).toEqual([405, "Method not allowed\n"]);
    const other = await send(alpha.serviceUri, "/process/nothing");
    expect([other.status, other.text]).toEqual([404, "404 page not found\n"]);
  });

  it("counts the tokens it serves, per capability", async () => {
    const before = alpha.byoc.tokensServed("style-transfer");
    const total = alpha.byoc.tokensServed();
    await send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "style-transfer") });
    expect(alpha.byoc.tokensServed("style-transfer")).toBe(before + 1);
    expect(alpha.byoc.tokensServed()).toBe(total + 1);
  });

  it("serves tokens over HTTP/2 too", async () => {
    const answer = await sendH2(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "depth") });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ available_capacity: 4, service_addr: alpha.serviceUri });
  });
});

describe("ticket params seam and plaintext", () => {
  it("places ticket_params after sender_address with Go's encoding of bytes and integers", async () => {
    const recipient = new Uint8Array(20).fill(0xab);
    const hash = new Uint8Array(32).fill(0x01);
    const orchestrator = await startSimulatedOrchestrator(ALPHA, {
      tls: false,
      byocTicketParams: () => ({
        recipient,
        faceValue: new Uint8Array([0x01, 0x00]),
        winProb: new Uint8Array([0xff]),
        recipientRandHash: hash,
        seed: new Uint8Array([7]),
        expirationBlock: new Uint8Array([0x12, 0x34]),
        expirationParams: { creationRound: 1234n, creationRoundBlockHash: hash },
      }),
    });
    try {
      expect(orchestrator.serviceUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const answer = await send(orchestrator.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "depth") });
      const b = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
      expect(answer.text).toBe(
        `{"sender_address":{"addr":"${gateway.address}","sig":"${hexlify(gateway.orchestratorRequestSig)}"},` +
          `"ticket_params":{"recipient":"${b(recipient)}","face_value":"AQA=","win_prob":"/w==",` +
          `"recipient_rand_hash":"${b(hash)}","seed":"Bw==","expiration_block":"EjQ=",` +
          `"expiration_params":{"creation_round":1234,"creation_round_block_hash":"${b(hash)}"}},` +
          `"price":{"pricePerUnit":50000,"pixelsPerUnit":1},"service_addr":"${orchestrator.serviceUri}",` +
          `"available_capacity":4,"LastNonce":0}\n`,
      );
    } finally {
      await orchestrator.close();
    }
  });
});

describe("POST /process/request/<path>", () => {
  let alpha: SimulatedOrchestrator;

  beforeAll(async () => {
    alpha = await startSimulatedOrchestrator(ALPHA);
  });
  afterAll(async () => {
    await alpha.close();
  });

  it("runs the worker and passes its body, Content-Type, X-Metadata and Livepeer-Balance through", async () => {
    const before = alpha.byoc.jobsReceived("depth");
    const answer = await send(alpha.serviceUri, "/process/request/reverse/text?ignored=1", {
      method: "POST",
      headers: { Livepeer: jobHeader({ capability: "depth", request: '{"stream_id":"s"}', parameters: '{"x":1}' }), "Content-Type": "text/plain" },
      body: "hello devnet",
    });
    const expected = deterministicWorker({
      capability: "depth",
      path: "reverse/text",
      contentType: "text/plain",
      body: Buffer.from("hello devnet"),
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(expected.body.toString("utf8"));
    expect(JSON.parse(answer.text)).toMatchObject({ capability: "depth", path: "reverse/text", output: "tenved olleh" });
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.headers["x-metadata"]).toBe(expected.metadata);
    expect(answer.headers["livepeer-balance"]).toBe("0");

    expect(alpha.byoc.jobsReceived("depth")).toBe(before + 1);
    const last = alpha.byoc.lastJob;
    expect(last).toMatchObject({ method: "POST", path: "/process/request/reverse/text", workerPath: "reverse/text", query: "ignored=1" });
    expect(last?.job).toMatchObject({ capability: "depth", request: '{"stream_id":"s"}', parameters: '{"x":1}', timeoutSeconds: 30n, id: "job-1" });
    expect(last?.headers["content-type"]).toBe("text/plain");
    expect(last?.headers.livepeer).toBeDefined();
    expect(last?.body?.toString()).toBe("hello devnet");
    expect(alpha.byoc.inFlight("depth")).toBe(0);
  });

  it("answers the same over HTTP/2", async () => {
    const answer = await sendH2(alpha.serviceUri, "/process/request/x", {
      method: "POST",
      headers: { Livepeer: jobHeader({ capability: "style-transfer" }), "content-type": "text/plain" },
      body: "abc",
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ capability: "style-transfer", output: "cba" });
    expect(alpha.byoc.lastJob?.httpVersion).toBe("2.0");
  });

  it("relays SSE line by line with the balance line before [DONE]", async () => {
    const body = "a streaming input that spans several chunks of output";
    const answer = await postJob(alpha.serviceUri, "generate/stream", { capability: "depth" }, body);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/event-stream");
    expect(answer.headers["cache-control"]).toBe("no-cache");
    expect(answer.headers.connection).toBe("keep-alive");
    expect(answer.headers["livepeer-payment-balance"]).toBe("0");
    expect(answer.headers["livepeer-balance"]).toBeUndefined();
    expect(answer.headers["x-metadata"]).toContain('"capability":"depth"');

    const chunks = streamChunks(workerOutput(Buffer.from(body)).output);
    expect(chunks.length).toBeGreaterThan(1);
    const events = chunks.map((chunk, index) => `data: ${JSON.stringify({ capability: "depth", index, chunk })}\n\n`).join("");
    // O writes each line + "\n"; the inserted balance string already ends in "\n\n", so a third newline follows.
    expect(answer.text).toBe(`${events}data: {"balance": 0.000}\n\n\ndata: [DONE]\n\n`);
    expect(answer.text.indexOf('data: {"balance": 0.000}')).toBeLessThan(answer.text.indexOf("[DONE]"));
  });

  it.each([
    ["no Livepeer header", undefined, 400, "Could not verify job creds\n"],
    ["unpadded base64", b64({ capability: "depth", timeout_seconds: 5 }).replace(/=+$/, "") + "x", 400, "Could not verify job creds\n"],
    ["timeout_seconds 0", jobHeader({ capability: "depth", timeout_seconds: 0 }), 400, "no timeout_seconds set with request, timeout_seconds is required\n"],
    ["no timeout_seconds", b64({ capability: "depth", request: "{}", parameters: "{}" }), 400, "no timeout_seconds set with request, timeout_seconds is required\n"],
    ["parameters as an object", b64({ capability: "depth", request: "{}", parameters: {}, timeout_seconds: 5 }), 400, "Could not verify job creds\n"],
    ["a fractional timeout", b64({ capability: "depth", timeout_seconds: 1.5 }), 400, "Could not verify job creds\n"],
    ["a sig that is not hex", jobHeader({ capability: "depth", sig: "0xnothex" }), 400, "Could not verify job creds\n"],
    ["an unregistered capability", jobHeader({ capability: "teleport" }), 503, "No capacity available for capability\n"],
    ["a request that is not JSON", jobHeader({ capability: "depth", request: "" }), 400, "Unable to unmarshal job request details err=unexpected end of JSON input\n"],
  ])("refuses %s like go-livepeer", async (_case, header: string | undefined, status, body) => {
    const answer = await send(alpha.serviceUri, "/process/request/x", {
      method: "POST",
      headers: header === undefined ? {} : { Livepeer: header },
      body: "x",
    });
    expect(answer.status).toBe(status);
    expect(answer.text).toBe(body);
    expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(alpha.byoc.inFlight("depth")).toBe(0);
  });

  it("refuses methods other than POST with 405", async () => {
    const answer = await send(alpha.serviceUri, "/process/request/x", { headers: { Livepeer: jobHeader({ capability: "depth" }) } });
    expect([answer.status, answer.text]).toEqual([405, "Method not allowed\n"]);
  });
});

describe("capacity accounting", () => {
  let alpha: SimulatedOrchestrator;

  beforeAll(async () => {
    alpha = await startSimulatedOrchestrator(ALPHA);
  });
  afterAll(async () => {
    await alpha.close();
  });

  async function availableCapacity(capability: string): Promise<number | undefined> {
    const answer = await send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, capability) });
    return (JSON.parse(answer.text) as { available_capacity?: number }).available_capacity;
  }

  it("advertises capacity minus jobs in flight, never below 0, and frees slots when clients leave", async () => {
    await alpha.byoc.setFault("*", { mode: "hang" });
    const controller = new AbortController();
    const hung = [
      postJob(alpha.serviceUri, "a", { capability: "depth" }, "1", controller.signal),
      postJob(alpha.serviceUri, "a", { capability: "depth" }, "2", controller.signal),
      ...[1, 2, 3].map((n) => postJob(alpha.serviceUri, "a", { capability: "style-transfer" }, `${n}`, controller.signal)),
    ].map((promise) => failure(promise));
    await eventually(() => alpha.byoc.inFlight("depth") === 2 && alpha.byoc.inFlight("style-transfer") === 3, "5 jobs in flight");
    expect(await availableCapacity("depth")).toBe(2);
    expect(await availableCapacity("style-transfer")).toBeUndefined(); // 2 - 3 is 0, and 0 is omitted
    expect(alpha.byoc.stats("style-transfer")).toMatchObject({ capacity: 2, inFlight: 3, availableCapacity: 0 });

    controller.abort();
    await Promise.all(hung);
    await eventually(() => alpha.byoc.inFlight("depth") === 0 && alpha.byoc.inFlight("style-transfer") === 0, "slots freed");
    await alpha.byoc.clearFaults();
    expect(await availableCapacity("depth")).toBe(4);
    expect(await availableCapacity("style-transfer")).toBe(2);
  });
});

describe("faults", () => {
  let alpha: SimulatedOrchestrator;

  beforeAll(async () => {
    alpha = await startSimulatedOrchestrator(ALPHA);
  });
  afterEach(async () => {
    await alpha.byoc.clearFaults();
  });
  afterAll(async () => {
    await alpha.close();
  });

  it("latency: W answers at least the injected delay later", async () => {
    await alpha.byoc.setFault("depth", { mode: "latency", ms: 300 });
    const started = performance.now();
    const answer = await postJob(alpha.serviceUri, "x", { capability: "depth" });
    const elapsed = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(300 - 5); // libuv timers have millisecond granularity
  });

  it("latency beyond timeout_seconds: 500 context deadline exceeded, with Livepeer-Balance", async () => {
    await alpha.byoc.setFault("depth", { mode: "latency", ms: 5_000 });
    const answer = await postJob(alpha.serviceUri, "x", { capability: "depth", timeout_seconds: 1 });
    expect(answer.status).toBe(500);
    expect(answer.text).toBe("job not able to be processed, removing capability err=context deadline exceeded\n");
    expect(answer.headers["livepeer-balance"]).toBe("0");
    expect(alpha.byoc.inFlight("depth")).toBe(0);
  });

  it("cold-start: the first request warms the container up, later ones do not, idling cools it down", async () => {
    await alpha.byoc.setFault("depth", { mode: "cold-start", ms: 250, idleMs: 60_000 });
    const before = alpha.byoc.stats("depth")?.coldStarts ?? 0;
    const started = performance.now();
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250 - 5);
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(200);
    expect(alpha.byoc.stats("depth")?.coldStarts).toBe(before + 1);

    await alpha.byoc.setFault("depth", { mode: "cold-start", ms: 10, idleMs: 1 });
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(200);
    await sleep(30);
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(200);
    expect(alpha.byoc.stats("depth")?.coldStarts).toBe(before + 3);
  });

  it("error-500: W's 500 and body are relayed as text/plain with a newline", async () => {
    await alpha.byoc.setFault("depth", { mode: "error-500" });
    const answer = await postJob(alpha.serviceUri, "x", { capability: "depth" });
    expect([answer.status, answer.text]).toEqual([500, "Internal Server Error\n"]);
    expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(answer.headers["livepeer-balance"]).toBe("0");
    await alpha.byoc.setFault("depth", { mode: "error-500", body: "worker exploded" });
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).text).toBe("worker exploded\n");
  });

  it("gpu-oom: 500 with ai-runner's CUDA out-of-memory error", async () => {
    await alpha.byoc.setFault("depth", { mode: "gpu-oom" });
    const answer = await postJob(alpha.serviceUri, "x", { capability: "depth" });
    expect(answer.status).toBe(500);
    expect(answer.text).toContain("CUDA out of memory. Tried to allocate");
    expect(JSON.parse(answer.text)).toEqual({ detail: { msg: DEFAULT_GPU_OOM_MESSAGE } });
  });

  it("schema-mismatch: W's FastAPI 422 validation error is relayed", async () => {
    await alpha.byoc.setFault("depth", { mode: "schema-mismatch" });
    const answer = await send(alpha.serviceUri, "/process/request/x", {
      method: "POST",
      headers: { Livepeer: jobHeader({ capability: "depth" }), "Content-Type": "application/json" },
      body: '{"image":"x"}',
    });
    expect(answer.status).toBe(422);
    const detail = (JSON.parse(answer.text) as { detail: { type: string; loc: string[]; msg: string; input: unknown }[] }).detail;
    expect(detail[0]).toMatchObject({ type: "missing", loc: ["body", "prompt"], msg: "Field required", input: { image: "x" } });
  });

  it("crash: the connection drops after the request was read (HTTP/1.1 and HTTP/2)", async () => {
    await alpha.byoc.setFault("depth", { mode: "crash" });
    const before = alpha.byoc.jobsReceived("depth");
    const dropped = await failure(postJob(alpha.serviceUri, "x", { capability: "depth" }));
    expect(dropped.code === "ECONNRESET" || /socket hang up/.test(dropped.message)).toBe(true);
    const reset = await failure(
      sendH2(alpha.serviceUri, "/process/request/x", { method: "POST", headers: { Livepeer: jobHeader({ capability: "depth" }) }, body: "x" }),
    );
    expect(reset.rstCode ?? reset.code).toBeDefined();
    expect(alpha.byoc.jobsReceived("depth")).toBe(before + 2);
    expect(alpha.byoc.lastJob?.body?.toString()).toBe("x");
    await eventually(() => alpha.byoc.inFlight("depth") === 0, "slot freed");
    // Other capabilities and the token route are unaffected.
    expect((await postJob(alpha.serviceUri, "x", { capability: "style-transfer" })).status).toBe(200);
  });

  it("hang: no answer until the client leaves", async () => {
    await alpha.byoc.setFault("depth", { mode: "hang" });
    const controller = new AbortController();
    const pending = failure(postJob(alpha.serviceUri, "x", { capability: "depth" }, "x", controller.signal));
    await eventually(() => alpha.byoc.inFlight("depth") === 1, "the job in flight");
    controller.abort();
    expect((await pending).name).toBe("AbortError");
    await eventually(() => alpha.byoc.inFlight("depth") === 0, "slot freed");
  });

  it("down (one capability): unregistered — 503, no capacity in its token, gone from capabilities_prices", async () => {
    await alpha.byoc.setFault("depth", { mode: "down" });
    const answer = await postJob(alpha.serviceUri, "x", { capability: "depth" });
    expect([answer.status, answer.text]).toEqual([503, "No capacity available for capability\n"]);
    const token = JSON.parse((await send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "depth") })).text);
    expect(token.available_capacity).toBeUndefined();
    expect(token.price).toEqual({ pricePerUnit: 50000, pixelsPerUnit: 1 }); // the price entry stays, as upstream
    const byoc = (await listing(alpha.uri)).capabilitiesPrices.filter((price) => price.capability === BYOC_CAPABILITY_ID);
    expect(byoc.map((price) => price.constraint)).toEqual(["style-transfer"]);
    expect((await postJob(alpha.serviceUri, "x", { capability: "style-transfer" })).status).toBe(200);

    await alpha.byoc.setFault("depth", { mode: "none" });
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(200);
    expect((await listing(alpha.uri)).capabilitiesPrices.filter((price) => price.capability === BYOC_CAPABILITY_ID)).toHaveLength(2);
  });

  it('down ("*"): the port refuses connections, then accepts again on the same port', async () => {
    await alpha.byoc.setFault("*", { mode: "down" });
    expect(alpha.byoc.listening).toBe(false);
    const refused = await failure(send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "depth") }));
    expect(refused.code).toBe("ECONNREFUSED");
    await alpha.byoc.setFault("*", { mode: "none" });
    expect(alpha.byoc.listening).toBe(true);
    const answer = await send(alpha.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "depth") });
    expect(answer.status).toBe(200);
  });

  it('"*" applies to every capability; a capability\'s own fault wins', async () => {
    await alpha.byoc.setFault("*", { mode: "error-500" });
    await alpha.byoc.setFault("depth", { mode: "schema-mismatch" });
    expect((await postJob(alpha.serviceUri, "x", { capability: "style-transfer" })).status).toBe(500);
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(422);
    expect(alpha.byoc.faults()).toEqual(
      new Map<string, unknown>([
        ["*", { mode: "error-500" }],
        ["depth", { mode: "schema-mismatch" }],
      ]),
    );
  });

  it("refuses bad faults and unknown capabilities", async () => {
    await expect(alpha.byoc.setFault("teleport", { mode: "crash" })).rejects.toThrow(FaultTargetError);
    await expect(alpha.byoc.setFault("teleport", { mode: "crash" })).rejects.toThrow(/no BYOC capability "teleport".*depth, style-transfer/);
    await expect(alpha.byoc.setFault("depth", { mode: "latency", ms: -1 })).rejects.toThrow(FaultInputError);
    await expect(alpha.byoc.setFault("depth", { mode: "explode" } as never)).rejects.toThrow(/fault.mode must be one of/);
    expect(alpha.byoc.faults().size).toBe(0);
  });
});

describe("signature checks", () => {
  let strict: SimulatedOrchestrator;
  let lenient: SimulatedOrchestrator;
  let legacy: SimulatedOrchestrator;

  beforeAll(async () => {
    [strict, lenient, legacy] = await Promise.all([
      startSimulatedOrchestrator(ALPHA, { verifySignatures: true }),
      startSimulatedOrchestrator({ ...ALPHA, name: "orch-lenient" }),
      startSimulatedOrchestrator({ ...ALPHA, name: "orch-legacy" }, { rejectBareSigPrefix: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([strict.close(), lenient.close(), legacy.close()]);
  });

  async function token(orchestrator: SimulatedOrchestrator, addr: string, sig: string): Promise<Answer> {
    return send(orchestrator.serviceUri, "/process/token", {
      headers: { "Livepeer-Eth-Address": ethAddressHeader(addr, sig), "Livepeer-Capability": "depth" },
    });
  }

  it("token: accepts the gateway's signature over its address, with or without 0x", async () => {
    const sig = hexlify(gateway.orchestratorRequestSig);
    expect((await token(strict, gateway.address, sig)).status).toBe(200);
    expect((await token(strict, gateway.address, sig.slice(2))).status).toBe(200);
  });

  it("token: refuses another signer, another message, a high s and a bad v", async () => {
    const sig = getBytes(gateway.orchestratorRequestSig);
    expect((await token(strict, gateway.address, hexlify(stranger.orchestratorRequestSig))).text).toBe("Invalid eth address header \n");
    // Signed over the EIP-55 string; the lower-case string is another message.
    expect((await token(strict, gateway.address.toLowerCase(), hexlify(sig))).status).toBe(400);
    const highS = Uint8Array.from(sig);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(hexlify(sig.subarray(32, 64)));
    highS.set(getBytes(`0x${(n - s).toString(16).padStart(64, "0")}`), 32);
    highS[64] = sig[64] === 27 ? 28 : 27; // the same key recovers from (r, n - s, flipped v)
    expect((await token(strict, gateway.address, hexlify(highS))).status).toBe(400);
    const badV = Uint8Array.from(sig);
    badV[64] = 0;
    expect((await token(strict, gateway.address, hexlify(badV))).status).toBe(400);
    expect((await token(strict, gateway.address, "")).status).toBe(400);
  });

  it("job: accepts personal_sign(keccak256(request + parameters)) by the sender, refuses anything else", async () => {
    const fields = { capability: "depth", request: '{"a":1}', parameters: '{"orchestrators":{}}' };
    const good = await signedJobHeader(gateway, fields);
    const post = (header: string) =>
      send(strict.serviceUri, "/process/request/x", { method: "POST", headers: { Livepeer: header }, body: "x" });
    expect((await post(good)).status).toBe(200);

    const decoded = JSON.parse(Buffer.from(good, "base64").toString()) as Record<string, unknown>;
    const tampered = b64({ ...decoded, parameters: '{"orchestrators":{"exclude":[]}}' });
    expect((await post(tampered)).text).toBe("Could not verify job creds\n");
    const impostor = b64({ ...decoded, sender: stranger.address });
    expect((await post(impostor)).status).toBe(400);
    expect((await post(jobHeader({ capability: "depth", sig: "" }))).status).toBe(400);
  });

  it("off (the default): any hex signature passes, as on an off-chain orchestrator, and so do 0x and \"\"", async () => {
    const zero = "0x0000000000000000000000000000000000000000";
    expect((await token(lenient, gateway.address, hexlify(stranger.orchestratorRequestSig))).status).toBe(200);
    expect((await token(lenient, zero, "0x")).status).toBe(200);
    expect((await token(lenient, zero, "")).status).toBe(200);
    const job = (orchestrator: SimulatedOrchestrator, sig: string) =>
      send(orchestrator.serviceUri, "/process/request/x", {
        method: "POST",
        headers: { Livepeer: jobHeader({ capability: "depth", sig }) },
        body: "x",
      });
    expect((await job(lenient, "0x")).status).toBe(200);
    expect((await job(lenient, "")).status).toBe(200);

    // go-livepeer at the reference commit cannot hex-decode "0x" (livepeer/go-livepeer#3905); "" passes there too.
    expect((await token(legacy, zero, "0x")).text).toBe("Invalid eth address header \n");
    expect((await job(legacy, "0x")).text).toBe("Could not verify job creds\n");
    expect((await token(legacy, zero, "")).status).toBe(200);
    expect((await job(legacy, "")).status).toBe(200);
  });
});

const ADMIN_TOKEN = "test-admin-token-0123456789";

describe("admin endpoint", () => {
  let devnet: Devnet;
  let admin: string;

  beforeAll(async () => {
    devnet = await startDevnet({ specs: DEFAULT_DEVNET_SPECS.slice(0, 2), adminToken: ADMIN_TOKEN });
    admin = devnet.admin?.uri ?? "";
  });
  afterAll(async () => {
    await devnet.close();
  });

  /** token null sends no Authorization header. */
  const json = (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) =>
    send(admin, path, {
      method,
      headers: {
        ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });

  it("switches faults only with the bearer token: 401 without or with a wrong one, 403 when none is configured", async () => {
    const fault = { orchestrator: DEFAULT_DEVNET_SPECS[0]!.name, capability: "*", fault: { mode: "latency", ms: 5 } };
    for (const token of [null, "wrong-token-0123456789"]) {
      const refused = await json("PUT", "/faults", fault, token);
      expect(refused.status).toBe(401);
      expect(refused.headers["www-authenticate"]).toMatch(/^Bearer/);
      expect(refused.text).toMatch(/Authorization: Bearer/);
      expect((await json("DELETE", "/faults", undefined, token)).status).toBe(401);
    }
    expect(JSON.parse((await json("GET", "/faults", undefined, null)).text)).toEqual({ faults: [] }); // reads stay open
    const open = await startDevnet({ specs: DEFAULT_DEVNET_SPECS.slice(0, 1) });
    try {
      const answer = await send(open.admin!.uri, "/faults", { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(answer.status).toBe(403);
      expect(answer.text).toMatch(/-adminToken/);
    } finally {
      await open.close();
    }
  });

  it("lists orchestrators with their gRPC and service URIs", async () => {
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await json("GET", "/orchestrators");
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { orchestrators: { name: string; uri: string; serviceUri: string; byoc: { name: string }[] }[] };
    expect(body.orchestrators.map((o) => [o.name, o.uri, o.serviceUri])).toEqual(
      devnet.orchestrators.map((o) => [o.spec.name, o.uri, o.serviceUri]),
    );
    expect(body.orchestrators[0]?.byoc.map((c) => c.name)).toEqual(["depth", "style-transfer"]);
    expect((await json("GET", "/")).status).toBe(200);
  });

  it("sets, lists and clears faults, which take effect on the orchestrator", async () => {
    expect(JSON.parse((await json("GET", "/faults")).text)).toEqual({ faults: [] });
    const put = await json("PUT", "/faults", { orchestrator: "orch-alpha", capability: "depth", fault: { mode: "error-500", body: "boom" } });
    expect(put.status).toBe(200);
    expect(JSON.parse(put.text)).toEqual({ faults: [{ orchestrator: "orch-alpha", capability: "depth", fault: { mode: "error-500", body: "boom" } }] });
    const alpha = devnet.orchestrator("orch-alpha");
    const failed = await postJob(alpha.serviceUri, "x", { capability: "depth" });
    expect([failed.status, failed.text]).toEqual([500, "boom\n"]);

    await json("PUT", "/faults", { orchestrator: "orch-bravo", capability: "*", fault: { mode: "latency", ms: 1 } });
    const listed = JSON.parse((await json("GET", "/faults")).text) as { faults: unknown[] };
    expect(listed.faults).toHaveLength(2);

    const one = await json("DELETE", "/faults?orchestrator=orch-alpha&capability=depth");
    expect(JSON.parse(one.text)).toEqual({ faults: [{ orchestrator: "orch-bravo", capability: "*", fault: { mode: "latency", ms: 1 } }] });
    expect((await postJob(alpha.serviceUri, "x", { capability: "depth" })).status).toBe(200);
    expect(JSON.parse((await json("DELETE", "/faults")).text)).toEqual({ faults: [] });
  });

  it('takes a whole orchestrator down and up through "*"', async () => {
    const bravo = devnet.orchestrator("orch-bravo");
    expect((await json("PUT", "/faults", { orchestrator: "orch-bravo", capability: "*", fault: { mode: "down" } })).status).toBe(200);
    expect((await failure(send(bravo.serviceUri, "/process/token"))).code).toBe("ECONNREFUSED");
    expect((await json("DELETE", "/faults", { orchestrator: "orch-bravo" })).status).toBe(200);
    expect((await send(bravo.serviceUri, "/process/token", { headers: tokenHeaders(gateway, "style-transfer") })).status).toBe(200);
  });

  it.each([
    ["invalid JSON", "PUT", "/faults", "{nope", 400, /not valid JSON/],
    ["an empty body", "PUT", "/faults", "", 400, /JSON body is required/],
    ["an array", "PUT", "/faults", [], 400, /must be a JSON object/],
    ["an unknown orchestrator", "PUT", "/faults", { orchestrator: "orch-zulu", capability: "*", fault: { mode: "crash" } }, 404, /no orchestrator named "orch-zulu".*orch-alpha/],
    ["no orchestrator", "PUT", "/faults", { capability: "*", fault: { mode: "crash" } }, 400, /"orchestrator" must be/],
    ["an unknown capability", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "teleport", fault: { mode: "crash" } }, 404, /no BYOC capability "teleport"/],
    ["no fault", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*" }, 400, /"fault" is required/],
    ["an unknown mode", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*", fault: { mode: "meltdown" } }, 400, /fault.mode must be one of none, latency/],
    ["latency without ms", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*", fault: { mode: "latency" } }, 400, /fault.ms is required/],
    ["a negative delay", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*", fault: { mode: "latency", ms: -5 } }, 400, /fault.ms must be a whole number.*number -5/],
    ["a delay as a string", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*", fault: { mode: "cold-start", ms: "100" } }, 400, /fault.ms must be.*string "100"/],
    ["an unknown fault field", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*", fault: { mode: "crash", ms: 5 } }, 400, /takes no other fields; got unknown field "ms"/],
    ["an unknown top-level field", "PUT", "/faults", { orchestrator: "orch-alpha", capability: "*", fault: { mode: "crash" }, extra: 1 }, 400, /unknown field "extra"/],
    ["a capability without orchestrator", "DELETE", "/faults?capability=depth", undefined, 400, /needs an "orchestrator"/],
    ["a wrong method", "PATCH", "/faults", undefined, 405, /PATCH is not allowed on \/faults/],
    ["an unknown path", "GET", "/nope", undefined, 404, /no admin route \/nope/],
  ])("answers %s with a clear 4xx", async (_case, method, path, body, status, message) => {
    const answer = await json(method, path, body);
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect((JSON.parse(answer.text) as { error: string }).error).toMatch(message);
    expect(JSON.parse((await json("GET", "/faults")).text)).toEqual({ faults: [] });
  });

  it("refuses a body over 64 KiB and keeps serving", async () => {
    const answer = await json("PUT", "/faults", `{"orchestrator":"${"x".repeat(70 * 1024)}"}`).catch((error: Error & { code?: string }) => error);
    if (!(answer instanceof Error)) expect(answer.status).toBe(413);
    expect((await json("GET", "/faults")).status).toBe(200);
  });
});

describe("closing", () => {
  it("close() ends hung and delayed requests and leaves no sockets, servers or timers behind", async () => {
    const baselineResources = process.getActiveResourcesInfo().filter(isNetworkOrTimer);
    const devnet = await startDevnet({ specs: DEFAULT_DEVNET_SPECS.slice(0, 2) });
    const [alpha, bravo] = devnet.orchestrators as [SimulatedOrchestrator, SimulatedOrchestrator];
    await alpha.byoc.setFault("depth", { mode: "hang" });
    await alpha.byoc.setFault("style-transfer", { mode: "latency", ms: 60_000 });
    await bravo.byoc.setFault("*", { mode: "down" });
    const hung = failure(postJob(alpha.serviceUri, "x", { capability: "depth" }));
    const delayed = failure(postJob(alpha.serviceUri, "x", { capability: "style-transfer" }));
    const h2hung = failure(
      sendH2(alpha.serviceUri, "/process/request/x", { method: "POST", headers: { Livepeer: jobHeader({ capability: "depth" }) }, body: "x" }),
    );
    await eventually(() => alpha.byoc.inFlight("depth") === 2 && alpha.byoc.inFlight("style-transfer") === 1, "requests in flight");
    expect(liveHandles()).toBeGreaterThan(baselineResources.length);

    await devnet.close();
    await devnet.close(); // idempotent
    await Promise.all([hung, delayed, h2hung]);
    expect(alpha.byoc.inFlight("depth")).toBe(0);
    await expect(alpha.byoc.setFault("depth", { mode: "none" })).rejects.toThrow(/closed/);

    for (let i = 0; i < 100 && liveHandles() > baselineResources.length; i++) await sleep(20);
    const after = countByKind(process.getActiveResourcesInfo().filter(isNetworkOrTimer));
    for (const [kind, count] of after) expect(count, kind).toBeLessThanOrEqual(countByKind(baselineResources).get(kind) ?? 0);
  });
});

/** Sockets, servers and timers; Immediates are excluded because they come and go within one loop turn. */
function isNetworkOrTimer(resource: string): boolean {
  return /TCP|TLS|Timeout|Pipe|HTTP2/i.test(resource);
}

function countByKind(resources: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resource of resources) counts.set(resource, (counts.get(resource) ?? 0) + 1);
  return counts;
}

function liveHandles(): number {
  return process.getActiveResourcesInfo().filter(isNetworkOrTimer).length;
}

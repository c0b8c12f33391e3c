// The shortcuts taken on the BYOC forwarding path must give exactly what the long way gives: the request target
// without URL parsing, the memoised job URL, the reused orchestrator header, pooled request ids and the lazily made
// child logger.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { ZeroAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { lazyChildLogger, nextRequestId, requestTarget } from "../src/api/byoc-endpoint.js";
import { ByocHttpClient, readBody } from "../src/orchestrator/byoc-http.js";
import {
  encodeOrchestratorJobHeader,
  HEADER_CACHE_ENTRIES,
  HEADER_CACHE_MAX_JOB_CHARS,
  orchestratorJobHeader,
  signJobRequest,
  type JobSigner,
  type OrchestratorJob,
} from "../src/orchestrator/byoc-job-request.js";

describe("requestTarget", () => {
  const targets = [
    "/process/request/run",
    "/process/request/",
    "/process/request",
    "/process/request/a/b/c.json",
    "/process/request/run?a=b&c=d",
    "/process/request/run?",
    "/process/request/run?a=%20b&x=1?2/3",
    "/process/request/run?q='quoted'",
    "/process/request/run?q=a b",
    "/process/request/run?q=<x>",
    "/process/request/run#fragment",
    "/process/request/run?a=1#fragment",
    "/process/request/../token",
    "/process/request/./run",
    "/process/request/%2e%2e/token",
    "/process/request/.../x",
    "/process/request/..x/y",
    "/process/request/x/..",
    "//process/request/run",
    "///process/request/run",
    "/process/request//run",
    "/process/request/a b",
    "/process/request/é",
    "/process/request/x\\..\\y",
    "/process/request/x\ty",
    "/process/request/x|y",
    "/process/request/x'y",
    "/process/request/x~y!$&()*+,;=:@-_",
    "/",
    "*",
    "",
    "process/request/run",
  ];
  it.each(targets)("%j gives what the URL parser gives", (target) => {
    const url = new URL(target, "http://gateway");
    expect(requestTarget(target)).toEqual({ pathname: url.pathname, search: url.search });
  });
});

describe("nextRequestId", () => {
  it("gives distinct 16-hex-digit ids, also across refills of its pool", () => {
    const ids = Array.from({ length: 1_500 }, () => nextRequestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("lazyChildLogger", () => {
  function capture(): { lines: string[]; stream: Writable } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    return { lines, stream };
  }

  it("makes no child until something is logged, then logs with the bindings", () => {
    const { lines, stream } = capture();
    const parent = pino({ level: "info" }, stream);
    const child = vi.spyOn(parent, "child");
    const logger = lazyChildLogger(parent, { requestId: "r1", capability: "echo" });
    expect(child).not.toHaveBeenCalled();
    logger.debug("not at this level");
    logger.warn({ attempt: 2 }, "job attempt failed");
    logger.info("again");
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(first).toMatchObject({ requestId: "r1", capability: "echo", attempt: 2, msg: "job attempt failed", level: 40 });
    expect(logger.bindings()).toEqual({ requestId: "r1", capability: "echo" });
    expect(logger.isLevelEnabled("debug")).toBe(false);
  });

  it("passes level changes and grandchildren through to the real child", () => {
    const { lines, stream } = capture();
    const logger = lazyChildLogger(pino({ level: "info" }, stream), { requestId: "r2" });
    logger.level = "debug";
    expect(logger.level).toBe("debug");
    logger.child({ attempt: 1 }).debug("deeper");
    expect(JSON.parse(lines[0] as string)).toMatchObject({ requestId: "r2", attempt: 1, msg: "deeper" });
  });
});

describe("encodeOrchestratorJobHeader reuse", () => {
  const job: OrchestratorJob = { id: "j1", request: '{"a":1}', parameters: "{}", capability: "echo", timeoutSeconds: 30 };
  // A signer whose signatures differ on every call: a reused header shows as an unchanged signature.
  function countingSigner(): JobSigner & { calls: number } {
    const signer = {
      address: "0x00000000000000000000000000000000000000a1",
      calls: 0,
      async sign(msg: Uint8Array): Promise<Uint8Array> {
        signer.calls++;
        const sig = new Uint8Array(65);
        sig[0] = signer.calls;
        sig[1] = msg.length;
        return sig;
      },
    };
    return signer;
  }

  it("is the header built and signed afresh, and signs a repeated job once", async () => {
    const signer = countingSigner();
    const header = await encodeOrchestratorJobHeader(job, signer);
    expect(signer.calls).toBe(1);
    const fresh = countingSigner();
    expect(header).toBe(orchestratorJobHeader(job, await signJobRequest(job, fresh)));
    expect(await encodeOrchestratorJobHeader({ ...job }, signer)).toBe(header);
    expect(signer.calls).toBe(1);
  });

  it("signs again when any field of the job differs, or for another signer", async () => {
    const signer = countingSigner();
    const variants: OrchestratorJob[] = [
      job,
      { ...job, id: "j2" },
      { ...job, request: '{"a":2}' },
      { ...job, parameters: '{"b":1}' },
      { ...job, capability: "echo2" },
      { ...job, timeoutSeconds: 31 },
      // The same characters split differently between the fields.
      { ...job, id: "", request: '{"a":1}', parameters: "{}", capability: "j1echo" },
      { ...job, request: '{"a":1}{', parameters: "}" },
    ];
    const headers = new Set<string>();
    for (const variant of variants) {
      const header = await encodeOrchestratorJobHeader(variant, signer);
      const decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8")) as Record<string, unknown>;
      expect(decoded).toMatchObject({ id: variant.id, request: variant.request, parameters: variant.parameters, capability: variant.capability, timeout_seconds: variant.timeoutSeconds });
      headers.add(header);
    }
    expect(signer.calls).toBe(variants.length);
    expect(headers.size).toBe(variants.length);
    const other = countingSigner();
    await encodeOrchestratorJobHeader(job, other);
    expect(other.calls).toBe(1);
    expect(await encodeOrchestratorJobHeader(job, signer, { orchSearchTimeoutNs: 7n })).not.toBe(await encodeOrchestratorJobHeader(job, signer));
  });

  it("keeps a bounded number of jobs, and never keeps large ones", async () => {
    const signer = countingSigner();
    for (let i = 0; i <= HEADER_CACHE_ENTRIES; i++) await encodeOrchestratorJobHeader({ ...job, id: `n${i}` }, signer);
    const calls = signer.calls;
    await encodeOrchestratorJobHeader({ ...job, id: "n0" }, signer); // dropped when the cache filled up
    expect(signer.calls).toBe(calls + 1);
    const large = { ...job, request: JSON.stringify({ x: "y".repeat(HEADER_CACHE_MAX_JOB_CHARS) }) };
    await encodeOrchestratorJobHeader(large, signer);
    await encodeOrchestratorJobHeader(large, signer);
    expect(signer.calls).toBe(calls + 3);
  });

  it("off-chain, reuses by address and still refuses a non-zero address without a key", async () => {
    const a = await encodeOrchestratorJobHeader(job, { address: ZeroAddress });
    expect(await encodeOrchestratorJobHeader(job, { address: ZeroAddress })).toBe(a);
    expect(JSON.parse(Buffer.from(a, "base64").toString("utf8"))).toMatchObject({ sender: ZeroAddress, sig: "" });
    for (let i = 0; i < 2; i++) {
      await expect(encodeOrchestratorJobHeader(job, { address: "0x00000000000000000000000000000000000000a1" })).rejects.toThrow(/zero address/);
    }
  });
});

describe("ByocHttpClient job URLs", () => {
  let server: http.Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? "");
      res.end(req.url);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("sends each job to its own path and query, and refuses escaping paths every time", async () => {
    const client = new ByocHttpClient();
    try {
      const send = async (serviceUri: string, path: string) => {
        const response = await client.sendJob({ serviceUri, path, headers: { Livepeer: "x" }, body: Buffer.alloc(0), headerTimeoutMs: 5_000 });
        return (await readBody(response.body, 1_000)).toString("utf8");
      };
      for (let round = 0; round < 2; round++) {
        expect(await send(base, "/process/request/run?a=1")).toBe("/process/request/run?a=1");
        expect(await send(`${base}/`, "/process/request/run?a=2")).toBe("/process/request/run?a=2");
        expect(await send(`${base}/prefix`, "/process/request/x/./y")).toBe("/prefix/process/request/x/y");
        await expect(send(base, "/process/request/../token")).rejects.toThrow(/must stay under/);
        await expect(send(base, "/process/request/%2e%2e/token")).rejects.toThrow(/must stay under/);
        await expect(client.sendJob({ serviceUri: base, path: "/process/request/run", headers: { "X-Other": "1" }, body: Buffer.alloc(0), headerTimeoutMs: 5_000 })).rejects.toThrow(/Livepeer header/);
      }
      expect(seen).toHaveLength(6);
    } finally {
      client.close();
    }
  });
});

// ByocHttpClient against tiny real servers on 127.0.0.1: HTTPS with a self-signed certificate, plain HTTP, and raw
// TCP/TLS servers for the failure modes.
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { Readable } from "node:stream";
import * as tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { selfSignedCertificate, type PemKeyPair } from "../src/devnet/cert.js";
import { offchainIdentity } from "../src/eth/identity.js";
import {
  ByocHttpClient,
  ByocHttpError,
  ByocTransportError,
  readBody,
  readBodyText,
  toTransportError,
} from "../src/orchestrator/byoc-http.js";
import { ByocTokenError, ethAddressHeader } from "../src/orchestrator/byoc-token.js";
import { TokenCache } from "../src/orchestrator/byoc-token-cache.js";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const ETH_HEADER = ethAddressHeader(offchainIdentity());
const TOKEN_JSON = '{"price":{"pixelsPerUnit":1},"service_addr":"https://127.0.0.1:1","available_capacity":3,"LastNonce":0}\n';

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: net.Server): Promise<void> {
  if ("closeAllConnections" in server) (server as http.Server).closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function transportError(promise: Promise<unknown>): Promise<ByocTransportError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ByocTransportError) return err;
    throw new Error(`expected a ByocTransportError, got ${String(err)}`);
  }
  throw new Error("expected a failure");
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let pems: PemKeyPair;
let server: https.Server;
let base: string;
let handler: Handler;
let connections = 0;
let client: ByocHttpClient;

beforeAll(async () => {
  pems = await selfSignedCertificate("127.0.0.1");
  server = https.createServer({ key: pems.key, cert: pems.cert }, (req, res) => handler(req, res));
  server.on("secureConnection", () => connections++);
  base = `https://127.0.0.1:${await listen(server)}`;
});

afterAll(async () => {
  await closeServer(server);
});

afterEach(() => {
  client.close();
  server.closeAllConnections();
});

function freshClient(options?: ConstructorParameters<typeof ByocHttpClient>[0]): ByocHttpClient {
  client = new ByocHttpClient(options);
  return client;
}

describe("fetchToken", () => {
  it("sends the token request headers and parses the answer", async () => {
    const seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders } = {};
    handler = (req, res) => {
      Object.assign(seen, { method: req.method, url: req.url, headers: req.headers });
      res.setHeader("Content-Type", "application/json");
      res.end(TOKEN_JSON);
    };
    const token = await freshClient().fetchToken({ serviceUri: `${base}/`, capability: "text-reversal", ethAddressHeader: ETH_HEADER });
    expect(token.availableCapacity).toBe(3);
    expect(token.serviceAddr).toBe("https://127.0.0.1:1");
    expect(seen.method).toBe("GET");
    expect(seen.url).toBe("/process/token");
    expect(seen.headers?.["livepeer-eth-address"]).toBe(ETH_HEADER);
    expect(seen.headers?.["livepeer-capability"]).toBe("text-reversal");
  });

  it("reuses one keep-alive connection for sequential requests", async () => {
    const ports: number[] = [];
    handler = (req, res) => {
      ports.push(req.socket.remotePort ?? -1);
      res.end(TOKEN_JSON);
    };
    freshClient();
    const before = connections;
    for (let i = 0; i < 3; i++) {
      await client.fetchToken({ serviceUri: base, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 5_000 });
    }
    expect(connections - before).toBe(1);
    expect(new Set(ports).size).toBe(1);
  });

  it("turns a non-200 answer into ByocHttpError with the body text, bounded", async () => {
    handler = (_req, res) => {
      res.statusCode = 400;
      res.end("Invalid eth address header \n");
    };
    freshClient();
    const err = await client.fetchToken({ serviceUri: base, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ByocHttpError);
    expect(err).toMatchObject({ status: 400, bodyText: "Invalid eth address header \n", target: `${base}/process/token` });
    expect((err as Error).message).toBe(`${base}/process/token answered 400: Invalid eth address header`);

    handler = (_req, res) => {
      res.statusCode = 503;
      res.end("x".repeat(100_000));
    };
    const big = await client.fetchToken({ serviceUri: base, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(big).toMatchObject({ status: 503 });
    expect((big as ByocHttpError).bodyText).toHaveLength(4096);
  });

  it("rejects a token that does not parse with ByocTokenError naming the orchestrator", async () => {
    handler = (_req, res) => res.end('{"service_addr":"ftp://x"}');
    const err = await freshClient()
      .fetchToken({ serviceUri: base, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 5_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ByocTokenError);
    expect(err).toMatchObject({ orchestrator: base, field: "service_addr" });
  });

  it("times out over the whole exchange, body included", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"service_addr":'); // and never the rest
    };
    const err = await transportError(
      freshClient().fetchToken({ serviceUri: base, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 150 }),
    );
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe(`${base}/process/token: no token within 150 ms`);
  });

  it("retries once on a fresh connection when a reused idle one turns out dead", async () => {
    const served = new WeakSet<net.Socket>();
    handler = (req, res) => {
      if (served.has(req.socket)) {
        req.socket.destroy(); // as an orchestrator that closed the idle connection would look
        return;
      }
      served.add(req.socket);
      res.end(TOKEN_JSON);
    };
    freshClient();
    const before = connections;
    const options = { serviceUri: base, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 5_000 };
    await client.fetchToken(options);
    const token = await client.fetchToken(options);
    expect(token.availableCapacity).toBe(3);
    expect(connections - before).toBe(2);
  });
});

describe("sendJob", () => {
  it("posts path, query, headers and body, and streams the answer", async () => {
    const release = deferred();
    const seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { "Content-Type": "text/event-stream", "Livepeer-Payment-Balance": "42" });
        res.write("data: one\n\n");
        void release.promise.then(() => res.end("data: [DONE]\n\n"));
      });
    };
    const response = await freshClient().sendJob({
      serviceUri: base,
      path: "/process/request/reverse?x=1&y=2",
      headers: { Livepeer: "aGVhZGVy", "Livepeer-Payment": "cGF5", "Content-Type": "text/plain", Host: "evil", "Content-Length": "1" },
      body: Buffer.from("hello"),
      headerTimeoutMs: 5_000,
    });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream");
    expect(response.headers["livepeer-payment-balance"]).toBe("42");
    expect(seen).toMatchObject({ method: "POST", url: "/process/request/reverse?x=1&y=2", body: "hello" });
    expect(seen.headers).toMatchObject({
      livepeer: "aGVhZGVy",
      "livepeer-payment": "cGF5",
      "content-type": "text/plain",
      "content-length": "5",
      host: base.slice("https://".length),
    });
    // The first event arrives while the orchestrator still holds the stream open.
    const first = await firstChunk(response.body);
    expect(first).toBe("data: one\n\n");
    release.resolve();
    expect((await readBody(response.body, 1024)).toString()).toBe("data: [DONE]\n\n");
  });

  it("passes any status through with its body", async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end("No capacity available for capability\n");
    };
    const response = await freshClient().sendJob({
      serviceUri: base,
      path: "/process/request/x",
      headers: { Livepeer: "e30=" },
      body: Buffer.alloc(0),
      headerTimeoutMs: 5_000,
    });
    expect(response.status).toBe(503);
    expect(await readBodyText(response.body, 4096)).toBe("No capacity available for capability\n");
  });

  it("refuses paths outside /process/request/ and a missing Livepeer header, without sending", async () => {
    let requests = 0;
    handler = (_req, res) => {
      requests++;
      res.end();
    };
    freshClient();
    for (const path of ["/process/request/../token", "/process/request/%2e%2e/%2E%2E/capability/register", "/process/token", "process/request/x", "/process/requestx"]) {
      await expect(
        client.sendJob({ serviceUri: base, path, headers: { Livepeer: "e30=" }, body: Buffer.alloc(0), headerTimeoutMs: 1_000 }),
      ).rejects.toThrow(/a BYOC job path must stay under \/process\/request\//);
    }
    await expect(
      client.sendJob({ serviceUri: base, path: "/process/request/x", headers: {}, body: Buffer.alloc(0), headerTimeoutMs: 1_000 }),
    ).rejects.toThrow("a BYOC job needs its Livepeer header");
    expect(requests).toBe(0);
  });

  it("times out when no response headers arrive", async () => {
    handler = () => undefined; // never answers
    const err = await transportError(
      freshClient().sendJob({
        serviceUri: base,
        path: "/process/request/slow?secret=hunter2",
        headers: { Livepeer: "e30=" },
        body: Buffer.from("x"),
        headerTimeoutMs: 100,
      }),
    );
    expect(err.kind).toBe("timeout");
    expect(err.code).toBe("ETIMEDOUT");
    expect(err.message).toBe(`${base}/process/request/slow: no response headers within 100 ms`);
    expect(err.message).not.toContain("hunter2");
  });

  it("a job slower than the idle-socket timeout is not cut off", async () => {
    handler = (_req, res) => {
      setTimeout(() => res.end("done"), 300);
    };
    const response = await freshClient({ idleSocketTimeoutMs: 50 }).sendJob({
      serviceUri: base,
      path: "/process/request/slow",
      headers: { Livepeer: "e30=" },
      body: Buffer.from("x"),
      headerTimeoutMs: 10_000,
    });
    expect(response.status).toBe(200);
    expect((await readBody(response.body, 100)).toString()).toBe("done");
  });

  it("is cancelled by the caller's signal before the answer", async () => {
    const arrived = deferred();
    handler = () => arrived.resolve();
    const controller = new AbortController();
    const sending = freshClient().sendJob({
      serviceUri: base,
      path: "/process/request/x",
      headers: { Livepeer: "e30=" },
      body: Buffer.from("x"),
      signal: controller.signal,
      headerTimeoutMs: 10_000,
    });
    await arrived.promise;
    controller.abort();
    const err = await transportError(sending);
    expect(err.kind).toBe("aborted");

    // Already aborted: nothing is sent.
    const err2 = await transportError(
      client.sendJob({
        serviceUri: base,
        path: "/process/request/x",
        headers: { Livepeer: "e30=" },
        body: Buffer.from("x"),
        signal: AbortSignal.abort(),
        headerTimeoutMs: 10_000,
      }),
    );
    expect(err2.kind).toBe("aborted");
  });

  it("is cancelled by the caller's signal while the body streams", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write("data: one\n\n"); // then nothing
    };
    const controller = new AbortController();
    const response = await freshClient().sendJob({
      serviceUri: base,
      path: "/process/request/x",
      headers: { Livepeer: "e30=" },
      body: Buffer.alloc(0),
      signal: controller.signal,
      headerTimeoutMs: 5_000,
    });
    expect(await firstChunk(response.body)).toBe("data: one\n\n");
    const reading = readBody(response.body, 1024);
    controller.abort();
    const err = await transportError(reading);
    expect(err.kind).toBe("aborted");
  });

  it("reports a connection the orchestrator drops as a reset", async () => {
    handler = (req) => req.socket.destroy();
    const err = await transportError(
      freshClient().sendJob({ serviceUri: base, path: "/process/request/x", headers: { Livepeer: "e30=" }, body: Buffer.from("x"), headerTimeoutMs: 5_000 }),
    );
    expect(err.kind).toBe("reset");
    expect(err.code).toBe("ECONNRESET");
    expect(err.target).toBe(`${base}/process/request/x`);
  });

  it("reports a body cut short as a reset when it is read", async () => {
    handler = (req, res) => {
      res.writeHead(200, { "Content-Length": "100" });
      res.write("partial");
      setImmediate(() => req.socket.destroy());
    };
    const response = await freshClient().sendJob({
      serviceUri: base,
      path: "/process/request/x",
      headers: { Livepeer: "e30=" },
      body: Buffer.alloc(0),
      headerTimeoutMs: 5_000,
    });
    const err = await transportError(readBody(response.body, 1024));
    expect(err.kind).toBe("reset");
  });

  it("bounds readBody", async () => {
    handler = (_req, res) => res.end("y".repeat(5_000));
    const response = await freshClient().sendJob({
      serviceUri: base,
      path: "/process/request/x",
      headers: { Livepeer: "e30=" },
      body: Buffer.alloc(0),
      headerTimeoutMs: 5_000,
    });
    const err = await transportError(readBody(response.body, 1_000));
    expect(err.kind).toBe("protocol");
    expect(err.message).toBe("response body is larger than 1000 bytes");
  });
});

describe("transport failures", () => {
  const job = (serviceUri: string): Parameters<ByocHttpClient["sendJob"]>[0] => ({
    serviceUri,
    path: "/process/request/x",
    headers: { Livepeer: "e30=" },
    body: Buffer.from("x"),
    headerTimeoutMs: 5_000,
  });

  it("connection refused is a connect failure", async () => {
    const port = await closedPort();
    const err = await transportError(
      freshClient().fetchToken({ serviceUri: `https://127.0.0.1:${port}`, capability: "c", ethAddressHeader: ETH_HEADER, timeoutMs: 5_000 }),
    );
    expect(err.kind).toBe("connect");
    expect(err.code).toBe("ECONNREFUSED");
    expect(err.message).toContain(`https://127.0.0.1:${port}/process/token`);
  });

  it("a server that accepts but never completes the handshake hits the connect timeout", async () => {
    const accepted = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      accepted.add(socket);
      socket.on("error", () => undefined);
    });
    const port = await listen(silent);
    try {
      const err = await transportError(freshClient({ connectTimeoutMs: 100 }).sendJob(job(`https://127.0.0.1:${port}`)));
      expect(err.kind).toBe("connect");
      expect(err.code).toBe("ETIMEDOUT");
      expect(err.message).toBe(`https://127.0.0.1:${port}/process/request/x: could not connect (TCP and TLS) within 100 ms`);
    } finally {
      for (const socket of accepted) socket.destroy();
      await closeServer(silent);
    }
  });

  it("plain HTTP on a TLS URL is a TLS failure", async () => {
    const plain = http.createServer((_req, res) => res.end("hi"));
    const port = await listen(plain);
    try {
      const err = await transportError(freshClient().sendJob(job(`https://127.0.0.1:${port}`)));
      expect(err.kind).toBe("tls");
    } finally {
      await closeServer(plain);
    }
  });

  it("a malformed HTTP answer is a protocol failure", async () => {
    const garbage = tls.createServer({ key: pems.key, cert: pems.cert }, (socket) => {
      socket.on("data", () => socket.end("HELLO THERE\r\n\r\n"));
      socket.on("error", () => undefined);
    });
    const port = await listen(garbage);
    try {
      const err = await transportError(freshClient().sendJob(job(`https://127.0.0.1:${port}`)));
      expect(err.kind).toBe("protocol");
      expect(err.code).toMatch(/^HPE_/);
    } finally {
      await closeServer(garbage);
    }
  });

  it("speaks plain HTTP to http:// orchestrators", async () => {
    const plain = http.createServer((_req, res) => res.end(TOKEN_JSON));
    const port = await listen(plain);
    try {
      const token = await freshClient().fetchToken({
        serviceUri: `http://127.0.0.1:${port}`,
        capability: "c",
        ethAddressHeader: ETH_HEADER,
        timeoutMs: 5_000,
      });
      expect(token.availableCapacity).toBe(3);
    } finally {
      await closeServer(plain);
    }
  });

  it("a closed client refuses requests", async () => {
    freshClient().close();
    const err = await transportError(client.sendJob(job(base)));
    expect(err.kind).toBe("aborted");
  });

  it("toTransportError classifies Node error codes", () => {
    const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });
    const cases: [Error, string][] = [
      [withCode("ECONNREFUSED"), "connect"],
      [withCode("EHOSTUNREACH"), "connect"],
      [withCode("ENOTFOUND"), "connect"],
      [withCode("ECONNRESET", "socket hang up"), "reset"],
      [withCode("EPIPE"), "reset"],
      [withCode("ETIMEDOUT"), "timeout"],
      [withCode("ERR_SSL_WRONG_VERSION_NUMBER"), "tls"],
      [withCode("EPROTO"), "tls"],
      [withCode("HPE_INVALID_CONSTANT"), "protocol"],
      [withCode("ABORT_ERR"), "aborted"],
      [new Error("socket hang up"), "reset"],
    ];
    for (const [error, kind] of cases) {
      const mapped = toTransportError(error, "https://o:1/process/token");
      expect(mapped.kind).toBe(kind);
      expect(mapped.message).toBe(`https://o:1/process/token: ${error.message}`);
    }
  });
});

describe("TokenCache over ByocHttpClient", () => {
  it("shares one token request among concurrent jobs", async () => {
    let requests = 0;
    handler = (_req, res) => {
      requests++;
      res.end(TOKEN_JSON);
    };
    freshClient();
    const cache = new TokenCache({
      fetch: (serviceUri, capability, signal) =>
        client.fetchToken({ serviceUri, capability, ethAddressHeader: ETH_HEADER, signal, timeoutMs: 5_000 }),
    });
    try {
      const tokens = await Promise.all([1, 2, 3, 4].map(() => cache.get(base, "c")));
      expect(new Set(tokens).size).toBe(1);
      expect(requests).toBe(1);
    } finally {
      cache.close();
    }
  });
});

async function firstChunk(body: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      body.off("error", reject);
      body.pause();
      resolve(chunk.toString());
    };
    body.once("data", onData);
    body.once("error", reject);
  });
}

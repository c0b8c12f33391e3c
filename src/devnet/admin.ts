// The devnet's admin endpoint: plaintext HTTP/1.1 JSON on 127.0.0.1 to switch BYOC faults while the network runs
// (e.g. from curl during a demo, or from a test in another process).
//
//   GET    /                 what this endpoint offers
//   GET    /orchestrators    every orchestrator: name, gRPC URI, service URI, address, BYOC capability counters
//   GET    /faults           {"faults":[{"orchestrator":"orch-alpha","capability":"*","fault":{"mode":"latency","ms":200}}]}
//   PUT    /faults           body {"orchestrator":"orch-alpha","capability":"depth" | "*","fault":{"mode":…,…}};
//                            answers the faults now set; mode "none" clears that one
//   DELETE /faults           clears every fault; ?orchestrator=…[&capability=…] (or the same as a JSON body)
//                            clears only those
// PUT and DELETE change state, so they need `Authorization: Bearer <token>` (401 without it); with no token
// configured they are refused (403). Reads are open: the endpoint listens on loopback only.
// Errors answer {"error":"<what was wrong, naming the value>"} with 400 (bad input), 401/403 (see above), 404
// (unknown orchestrator, capability or path), 405 (method), 413 (body over 64 KiB) or 500. Nothing a client sends can
// stop the process.
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ALL_CAPABILITIES, BYOC_FAULT_MODES, FaultInputError, FaultTargetError, parseByocFault } from "./byoc-faults.js";
import type { SimulatedOrchestrator } from "./orchestrator.js";
import { bearerMatches } from "../api/bearer-token.js";

const LOOPBACK = "127.0.0.1";
const MAX_BODY_BYTES = 64 * 1024;

export interface DevnetAdmin {
  /** "http://127.0.0.1:<port>" */
  readonly uri: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface DevnetAdminOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Bearer token that PUT and DELETE need; without one they are refused. */
  readonly token?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface FaultListing {
  readonly orchestrator: string;
  readonly capability: string;
  readonly fault: unknown;
}

export async function startDevnetAdmin(
  orchestrators: readonly SimulatedOrchestrator[],
  options: DevnetAdminOptions = {},
): Promise<DevnetAdmin> {
  const byName = new Map(orchestrators.map((orchestrator) => [orchestrator.spec.name, orchestrator]));
  const sockets = new Set<Socket>();

  function orchestratorNamed(name: unknown): SimulatedOrchestrator {
    if (typeof name !== "string" || name === "") {
      throw new HttpError(400, `"orchestrator" must be an orchestrator name (one of ${[...byName.keys()].join(", ")})`);
    }
    const found = byName.get(name);
    if (!found) throw new HttpError(404, `no orchestrator named ${JSON.stringify(name)} (known: ${[...byName.keys()].join(", ")})`);
    return found;
  }

  function capabilityOf(orchestrator: SimulatedOrchestrator, capability: unknown): string {
    if (typeof capability !== "string" || capability === "") {
      throw new HttpError(400, `"capability" must be a BYOC capability name of ${orchestrator.spec.name} or "*" for all of them`);
    }
    if (capability !== ALL_CAPABILITIES && !orchestrator.byoc.capabilities.includes(capability)) {
      const known = orchestrator.byoc.capabilities;
      throw new HttpError(
        404,
        `orchestrator ${orchestrator.spec.name} has no BYOC capability ${JSON.stringify(capability)} (it has ${known.length > 0 ? known.join(", ") : "none"}; "*" means all)`,
      );
    }
    return capability;
  }

  function listFaults(): { faults: FaultListing[] } {
    const faults: FaultListing[] = [];
    for (const orchestrator of orchestrators) {
      const set = [...orchestrator.byoc.faults()].sort(([a], [b]) => (a === b ? 0 : a < b ? -1 : 1));
      for (const [capability, fault] of set) faults.push({ orchestrator: orchestrator.spec.name, capability, fault });
    }
    return { faults };
  }

  function listOrchestrators(): unknown {
    return {
      orchestrators: orchestrators.map((orchestrator) => ({
        name: orchestrator.spec.name,
        uri: orchestrator.uri,
        serviceUri: orchestrator.serviceUri,
        address: orchestrator.address,
        byocListening: orchestrator.byoc.listening,
        byoc: orchestrator.byoc.capabilities.map((name) => {
          const stats = orchestrator.byoc.stats(name);
          return { ...stats, pricePerUnit: stats?.pricePerUnit.toString(), fault: orchestrator.byoc.effectiveFault(name) };
        }),
      })),
    };
  }

  async function putFault(body: unknown): Promise<unknown> {
    const request = jsonObject(body, `{"orchestrator":"orch-alpha","capability":"depth","fault":{"mode":"latency","ms":200}}`);
    for (const key of Object.keys(request)) {
      if (!["orchestrator", "capability", "fault"].includes(key)) {
        throw new HttpError(400, `unknown field ${JSON.stringify(key)}: expected orchestrator, capability and fault`);
      }
    }
    const orchestrator = orchestratorNamed(request.orchestrator);
    const capability = capabilityOf(orchestrator, request.capability);
    if (request.fault === undefined) {
      throw new HttpError(400, `"fault" is required, e.g. {"mode":"latency","ms":200}; modes: ${BYOC_FAULT_MODES.join(", ")}`);
    }
    await orchestrator.byoc.setFault(capability, parseByocFault(request.fault));
    return listFaults();
  }

  async function deleteFaults(query: URLSearchParams, body: unknown): Promise<unknown> {
    let target: Record<string, unknown> = Object.fromEntries(query);
    if (body !== undefined) {
      if (query.size > 0) throw new HttpError(400, "give the faults to clear either in the query string or in the body, not both");
      target = jsonObject(body, `{"orchestrator":"orch-alpha","capability":"depth"}`);
    }
    for (const key of Object.keys(target)) {
      if (key !== "orchestrator" && key !== "capability") {
        throw new HttpError(400, `unknown field ${JSON.stringify(key)}: expected orchestrator and capability`);
      }
    }
    if (target.orchestrator === undefined) {
      if (target.capability !== undefined) throw new HttpError(400, `"capability" needs an "orchestrator"`);
      await Promise.all(orchestrators.map((orchestrator) => orchestrator.byoc.clearFaults()));
      return listFaults();
    }
    const orchestrator = orchestratorNamed(target.orchestrator);
    if (target.capability === undefined) await orchestrator.byoc.clearFaults();
    else await orchestrator.byoc.setFault(capabilityOf(orchestrator, target.capability), { mode: "none" });
    return listFaults();
  }

  function authorize(req: http.IncomingMessage): void {
    if (options.token === undefined) {
      throw new HttpError(403, "switching faults needs an admin token: start the gateway with -adminToken");
    }
    if (!bearerMatches(req.headers.authorization, options.token)) {
      throw Object.assign(new HttpError(401, "switching faults needs Authorization: Bearer <the -adminToken>"), { authenticate: true });
    }
  }

  async function handle(req: http.IncomingMessage): Promise<unknown> {
    const url = new URL(req.url ?? "/", "http://admin.invalid");
    const method = req.method ?? "";
    const route = url.pathname.replace(/\/+$/, "") || "/";
    const allow = (methods: string): never => {
      throw Object.assign(new HttpError(405, `${method} is not allowed on ${route}; use ${methods}`), { allow: methods });
    };
    switch (route) {
      case "/":
        if (method !== "GET") allow("GET");
        return {
          service: "Livepeer devnet admin (simulated orchestrators)",
          endpoints: {
            "GET /orchestrators": "orchestrators, their URIs and BYOC counters",
            "GET /faults": "the BYOC faults in force",
            "PUT /faults": '{"orchestrator":"orch-alpha","capability":"depth" | "*","fault":{"mode":"latency","ms":200}}',
            "DELETE /faults": "clear all faults, or ?orchestrator=…[&capability=…]",
          },
          modes: BYOC_FAULT_MODES,
        };
      case "/orchestrators":
        if (method !== "GET") allow("GET");
        return listOrchestrators();
      case "/faults":
        if (method === "GET") return listFaults();
        if (method === "PUT" || method === "POST" || method === "DELETE") authorize(req);
        if (method === "PUT" || method === "POST") return putFault(await readJson(req, true));
        if (method === "DELETE") return deleteFaults(url.searchParams, await readJson(req, false));
        return allow("GET, PUT, DELETE");
      default:
        throw new HttpError(404, `no admin route ${route}; try GET /, /orchestrators or /faults`);
    }
  }

  const server = http.createServer((req, res) => {
    const reply = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.destroyed) return;
      // A body left unread (e.g. too large) must not be read as the next request: close after answering.
      if (!req.complete) headers = { ...headers, Connection: "close" };
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(`${JSON.stringify(value)}\n`);
    };
    handle(req).then(
      (value) => reply(200, value),
      (error: unknown) => {
        if (error instanceof HttpError) {
          const { allow, authenticate } = error as HttpError & { allow?: string; authenticate?: boolean };
          const headers: Record<string, string> = allow ? { Allow: allow } : {};
          if (authenticate) headers["WWW-Authenticate"] = 'Bearer realm="devnet admin"';
          reply(error.status, { error: error.message }, headers);
        } else if (error instanceof FaultInputError) {
          reply(400, { error: error.message });
        } else if (error instanceof FaultTargetError) {
          reply(404, { error: error.message });
        } else {
          reply(500, { error: `admin request failed: ${error instanceof Error ? error.message : String(error)}` });
        }
      },
    );
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: Error) => reject(new Error(`devnet admin could not listen on ${LOOPBACK}:${options.port ?? 0}: ${error.message}`)));
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  server.removeAllListeners("error");
  server.on("error", () => undefined);
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    uri: `http://${LOOPBACK}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function jsonObject(value: unknown, example: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, `the body must be a JSON object like ${example}`);
  }
  return value as Record<string, unknown>;
}

/** The JSON body; undefined when empty and not required. */
async function readJson(req: http.IncomingMessage, required: boolean): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") {
    if (required) throw new HttpError(400, "a JSON body is required");
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

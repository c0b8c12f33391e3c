// The BYOC side of a simulated go-livepeer orchestrator: GET /process/token and POST /process/request/<path> on
// its own port (grpc-js cannot share one), HTTPS with the orchestrator's self-signed certificate offering h2 and
// HTTP/1.1, or plaintext HTTP/1.1. Answers follow byoc/job_orchestrator.go byte for byte where go-livepeer's
// answer is observable; the worker behind it is in-process (byoc-worker.ts) and faults switch at run time.
//
// Deliberate differences from go-livepeer, for a simulator:
//  - prices are the spec's (floored to whole wei per second) although no ticket params are offered, and no balance
//    is required: jobs are free to run, the balance is always 0 — unless `payments` (on-chain mode) is set: then a
//    SimulatedPayee (payee.ts) issues ticket params in tokens, receives Livepeer-Payment, requires 60 s of price in
//    balance and debits ceil(elapsed s) × price, as go-livepeer's confirmPayment and chargeForCompute do;
//  - a signature of exactly "0x" passes as empty unless rejectBareSigPrefix (go-livepeer#3905);
//  - the capacity slot is released on every path (go-livepeer leaks it on worker timeouts and connection errors);
//  - after an SSE worker's stream ends the response ends (go-livepeer keeps writing blank lines until
//    timeout_seconds runs out).
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { PemKeyPair } from "./cert.js";
import {
  ALL_CAPABILITIES,
  ColdStart,
  FaultTargetError,
  NO_FAULT,
  faultWorkerResponse,
  validateByocFault,
  type ByocFault,
} from "./byoc-faults.js";
import {
  BALANCE_HEADER,
  BYOC_ERRORS,
  CAPABILITY_HEADER,
  DEADLINE_EXCEEDED,
  ETH_ADDRESS_HEADER,
  LIVEPEER_HEADER,
  METADATA_HEADER,
  SSE_BALANCE_HEADER,
  decodeJobRequest,
  decodeJobSender,
  encodeJobToken,
  goHexToAddress,
  goScanLines,
  goVerifySig,
  jobDetailsError,
  signatureBytes,
  sseBalanceLine,
  workerFailureMessage,
  type ByocJobRequest,
  type JobSender,
  type TicketParamsInit,
} from "./byoc-wire.js";
import { deterministicWorker, type ByocWorker, type WorkerResponse } from "./byoc-worker.js";
import { goFloatString, tokenBalance, type ByocPayments } from "./payee.js";
import { compareRatios, ratio, type Ratio } from "../network/price.js";
import { BYOC_MIN_BALANCE_SECONDS } from "../payments/expected-value.js";
import { decodePaymentHeader, PAYMENT_HEADER } from "../payments/payment.js";
import type { SimulatedByocCapability, SimulatedOrchestratorSpec } from "./spec.js";

const LOOPBACK = "127.0.0.1";
const TOKEN_PATH = "/process/token";
const REQUEST_PREFIX = "/process/request/";
/** Request bodies above this are refused (go-livepeer has no limit; a test process needs one). */
export const MAX_JOB_BODY_BYTES = 64 * 1024 * 1024;
/** How many recent job requests are kept for inspection. */
export const RECENT_JOBS_KEPT = 32;
/** setTimeout's ceiling. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Seam for on-chain work: ticket params offered to `sender` (EIP-55) for a capability; none off-chain. */
export type ByocTicketParamsProvider = (sender: string, capability: string) => TicketParamsInit | undefined;

export interface ByocServerOptions {
  readonly spec: SimulatedOrchestratorSpec;
  /** Certificate for HTTPS (h2 and HTTP/1.1); absent serves plaintext HTTP/1.1. */
  readonly tls?: PemKeyPair;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /**
   * Check the Livepeer-Eth-Address and job signatures as an on-chain orchestrator does. Default false: an
   * off-chain go-livepeer orchestrator's VerifySig accepts anything (the signature must still be valid hex).
   */
  readonly verifySignatures?: boolean;
  /**
   * Refuse the signature "0x" (what an off-chain go-livepeer gateway sends) as go-livepeer at the reference commit
   * does (livepeer/go-livepeer#3905): its hex decoding fails before VerifySig. Default false: "0x" reads as an
   * empty signature, as with that fix.
   */
  readonly rejectBareSigPrefix?: boolean;
  readonly ticketParams?: ByocTicketParamsProvider;
  /**
   * On-chain mode: tokens carry the payee's ticket params and real balance, jobs pay (Livepeer-Payment) and are
   * charged, and signatures are verified whatever verifySignatures says. Default: off.
   * Supersedes `ticketParams`.
   */
  readonly payments?: ByocPayments;
  /** The worker behind every capability; default deterministicWorker. */
  readonly worker?: ByocWorker;
  /** Clock for cold starts (ms). */
  readonly now?: () => number;
}

/** One job request as O received it, for tests to check what a gateway sent. */
export interface ByocJobRecord {
  readonly method: string;
  /** The URL path, decoded, e.g. "/process/request/reverse". */
  readonly path: string;
  /** What O forwards to W: the path after "/process/request/". */
  readonly workerPath: string;
  /** The query string, which O ignores ("" when none). */
  readonly query: string;
  readonly httpVersion: string;
  /** Request headers, names in lower case, repeated values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The decoded `Livepeer` header. */
  readonly job: ByocJobRequest;
  /** The request body once read (undefined if the request ended before). */
  readonly body: Buffer | undefined;
}

export interface ByocCapabilityStats {
  readonly name: string;
  readonly capacity: number;
  readonly inFlight: number;
  readonly availableCapacity: number;
  /** Whole wei per second, as /process/token states it. */
  readonly pricePerUnit: bigint;
  /** Job requests whose `Livepeer` header named this capability (whatever became of them). */
  readonly jobsReceived: number;
  /** Jobs answered with W's 2xx answer. */
  readonly jobsSucceeded: number;
  readonly tokensServed: number;
  /** Cold-start warm-ups so far. */
  readonly coldStarts: number;
  /** False while a `down` fault unregisters it. */
  readonly registered: boolean;
}

/** The BYOC HTTP side of a simulated orchestrator. */
export interface SimulatedByoc {
  /** "https://127.0.0.1:<port>" or "http://…": the orchestrator's service URI (OrchestratorInfo.transcoder). */
  readonly uri: string;
  readonly port: number;
  /** False while a "*" `down` fault keeps the port closed. */
  readonly listening: boolean;
  /** The spec's BYOC capability names. */
  readonly capabilities: readonly string[];
  /**
   * Sets the fault of one capability, or of all of them with "*" (a capability's own fault wins over "*").
   * Mode "none" clears it. Resolves once in force (a "*" `down` has closed the port, clearing it has reopened
   * it). Rejects with FaultInputError for a bad fault, FaultTargetError for an unknown capability.
   */
  setFault(capability: string, fault: ByocFault): Promise<void>;
  /** Clears every fault. */
  clearFaults(): Promise<void>;
  /** The faults set, by capability key ("*" included). */
  faults(): ReadonlyMap<string, ByocFault>;
  /** The fault a job for `capability` meets. */
  effectiveFault(capability: string): ByocFault;
  /** Whether `capability` is registered now (known to the spec and not `down`). */
  isRegistered(capability: string): boolean;
  stats(capability: string): ByocCapabilityStats | undefined;
  /** Job requests received, for one capability or in total (unknown capability names included). */
  jobsReceived(capability?: string): number;
  /** Tokens served, for one capability or in total (unknown capability names included). */
  tokensServed(capability?: string): number;
  /** Jobs in flight for a capability. */
  inFlight(capability: string): number;
  /** The last job request whose `Livepeer` header decoded. */
  readonly lastJob: ByocJobRecord | undefined;
  /** The last RECENT_JOBS_KEPT such requests, oldest first. */
  readonly recentJobs: readonly ByocJobRecord[];
  /** Stops listening, ends every request (hung ones included) and releases every socket and timer. Idempotent. */
  close(): Promise<void>;
}

interface CapabilityState {
  readonly spec: SimulatedByocCapability;
  readonly price: bigint;
  inFlight: number;
  jobsReceived: number;
  jobsSucceeded: number;
  tokensServed: number;
  coldStarts: number;
}

interface FaultEntry {
  readonly fault: ByocFault;
  /** Per capability, for cold-start faults. */
  readonly cold: Map<string, ColdStart>;
}

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What both HTTP/1.1 and HTTP/2 compatibility responses offer, as used here. */
interface ResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  setHeader(name: string, value: string): unknown;
  removeHeader(name: string): void;
  write(chunk: string | Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  once(event: "close", listener: () => void): unknown;
}

/** One request and its response, whichever HTTP version carried them. */
class Exchange {
  readonly res: ResponseLike;
  readonly h2: boolean;
  readonly path: string;
  readonly query: string;

  constructor(
    readonly req: AnyRequest,
    res: AnyResponse,
  ) {
    this.res = res as unknown as ResponseLike;
    this.h2 = req.httpVersionMajor === 2;
    const url = new URL(req.url ?? "/", "http://orchestrator.invalid");
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {
      // Left encoded; routes are matched on it as sent.
    }
    this.path = path;
    this.query = url.search.replace(/^\?/, "");
  }

  get method(): string {
    return this.req.method ?? "";
  }

  /** Go's r.Header.Get: the first value, "" when absent. */
  header(name: string): string {
    const value = this.req.headers[name.toLowerCase()];
    return (Array.isArray(value) ? value[0] : value) ?? "";
  }

  headers(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.req.headers)) {
      if (name.startsWith(":") || value === undefined) continue;
      out[name] = Array.isArray(value) ? value.join(", ") : String(value);
    }
    return out;
  }

  /** Go's http.Error: text/plain, nosniff, the message and a newline. Headers set before are kept. */
  goError(status: number, message: string): void {
    if (this.res.headersSent || this.res.writableEnded) return;
    this.res.setHeader("Content-Type", "text/plain; charset=utf-8");
    this.res.setHeader("X-Content-Type-Options", "nosniff");
    this.res.removeHeader("Content-Length");
    this.res.statusCode = status;
    this.res.end(`${message}\n`);
  }

  /** Ends the exchange without an answer, as a panicking Go handler does: RST_STREAM on h2, a closed connection on h1. */
  drop(): void {
    if (this.h2) (this.req as http2.Http2ServerRequest).stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else (this.req as http.IncomingMessage).socket.destroy();
  }
}

class BodyTooLarge extends Error {}

async function readBody(req: AnyRequest, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts; leaves no timer behind either way. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves when `signal` aborts. */
function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

function listen(server: http.Server | http2.Http2SecureServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(new Error(`simulated BYOC server could not listen on ${LOOPBACK}:${port}: ${error.message}`));
    server.once("error", onError);
    server.listen(port, LOOPBACK, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A job's charge (on-chain mode): start the clock, charge ceil(elapsed s) × price, read the balance. */
interface JobBilling {
  start(): void;
  /** Debits and returns the Livepeer-Balance value (balance FloatString(0)). */
  charge(): string;
  balance(): Ratio;
}

const OFF_CHAIN_BILLING: JobBilling = { start: () => undefined, charge: () => "0", balance: () => ratio(0n) };

/** The line O inserts before `[DONE]`: `data: {"balance": <bal.FloatString(3)>}` and a blank line. */
function sseRatioBalanceLine(balance: Ratio): string {
  return `data: {"balance": ${goFloatString(balance, 3)}}\n\n`;
}

/** byoc/job_orchestrator.go errInsufficientBalance. */
export const INSUFFICIENT_BALANCE = "Insufficient balance for request";

export async function startByocServer(options: ByocServerOptions): Promise<SimulatedByoc> {
  const { spec } = options;
  const payments = options.payments;
  // An on-chain orchestrator always checks the token and job signatures.
  const verifySignatures = options.verifySignatures === true || payments !== undefined;
  const worker = options.worker ?? deterministicWorker;
  const now = options.now ?? Date.now;
  const capabilities = new Map<string, CapabilityState>(
    spec.byoc.map((capability) => [
      capability.name,
      {
        spec: capability,
        price: capability.pricePerSecond.num / capability.pricePerSecond.den,
        inFlight: 0,
        jobsReceived: 0,
        jobsSucceeded: 0,
        tokensServed: 0,
        coldStarts: 0,
      },
    ]),
  );
  /** Counts for capability names the spec does not have. */
  let unknownJobs = 0;
  let unknownTokens = 0;
  const faults = new Map<string, FaultEntry>();
  const recentJobs: ByocJobRecord[] = [];
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const active = new Set<AbortController>();
  let closed = false;
  let listening = false;

  const server: http.Server | http2.Http2SecureServer = options.tls
    ? http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true })
    : http.createServer({ requestTimeout: 0 });
  server.on("connection", (socket: Socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  if (server instanceof http.Server) {
    server.on("clientError", (_error, socket: Socket) => socket.destroy());
  } else {
    server.on("session", (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.on("error", () => undefined);
      session.once("close", () => sessions.delete(session));
    });
    server.on("tlsClientError", () => undefined);
    server.on("sessionError", () => undefined);
  }
  server.on("request", (req: AnyRequest, res: AnyResponse) => {
    let exchange: Exchange;
    try {
      exchange = new Exchange(req, res);
    } catch {
      (res as unknown as ResponseLike).statusCode = 400;
      (res as unknown as ResponseLike).end("Bad Request\n");
      return;
    }
    route(exchange).catch((error: unknown) => {
      try {
        exchange.goError(500, `simulated orchestrator failed: ${error instanceof Error ? error.message : String(error)}`);
      } catch {
        exchange.drop(); // the response is unusable: end the exchange rather than leave it open
      }
    });
  });

  const port = await listen(server, options.port ?? 0);
  listening = true;
  const uri = `${options.tls ? "https" : "http"}://${LOOPBACK}:${port}`;

  function destroyConnections(): void {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
  }

  function stopListening(): Promise<void> {
    if (!listening) return Promise.resolve();
    listening = false;
    return new Promise((resolve) => {
      server.close(() => resolve());
      destroyConnections();
    });
  }

  async function startListening(): Promise<void> {
    if (listening || closed) return;
    await listen(server, port);
    listening = true;
  }

  /** Serialises port closing and reopening. */
  let transition: Promise<void> = Promise.resolve();
  function inTurn(step: () => Promise<void>): Promise<void> {
    const next = transition.then(step);
    transition = next.catch(() => undefined);
    return next;
  }

  function faultEntry(capability: string): FaultEntry | undefined {
    return faults.get(capability) ?? faults.get(ALL_CAPABILITIES);
  }

  function effectiveFault(capability: string): ByocFault {
    return faultEntry(capability)?.fault ?? NO_FAULT;
  }

  function registered(capability: string): CapabilityState | undefined {
    const state = capabilities.get(capability);
    return state && effectiveFault(capability).mode !== "down" ? state : undefined;
  }

  function available(state: CapabilityState | undefined): number {
    return state ? Math.max(0, state.spec.capacity - state.inFlight) : 0;
  }

  async function route(exchange: Exchange): Promise<void> {
    if (exchange.path === TOKEN_PATH) return serveToken(exchange);
    if (exchange.path.startsWith(REQUEST_PREFIX)) return serveJob(exchange);
    exchange.goError(404, BYOC_ERRORS.notFound);
  }

  /** byoc/job_orchestrator.go GetJobToken. */
  function serveToken(exchange: Exchange): void {
    if (exchange.method !== "GET") return exchange.goError(405, BYOC_ERRORS.methodNotAllowed);
    const ethAddress = exchange.header(ETH_ADDRESS_HEADER);
    if (ethAddress === "") return exchange.goError(400, BYOC_ERRORS.missingEthAddress);
    const sender = verifyTokenCreds(ethAddress);
    if (!sender) return exchange.goError(400, BYOC_ERRORS.invalidEthAddress);
    const capability = exchange.header(CAPABILITY_HEADER);
    if (capability === "") return exchange.goError(400, BYOC_ERRORS.missingCapability);

    const known = capabilities.get(capability);
    let ticketParams: TicketParamsInit | undefined;
    let balance = 0n;
    try {
      if (payments) {
        const senderAddress = goHexToAddress(sender.addr);
        ticketParams = payments.payee.ticketParams(senderAddress, ratio(known?.price ?? 0n));
        balance = tokenBalance(payments.payee.balance(senderAddress, capability));
      } else {
        ticketParams = options.ticketParams?.(goHexToAddress(sender.addr), capability);
      }
    } catch (error) {
      return exchange.goError(400, `Could not get ticket params err=${error instanceof Error ? error.message : String(error)}`);
    }
    if (known) known.tokensServed++;
    else unknownTokens++;
    exchange.res.setHeader("Content-Type", "application/json");
    exchange.res.statusCode = 200;
    exchange.res.end(
      encodeJobToken({
        sender,
        ticketParams,
        balance,
        // An unregistered capability keeps its price (go-livepeer leaves the price entry in place).
        pricePerUnit: known?.price ?? 0n,
        pixelsPerUnit: 1n,
        serviceAddr: uri,
        availableCapacity: BigInt(available(registered(capability))),
      }),
    );
  }

  /** verifyTokenCreds: base64 → JSON → hex → VerifySig(HexToAddress(addr), addr, sig). */
  function verifyTokenCreds(header: string): JobSender | undefined {
    const sender = decodeJobSender(header);
    if (!sender) return undefined;
    const sig = signatureBytes(sender.sig, options.rejectBareSigPrefix);
    if (!sig) return undefined;
    if (verifySignatures && !goVerifySig(sender.addr, sender.addr, sig)) return undefined;
    return sender;
  }

  /** byoc/job_orchestrator.go ProcessJob → processJob. */
  async function serveJob(exchange: Exchange): Promise<void> {
    if (exchange.method !== "POST") return exchange.goError(405, BYOC_ERRORS.methodNotAllowed);
    const decoding = decodeJobRequest(exchange.header(LIVEPEER_HEADER));
    if (!decoding.ok) {
      return exchange.goError(400, decoding.failure === "timeout" ? BYOC_ERRORS.noTimeout : BYOC_ERRORS.noJobCreds);
    }
    const job = decoding.job;
    const workerPath = exchange.path.slice(REQUEST_PREFIX.length);
    const record: { -readonly [K in keyof ByocJobRecord]: ByocJobRecord[K] } = {
      method: exchange.method,
      path: exchange.path,
      workerPath,
      query: exchange.query,
      httpVersion: exchange.req.httpVersion,
      headers: exchange.headers(),
      job,
      body: undefined,
    };
    recentJobs.push(record);
    if (recentJobs.length > RECENT_JOBS_KEPT) recentJobs.shift();
    const known = capabilities.get(job.capability);
    if (known) known.jobsReceived++;
    else unknownJobs++;

    const sig = signatureBytes(job.sig, options.rejectBareSigPrefix);
    if (!sig || (verifySignatures && !goVerifySig(job.sender, job.request + job.parameters, sig))) {
      return exchange.goError(400, BYOC_ERRORS.noJobCreds);
    }
    const state = registered(job.capability);
    if (!state) return exchange.goError(503, BYOC_ERRORS.noCapacity);

    // Reserve a slot; it is released when the exchange ends, however it ends.
    state.inFlight++;
    const controller = new AbortController();
    active.add(controller);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      state.inFlight--;
      active.delete(controller);
      controller.abort();
    };
    exchange.res.once("close", release);
    try {
      if (payments && state.price > 0n && !confirmPayment(exchange, job, state, payments)) return;
      const detailsError = jobDetailsError(job.request);
      if (detailsError !== undefined) {
        return exchange.goError(400, `Unable to unmarshal job request details err=${detailsError}`);
      }
      let body: Buffer;
      try {
        body = await readBody(exchange.req, MAX_JOB_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLarge) exchange.goError(413, "request body too large for the simulated orchestrator");
        return;
      }
      record.body = body;
      await runJob(exchange, job, workerPath, body, state, controller.signal);
    } finally {
      if (exchange.res.writableEnded) release();
    }
  }

  /**
   * confirmPayment: process Livepeer-Payment if present (credit to the payment's sender, manifest = capability),
   * then require the job sender's balance ≥ 60 s × price. False when the exchange has been answered or dropped.
   */
  function confirmPayment(exchange: Exchange, job: ByocJobRequest, state: CapabilityState, pay: ByocPayments): boolean {
    const capability = state.spec.name;
    const header = exchange.header(PAYMENT_HEADER);
    if (header !== "") {
      let error: string | undefined;
      try {
        error = pay.payee.receivePayment(decodePaymentHeader(header), capability).error;
      } catch (decodeError) {
        error = `Could not decode payment err=${decodeError instanceof Error ? decodeError.message : String(decodeError)}`;
      }
      if (error !== undefined) {
        // go-livepeer's processPayment returns a nil balance on error and confirmPayment dereferences it: a panic.
        if ((pay.onBadPayment ?? "drop") === "drop") exchange.drop();
        else exchange.goError(400, error);
        return false;
      }
    }
    const balance = pay.payee.balance(goHexToAddress(job.sender), capability);
    if (compareRatios(balance, ratio(BYOC_MIN_BALANCE_SECONDS * state.price)) < 0) {
      exchange.goError(400, INSUFFICIENT_BALANCE);
      return false;
    }
    return true;
  }

  /** What a job costs and what its answer reports: off-chain nothing and "0" always. */
  function jobBilling(job: ByocJobRequest, state: CapabilityState): JobBilling {
    if (!payments) return OFF_CHAIN_BILLING;
    const { payee } = payments;
    const sender = goHexToAddress(job.sender);
    const capability = state.spec.name;
    let startNs = process.hrtime.bigint();
    return {
      start() {
        startNs = process.hrtime.bigint();
      },
      charge() {
        // chargeForCompute: ceil(elapsed seconds) × price; any elapsed time counts as a started second.
        const elapsedNs = process.hrtime.bigint() - startNs;
        const seconds = (elapsedNs + 999_999_999n) / 1_000_000_000n;
        const balance = payee.debit(sender, capability, ratio(seconds * state.price));
        return goFloatString(balance, 0);
      },
      balance: () => payee.balance(sender, capability),
    };
  }

  async function runJob(
    exchange: Exchange,
    job: ByocJobRequest,
    workerPath: string,
    body: Buffer,
    state: CapabilityState,
    signal: AbortSignal,
  ): Promise<void> {
    const capability = state.spec.name;
    const entry = faultEntry(capability);
    const fault = entry?.fault ?? NO_FAULT;
    if (fault.mode === "crash") return exchange.drop();
    if (fault.mode === "hang") return untilAborted(signal);
    const billing = jobBilling(job, state);
    billing.start(); // go: start := time.Now() just before the worker request

    let wait = 0;
    let cold: ColdStart | undefined;
    if (fault.mode === "latency") wait = fault.ms;
    if (fault.mode === "cold-start" && entry) {
      cold = entry.cold.get(capability);
      if (!cold) {
        cold = new ColdStart(fault.ms, fault.idleMs);
        entry.cold.set(capability, cold);
      }
      const start = cold.wait(now());
      if (start.warmUp) state.coldStarts++;
      wait = start.ms;
    }
    // W has timeout_seconds to send its response headers.
    const timeoutMs = job.timeoutSeconds <= 0n ? 0 : Number(job.timeoutSeconds > 2_147_483n ? 2_147_483n : job.timeoutSeconds) * 1000;
    if (wait >= timeoutMs) {
      if (!(await sleep(timeoutMs, signal))) return;
      exchange.res.setHeader(BALANCE_HEADER, billing.charge());
      return exchange.goError(500, workerFailureMessage(DEADLINE_EXCEEDED));
    }
    if (wait > 0 && !(await sleep(wait, signal))) return;

    const workerRequest = { capability, path: workerPath, contentType: exchange.header("Content-Type"), body };
    let answer: WorkerResponse;
    try {
      answer = faultWorkerResponse(fault, workerRequest) ?? worker(workerRequest);
    } catch (error) {
      exchange.res.setHeader(BALANCE_HEADER, billing.charge());
      return exchange.goError(500, workerFailureMessage(error instanceof Error ? error.message : String(error)));
    } finally {
      cold?.used(now());
    }
    writeWorkerAnswer(exchange, answer, state, billing);
  }

  function writeWorkerAnswer(exchange: Exchange, answer: WorkerResponse, state: CapabilityState, billing: JobBilling): void {
    const { res } = exchange;
    if (res.headersSent || res.writableEnded) return;
    res.setHeader("Content-Type", answer.contentType);
    res.setHeader(METADATA_HEADER, answer.metadata ?? "");
    if (!answer.contentType.includes("text/event-stream")) {
      res.setHeader(BALANCE_HEADER, billing.charge());
      if (answer.status > 399) return exchange.goError(answer.status, answer.body.toString("utf8"));
      if (answer.status < 300) state.jobsSucceeded++;
      res.statusCode = 200;
      res.end(answer.body);
      return;
    }
    res.setHeader("Content-Type", "text/event-stream");
    res.setHeader("Cache-Control", "no-cache");
    if (!exchange.h2) res.setHeader("Connection", "keep-alive"); // connection-specific: not allowed in HTTP/2
    // The SSE relay debits 5 s × price every 5 s and has no final charge; this relay ends at once, so none is due.
    const balance = billing.balance();
    res.setHeader(SSE_BALANCE_HEADER, payments ? goFloatString(balance, 0) : "0");
    res.statusCode = 200;
    state.jobsSucceeded++;
    let out = "";
    for (const line of goScanLines(answer.body.toString("utf8"))) {
      if (line.includes("[DONE]")) out += `${payments ? sseRatioBalanceLine(balance) : sseBalanceLine(0n)}\n`;
      out += `${line}\n`;
    }
    res.end(out);
  }

  async function setFault(capability: string, fault: ByocFault): Promise<void> {
    if (closed) throw new Error("the simulated orchestrator is closed");
    const checked = validateByocFault(fault);
    if (capability !== ALL_CAPABILITIES && !capabilities.has(capability)) {
      const names = [...capabilities.keys()];
      throw new FaultTargetError(
        `orchestrator ${spec.name} has no BYOC capability "${capability}" (it has ${names.length > 0 ? names.join(", ") : "none"}; "*" means all)`,
      );
    }
    return inTurn(async () => {
      if (checked.mode === "none") faults.delete(capability);
      else faults.set(capability, { fault: checked, cold: new Map() });
      if (capability !== ALL_CAPABILITIES) return;
      if (checked.mode === "down") await stopListening();
      else await startListening();
    });
  }

  let closing: Promise<void> | undefined;
  return {
    uri,
    port,
    get listening() {
      return listening;
    },
    capabilities: [...capabilities.keys()],
    setFault,
    clearFaults() {
      if (closed) return Promise.resolve();
      return inTurn(async () => {
        faults.clear();
        await startListening();
      });
    },
    faults() {
      return new Map([...faults].map(([key, entry]) => [key, entry.fault]));
    },
    effectiveFault,
    isRegistered: (capability) => registered(capability) !== undefined,
    stats(capability) {
      const state = capabilities.get(capability);
      if (!state) return undefined;
      return {
        name: capability,
        capacity: state.spec.capacity,
        inFlight: state.inFlight,
        availableCapacity: available(registered(capability)),
        pricePerUnit: state.price,
        jobsReceived: state.jobsReceived,
        jobsSucceeded: state.jobsSucceeded,
        tokensServed: state.tokensServed,
        coldStarts: state.coldStarts,
        registered: registered(capability) !== undefined,
      };
    },
    jobsReceived(capability) {
      if (capability !== undefined) return capabilities.get(capability)?.jobsReceived ?? 0;
      return [...capabilities.values()].reduce((sum, state) => sum + state.jobsReceived, unknownJobs);
    },
    tokensServed(capability) {
      if (capability !== undefined) return capabilities.get(capability)?.tokensServed ?? 0;
      return [...capabilities.values()].reduce((sum, state) => sum + state.tokensServed, unknownTokens);
    },
    inFlight: (capability) => capabilities.get(capability)?.inFlight ?? 0,
    get lastJob() {
      return recentJobs[recentJobs.length - 1];
    },
    get recentJobs() {
      return [...recentJobs];
    },
    close() {
      closing ??= (async () => {
        closed = true;
        await transition;
        for (const controller of [...active]) controller.abort();
        await stopListening();
        destroyConnections();
      })();
      return closing;
    },
  };
}

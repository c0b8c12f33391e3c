// Runs one BYOC job with failover: route, then try distinct orchestrators one after another within the
// capability's retry profile and the retry budget, feeding every outcome into health. The client sees one answer:
// the worker's (success, or a 4xx that is the client's own), or a JobFailedError listing every attempt.
import type { Logger } from "../log.js";
import { BYOC_CAPABILITY_ID } from "../network/capabilities.js";
import { comparePrices, formatPrice } from "../network/price.js";
import type { HealthTracker } from "../routing/health.js";
import type { OutcomeClass } from "../routing/outcome.js";
import type { RouteDecision, Router } from "../routing/router.js";
import type { RankedCandidate } from "../routing/selector.js";
import type { ByocJobResponse, ByocPort, ByocToken } from "./byoc-port.js";
import { classifyAnswer, classifyError } from "./classify-answer.js";
import { orchestratorCapabilityKey, type InFlight } from "./in-flight.js";
import type { JobObserver } from "./job-observer.js";
import { JobFailedError, jobCanceled } from "./job-errors.js";
import type { RetryBudget } from "./retry-budget.js";
import { untilAborted } from "../util/abortable.js";
import { ByocTransportError, readBody, readBodyText } from "../orchestrator/byoc-http.js";
import { PAYMENT_HEADER } from "../payments/payment.js";
import { answerAsksForFreshParams, type JobPayment, type PaymentRequest, PaymentRefusedError } from "../payments/byoc-payer.js";

export interface JobSpec {
  readonly capability: string;
  /** "" for any model. */
  readonly modelId: string;
  /** What follows /process/request/, query string included; may be "". */
  readonly workerPath: string;
  readonly body: Buffer;
  readonly contentType?: string;
  /** The BYOC "request" and "parameters" JSON strings, as signed. */
  readonly requestJson: string;
  readonly parametersJson: string;
  readonly timeoutSeconds: number;
  /** go-livepeer price syntax; "" for none. */
  readonly maxPricePerUnit: string;
  readonly exclude: readonly string[];
  /** Only these orchestrator URIs, when not empty (BYOC parameters.orchestrators.include). */
  readonly include: readonly string[];
  readonly jobId: string;
}

export interface AttemptRecord {
  readonly orchestratorUri: string;
  readonly serviceUri: string;
  readonly outcome: OutcomeClass;
  readonly latencyMs: number;
  readonly status?: number;
  /** What went wrong, in words; undefined on success. */
  readonly error?: string;
  /** false when the candidate was passed over without a request (full, or its token priced over the ceiling). */
  readonly sent: boolean;
}

export interface JobAnswer {
  readonly status: number;
  /** The response headers worth passing on, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly orchestratorUri: string;
  readonly serviceUri: string;
  readonly attempts: readonly AttemptRecord[];
  /** The whole body, or for a streamed (SSE) answer its chunks as they come; exactly one is set. */
  readonly body?: Buffer;
  readonly stream?: AsyncIterable<Buffer>;
  /** Stops a streamed answer early (the client went away); releases the orchestrator connection. */
  cancel(): void;
}

export interface JobRunnerDeps {
  readonly router: Router;
  readonly health: HealthTracker;
  readonly port: ByocPort;
  readonly budget: RetryBudget;
  readonly inFlight: InFlight;
  /** The signed G→O `Livepeer` header for a job; called once per job. */
  readonly signJob: (spec: JobSpec) => Promise<string>;
  readonly logger: Logger;
  /** Largest answer body the gateway holds in memory. */
  readonly maxResponseBytes: number;
  /**
   * Low-latency profile only: when the first attempt has not answered after this long, the job goes to the next
   * orchestrator too, and the first answer wins (the other attempt is cancelled). Undefined: no hedging.
   */
  readonly hedgeAfterMs?: number;
  /** Pays orchestrators on-chain (src/payments/byoc-payer.ts); absent off-chain, where work is free. */
  readonly payer?: { prepare(request: PaymentRequest): Promise<JobPayment | undefined> };
  /** Told of every attempt and job (metrics). */
  readonly observer?: JobObserver;
  /** Monotonic milliseconds for latencies and the retry window; performance.now by default. */
  readonly clock?: () => number;
}

/** Response headers passed back to the client (go-livepeer passes Livepeer-Balance and X-Metadata; we keep more). */
const PASSED_HEADERS = ["content-type", "x-metadata", "livepeer-balance", "livepeer-payment-balance", "cache-control"];
/** A failed answer's body is read this far for classification and for the client when it is its answer. */
const ERROR_BODY_BYTES = 64 * 1024;
/** go-livepeer's gateway waits timeout_seconds + 5 s for the orchestrator's response head. */
const HEAD_GRACE_MS = 5_000;
/** go-livepeer relays an SSE answer for at most timeout_seconds + 10 s. */
const STREAM_GRACE_MS = 10_000;
/** Candidates asked of the router beyond the attempts allowed, to step over full or over-priced ones. */
const SPARE_CANDIDATES = 4;
const MAX_CANDIDATES = 100;

export class JobRunner {
  private readonly now: () => number;
  private readonly oursWhenIssued = new WeakMap<ByocToken, number>();

  constructor(private readonly deps: JobRunnerDeps) {
    this.now = deps.clock ?? (() => performance.now());
  }

  async run(spec: JobSpec, signal: AbortSignal, logger: Logger = this.deps.logger): Promise<JobAnswer> {
    const started = this.now();
    const observer = this.deps.observer;
    try {
      const answer = await this.runAttempts(spec, signal, logger, started);
      observer?.job(spec.capability, answer.status >= 400 ? "client_error" : "success", this.now() - started, answer.attempts);
      return answer;
    } catch (err) {
      // Router refusals (unknown capability, bad field) are not counted: their capability may be any client string.
      if (err instanceof JobFailedError) {
        observer?.job(spec.capability, err.code === "canceled" ? "canceled" : "failed", this.now() - started, err.attempts);
      }
      throw err;
    }
  }

  private async runAttempts(spec: JobSpec, signal: AbortSignal, logger: Logger, started: number): Promise<JobAnswer> {
    const { router } = this.deps;
    const profile = router.retryProfileFor(spec.capability);
    const decision = router.route({
      capability: spec.capability,
      modelId: spec.modelId,
      maxPricePerUnit: spec.maxPricePerUnit,
      region: "",
      count: spec.include.length > 0 ? MAX_CANDIDATES : Math.min(MAX_CANDIDATES, profile.maxAttempts + SPARE_CANDIDATES),
      excludeOrchestrators: spec.exclude,
      warm: "prefer",
    }, { remember: false });
    const candidates = candidatesFor(spec, decision);
    const header = await this.deps.signJob(spec);
    const attempts: AttemptRecord[] = [];
    let lastClientAnswer: JobAnswer | undefined;
    this.deps.budget.recordRequest(spec.capability);
    const hedgeAfterMs = profile.profile === "low-latency" ? this.deps.hedgeAfterMs : undefined;
    const queue = [...candidates];
    const running = new Map<number, Running>();
    let launched = 0;
    let refusal: string | undefined;

    /** Starts the next attempt if the profile, the window and the budget allow it; false when none was started. */
    const launch = (): boolean => {
      const sent = attempts.filter((a) => a.sent).length + running.size;
      const candidate = queue.shift();
      if (candidate === undefined || sent >= profile.maxAttempts) return false;
      if (sent > 0) {
        if (this.now() - started >= profile.overallBudgetMs) {
          refusal = `the retry window of ${profile.overallBudgetMs} ms (${profile.profile} profile) is over`;
          return false;
        }
        if (!this.deps.budget.tryRetry(spec.capability)) {
          refusal = `the retry budget of ${spec.capability} is spent: too many jobs are failing`;
          return false;
        }
      }
      const id = launched++;
      const controller = new AbortController();
      const onClientAbort = () => controller.abort(signal.reason);
      signal.addEventListener("abort", onClientAbort, { once: true });
      const timeoutMs = Math.min(sent === 0 ? profile.firstAttemptTimeoutMs : profile.perAttemptTimeoutMs, spec.timeoutSeconds * 1000 + HEAD_GRACE_MS);
      const attemptNumber = id + 1;
      const settled = this.attempt(spec, candidate, decision, header, timeoutMs, controller.signal, logger, attemptNumber)
        .then((result) => ({ id, result }))
        .finally(() => signal.removeEventListener("abort", onClientAbort));
      running.set(id, { settled, controller });
      return true;
    };
    const cancelRunning = () => {
      for (const { controller } of running.values()) controller.abort(new Error("another attempt answered first"));
      running.clear();
    };

    while (running.size > 0 || launch()) {
      if (signal.aborted) {
        cancelRunning();
        throw jobCanceled(attempts);
      }
      // Hedging: while a single attempt runs, a second one starts after hedgeAfterMs; the first answer wins.
      const hedge = hedgeAfterMs !== undefined && running.size === 1 && queue.length > 0 ? delay(hedgeAfterMs) : undefined;
      const next = await Promise.race([...[...running.values()].map((r) => r.settled), ...(hedge ? [hedge.elapsed] : [])]);
      hedge?.cancel();
      if (next === HEDGE) {
        launch();
        continue;
      }
      running.delete(next.id);
      const { result } = next;
      if (result.kind === "canceled") {
        if (signal.aborted) {
          cancelRunning();
          throw jobCanceled(attempts);
        }
        continue;
      }
      attempts.push(result.record);
      this.deps.observer?.attempt(spec.capability, result.record);
      if (result.kind === "answer") {
        cancelRunning();
        return { ...result.answer, attempts };
      }
      if (result.kind === "client-answer-if-all-fail") lastClientAnswer = result.answer;
    }
    if (lastClientAnswer !== undefined && attempts.every((a) => !a.sent || a.outcome === "schema_mismatch")) {
      return { ...lastClientAnswer, attempts };
    }
    if (attempts.length === 0) {
      throw new JobFailedError(refusal ?? `none of the ${candidates.length} orchestrators offering ${spec.capability} could be tried`, attempts);
    }
    throw new JobFailedError(refusal ?? "every attempt failed", attempts);
  }

  /** One orchestrator: token, capacity and price checks, the request, and its classification. */
  private async attempt(
    spec: JobSpec,
    candidate: RankedCandidate,
    decision: RouteDecision,
    header: string,
    timeoutMs: number,
    clientSignal: AbortSignal,
    logger: Logger,
    attemptNumber: number,
  ): Promise<AttemptResult> {
    const orchestratorUri = candidate.offer.orchestratorUri;
    const serviceUri = candidate.orchestrator.info?.transcoder ?? orchestratorUri;
    const healthKey = candidate.offer; // an offer is its own health key, with the key string precomputed
    const attemptStart = this.now();
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(clientSignal.reason);
    clientSignal.addEventListener("abort", onClientAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new AttemptTimeout(timeoutMs)), timeoutMs);
    let release: (() => void) | undefined;
    let response: ByocJobResponse | undefined;
    let committed = false;
    const record = (outcome: OutcomeClass, fields: Partial<AttemptRecord> = {}): AttemptRecord => ({
      orchestratorUri,
      serviceUri,
      outcome,
      latencyMs: this.now() - attemptStart,
      sent: true,
      ...fields,
    });
    const fail = (outcome: OutcomeClass, error: string, fields: Partial<AttemptRecord> = {}): { kind: "failed"; record: AttemptRecord } => {
      const rec = record(outcome, { error, ...fields });
      if (rec.sent) this.deps.health.record(healthKey, outcome, rec.latencyMs);
      logger.warn({ orchestrator: orchestratorUri, attempt: attemptNumber, outcome, status: fields.status, err: error }, "job attempt failed");
      return { kind: "failed", record: rec };
    };
    try {
      let token = await this.deps.port.token(serviceUri, spec.capability, controller.signal);
      const overCeiling = (): string | undefined =>
        decision.ceiling !== undefined && comparePrices(token.price, decision.ceiling.price) > 0
          ? `token price ${formatPrice(token.price)} wei/s is over the ceiling ${formatPrice(decision.ceiling.price)}`
          : undefined;
      const priceProblem = overCeiling();
      if (priceProblem !== undefined) return fail("payment_error", priceProblem, { sent: false });
      const slotKey = orchestratorCapabilityKey(orchestratorUri, spec.capability);
      release = this.deps.inFlight.tryAcquire(slotKey, this.capacityLimit(slotKey, token));
      if (release === undefined) {
        this.deps.port.invalidateToken(serviceUri, spec.capability); // ask again next time: slots may have freed
        return fail("no_capacity", `no free capacity (the token advertised ${token.availableCapacity})`, { sent: false });
      }
      // Stale ticket params are refreshed from the same orchestrator once, before or after sending.
      let refreshed = false;
      let refusalText: string | undefined;
      for (;;) {
        let payment: JobPayment | undefined;
        try {
          payment = await this.deps.payer?.prepare({
            token,
            capability: spec.capability,
            orchestratorUri,
            timeoutSeconds: spec.timeoutSeconds,
            discoveredPrice: candidate.offer.price,
          });
        } catch (err) {
          if (!(err instanceof PaymentRefusedError)) throw err;
          if (!err.refresh || refreshed) return fail("payment_error", err.message, { sent: false });
          refreshed = true;
          token = await this.freshToken(serviceUri, spec.capability, controller.signal);
          const problem = overCeiling();
          if (problem !== undefined) return fail("payment_error", problem, { sent: false });
          continue;
        }
        response = await this.deps.port.send({
          serviceUri: token.serviceAddr,
          path: `/process/request/${spec.workerPath}`,
          headers: jobHeaders(header, spec.contentType, payment?.header),
          body: spec.body,
          signal: controller.signal,
          headerTimeoutMs: timeoutMs,
        });
        payment?.settle(response.headers);
        if (response.status !== 400 || payment?.header === undefined || refreshed) break;
        refusalText = await readBodyText(response.body, ERROR_BODY_BYTES);
        if (!answerAsksForFreshParams(refusalText)) break;
        logger.info({ orchestrator: orchestratorUri, attempt: attemptNumber, err: firstLine(refusalText) }, "stale ticket params: refreshing them and retrying there once");
        refreshed = true;
        refusalText = undefined;
        response = undefined;
        token = await this.freshToken(serviceUri, spec.capability, controller.signal);
        const problem = overCeiling();
        if (problem !== undefined) return fail("payment_error", problem, { sent: false });
      }
      const headers = passedHeaders(response);
      if (response.status >= 200 && response.status < 300) {
        if ((headers["content-type"] ?? "").includes("text/event-stream")) {
          const stream = await firstChunkThen(response, controller.signal);
          const rec = record("success", { status: response.status });
          const state = this.deps.health.record(healthKey, "success", rec.latencyMs);
          committed = true;
          clearTimeout(timer);
          const streamTimer = setTimeout(() => controller.abort(new AttemptTimeout(spec.timeoutSeconds * 1000 + STREAM_GRACE_MS)), spec.timeoutSeconds * 1000 + STREAM_GRACE_MS);
          const done = once(() => {
            clearTimeout(streamTimer);
            clientSignal.removeEventListener("abort", onClientAbort);
            release?.();
          });
          return {
            kind: "answer",
            record: { ...rec, outcome: state.lastOutcome ?? "success" },
            answer: {
              status: response.status,
              headers,
              orchestratorUri,
              serviceUri: token.serviceAddr,
              attempts: [],
              stream: guarded(stream, controller.signal, done),
              cancel: () => {
                controller.abort(new Error("the client went away"));
                response?.body.destroy();
                done();
              },
            },
          };
        }
        const body = await readBody(response.body, this.deps.maxResponseBytes);
        const rec = record("success", { status: response.status });
        const state = this.deps.health.record(healthKey, "success", rec.latencyMs);
        return {
          kind: "answer",
          record: { ...rec, outcome: state.lastOutcome ?? "success" },
          answer: { status: response.status, headers, orchestratorUri, serviceUri: token.serviceAddr, attempts: [], body, cancel: () => {} },
        };
      }
      const text = refusalText ?? (await readBodyText(response.body, ERROR_BODY_BYTES));
      const body = Buffer.from(text, "utf8");
      const outcome = classifyAnswer(response.status, text);
      const answer: JobAnswer = { status: response.status, headers, orchestratorUri, serviceUri: token.serviceAddr, attempts: [], body, cancel: () => {} };
      if (outcome === "client_error") {
        const rec = record("client_error", { status: response.status });
        this.deps.health.record(healthKey, "client_error", rec.latencyMs);
        return { kind: "answer", record: rec, answer };
      }
      // 503: the capability is no longer registered there; 400 balance: the token's balance is stale.
      if (response.status === 503 || outcome === "payment_error") this.deps.port.invalidateToken(serviceUri, spec.capability);
      const failed = fail(outcome, `HTTP ${response.status}: ${firstLine(text)}`, { status: response.status });
      return outcome === "schema_mismatch" && response.status < 500 ? { kind: "client-answer-if-all-fail", record: failed.record, answer } : failed;
    } catch (err) {
      if (clientSignal.aborted) return { kind: "canceled" };
      if (err instanceof ByocTransportError && err.code === "ERR_BODY_TOO_LARGE") {
        throw new JobFailedError(`the answer from ${orchestratorUri} is larger than ${this.deps.maxResponseBytes} bytes`, [], "resource_exhausted");
      }
      const reason = controller.signal.reason;
      if (reason instanceof AttemptTimeout) return fail("timeout", reason.message, response ? { status: response.status } : {});
      this.deps.port.invalidateToken(serviceUri, spec.capability);
      return fail(classifyError(err), errorText(err), response ? { status: response.status } : {});
    } finally {
      if (!committed) {
        clearTimeout(timer);
        clientSignal.removeEventListener("abort", onClientAbort);
        release?.();
        if (response !== undefined && !response.body.destroyed) response.body.destroy();
      }
    }
  }

  private freshToken(serviceUri: string, capability: string, signal: AbortSignal): Promise<ByocToken> {
    this.deps.port.invalidateToken(serviceUri, capability);
    return this.deps.port.token(serviceUri, capability, signal);
  }

  /**
   * The most jobs to run at once on (orchestrator, capability): what the token said was free, plus ours that were
   * running when we first saw the token (the orchestrator counted those as its load when it issued it).
   */
  private capacityLimit(slotKey: string, token: ByocToken): number {
    let ours = this.oursWhenIssued.get(token);
    if (ours === undefined) {
      ours = this.deps.inFlight.count(slotKey);
      this.oursWhenIssued.set(token, ours);
    }
    return token.availableCapacity + ours;
  }
}

interface Running {
  readonly settled: Promise<{ id: number; result: AttemptResult }>;
  readonly controller: AbortController;
}

const HEDGE = Symbol("hedge");

/** A timer that resolves HEDGE, and can be cancelled so that it never outlives the wait. */
function delay(ms: number): { elapsed: Promise<typeof HEDGE>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<typeof HEDGE>((resolve) => {
    timer = setTimeout(() => resolve(HEDGE), ms);
  });
  return { elapsed, cancel: () => clearTimeout(timer) };
}

type AttemptResult =
  | { kind: "answer"; record: AttemptRecord; answer: JobAnswer }
  | { kind: "failed"; record: AttemptRecord }
  | { kind: "client-answer-if-all-fail"; record: AttemptRecord; answer: JobAnswer }
  | { kind: "canceled" };

class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "AttemptTimeout";
  }
}

function candidatesFor(spec: JobSpec, decision: RouteDecision): RankedCandidate[] {
  const first = decision.candidates[0];
  if (first !== undefined && first.offer.capabilityId !== BYOC_CAPABILITY_ID) {
    throw new JobFailedError(
      `${spec.capability} is a built-in AI pipeline; this gateway forwards BYOC capabilities only (use Route and call the orchestrator)`,
      [],
      "unimplemented",
    );
  }
  if (spec.include.length === 0) return decision.candidates;
  const include = new Set(spec.include);
  return decision.candidates.filter((c) => include.has(c.offer.orchestratorUri));
}

function jobHeaders(livepeerHeader: string, contentType: string | undefined, payment: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { Livepeer: livepeerHeader };
  if (payment !== undefined) headers[PAYMENT_HEADER] = payment;
  if (contentType !== undefined && contentType !== "") headers["Content-Type"] = contentType;
  return headers;
}

function passedHeaders(response: ByocJobResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = response.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return headers;
}

/** Waits for the first chunk of a streamed answer, so that a failure before it can still fail over. */
async function firstChunkThen(response: ByocJobResponse, signal: AbortSignal): Promise<AsyncIterable<Buffer>> {
  const iterator = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await untilAborted(iterator.next(), signal);
  return {
    [Symbol.asyncIterator]() {
      let gaveFirst = false;
      return {
        next: () => {
          if (!gaveFirst) {
            gaveFirst = true;
            return Promise.resolve(first);
          }
          return iterator.next();
        },
        return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}

/** The committed stream; `done` runs once when it ends, fails or is abandoned. */
async function* guarded(stream: AsyncIterable<Buffer>, signal: AbortSignal, done: () => void): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) {
      if (signal.aborted) throw new Error(`the stream was cut: ${errorText(signal.reason)}`);
      yield chunk;
    }
  } catch (err) {
    throw new Error(`the orchestrator's stream failed after the answer began, so it cannot fail over: ${errorText(err)}`);
  } finally {
    done();
  }
}


function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

function firstLine(text: string): string {
  const line = text.trim().split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

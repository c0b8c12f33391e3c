// SubmitJob and SubmitJobStream: a protobuf Job in, the worker's answer out, through the job runner's failover.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  JobAttemptSchema,
  JobAttemptsSchema,
  JobHeadSchema,
  OutcomeClass as OutcomeClassMessage,
  SubmitJobResponseSchema,
  SubmitJobStreamResponseSchema,
  type Job,
  type JobHead,
  type SubmitJobResponse,
  type SubmitJobStreamResponse,
} from "../gen/livepeer/gateway/v1/gateway_pb.js";
import type { AttemptRecord, JobAnswer, JobRunner, JobSpec } from "../jobs/job-runner.js";
import { JobFailedError, type JobFailureCode } from "../jobs/job-errors.js";
import { ByocRequestError, clientJobFromFields, type ClientJobRequest } from "../orchestrator/byoc-job-request.js";
import type { Logger } from "../log.js";
import type { ClientJobLimits } from "../jobs/client-limits.js";
import { clientAddressKey } from "./client-address.js";
import type { OutcomeClass } from "../routing/outcome.js";

export interface SubmitJobDeps {
  runner: JobRunner;
  logger: Logger;
  clientLimits: ClientJobLimits;
  /** Largest answer SubmitJob collects from a streamed (SSE) answer; SubmitJobStream passes any size through. */
  maxResponseBytes: number;
}

export async function submitJob(deps: SubmitJobDeps, job: Job | undefined, context: HandlerContext): Promise<SubmitJobResponse> {
  const requestId = newRequestId();
  context.responseHeader.set("x-request-id", requestId);
  const spec = jobSpecFromProto(job);
  const release = clientSlot(deps, context);
  try {
    const answer = await runJob(deps, spec, requestId, context.signal);
    const body = answer.body ?? (await collect(answer, deps.maxResponseBytes));
    return create(SubmitJobResponseSchema, { head: jobHead(requestId, answer), body });
  } finally {
    release();
  }
}

export async function* submitJobStream(
  deps: SubmitJobDeps,
  job: Job | undefined,
  context: HandlerContext,
): AsyncGenerator<SubmitJobStreamResponse> {
  const requestId = newRequestId();
  context.responseHeader.set("x-request-id", requestId);
  const spec = jobSpecFromProto(job);
  const release = clientSlot(deps, context);
  let answer: JobAnswer;
  try {
    answer = await runJob(deps, spec, requestId, context.signal);
  } catch (err) {
    release();
    throw err;
  }
  try {
    yield create(SubmitJobStreamResponseSchema, { event: { case: "head", value: jobHead(requestId, answer) } });
    if (answer.body !== undefined) {
      if (answer.body.length > 0) yield create(SubmitJobStreamResponseSchema, { event: { case: "chunk", value: answer.body } });
      return;
    }
    for await (const chunk of answer.stream ?? []) {
      yield create(SubmitJobStreamResponseSchema, { event: { case: "chunk", value: chunk } });
    }
  } catch (err) {
    throw new ConnectError(err instanceof Error ? err.message : String(err), Code.Unavailable);
  } finally {
    answer.cancel();
    release();
  }
}

/** The caller's job slot, or RESOURCE_EXHAUSTED when it already has the most jobs in flight. */
function clientSlot(deps: SubmitJobDeps, context: HandlerContext): () => void {
  const client = context.values.get(clientAddressKey);
  const release = deps.clientLimits.tryAcquire(client);
  if (release === undefined) throw new ConnectError(deps.clientLimits.refusal(client), Code.ResourceExhausted);
  return release;
}

async function runJob(deps: SubmitJobDeps, spec: JobSpec, requestId: string, signal: AbortSignal): Promise<JobAnswer> {
  const logger = deps.logger.child({ requestId, capability: spec.capability, ...(spec.jobId ? { jobId: spec.jobId } : {}) });
  try {
    return await deps.runner.run(spec, signal, logger);
  } catch (err) {
    throw jobError(err);
  }
}

/** The Connect form of a failed job; the attempts travel as a JobAttempts detail. */
export function jobError(err: unknown): unknown {
  if (!(err instanceof JobFailedError)) return err;
  const detail = create(JobAttemptsSchema, { attempts: err.attempts.map(attemptToProto) });
  return new ConnectError(err.message, CONNECT_CODES[err.code], undefined, [{ desc: JobAttemptsSchema, value: detail }]);
}

const CONNECT_CODES: Readonly<Record<JobFailureCode, Code>> = {
  unavailable: Code.Unavailable,
  canceled: Code.Canceled,
  unimplemented: Code.Unimplemented,
  resource_exhausted: Code.ResourceExhausted,
};

/** RPC field names for the JobRequest keys the BYOC checks name. */
const RPC_FIELDS: Readonly<Record<string, string>> = {
  request: "job.request_json",
  parameters: "job.parameters_json",
  timeout_seconds: "job.timeout_seconds",
  capability: "job.capability",
  id: "job.job_id",
};

function jobSpecFromProto(job: Job | undefined): JobSpec {
  if (job === undefined) throw invalid("job is required");
  let checked: ClientJobRequest;
  try {
    checked = clientJobFromFields({
      id: job.jobId,
      request: job.requestJson === "" ? "{}" : job.requestJson,
      parameters: job.parametersJson === "" ? "{}" : job.parametersJson,
      capability: job.capability,
      timeoutSeconds: job.timeoutSeconds,
    });
  } catch (err) {
    if (!(err instanceof ByocRequestError)) throw err;
    const key = err.field.split(".")[0] ?? err.field;
    throw invalid(`${RPC_FIELDS[key] ?? `job.${err.field}`}: ${err.detail}`);
  }
  return {
    capability: checked.capability,
    modelId: job.modelId,
    workerPath: job.path.replace(/^\/+/, ""),
    body: Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength),
    ...(job.contentType !== "" ? { contentType: job.contentType } : {}),
    requestJson: checked.request,
    parametersJson: checked.parameters,
    timeoutSeconds: checked.timeoutSeconds,
    maxPricePerUnit: job.maxPricePerUnit,
    exclude: [...job.excludeOrchestrators, ...checked.orchestrators.exclude],
    include: checked.orchestrators.include,
    jobId: checked.id,
  };
}

function jobHead(requestId: string, answer: JobAnswer): JobHead {
  return create(JobHeadSchema, {
    requestId,
    status: answer.status,
    headers: { ...answer.headers },
    orchestratorUri: answer.orchestratorUri,
    serviceUri: answer.serviceUri,
    attempts: answer.attempts.map(attemptToProto),
  });
}

function attemptToProto(attempt: AttemptRecord) {
  return create(JobAttemptSchema, {
    orchestratorUri: attempt.orchestratorUri,
    outcome: outcomeToProto(attempt.outcome),
    latency: durationFromMs(Math.round(attempt.latencyMs)),
    status: attempt.status ?? 0,
    error: attempt.error ?? "",
  });
}

/** A streamed answer, whole, for the unary RPC. */
async function collect(answer: JobAnswer, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of answer.stream ?? []) {
      size += chunk.length;
      if (size > limit) {
        throw new ConnectError(`the streamed answer is larger than ${limit} bytes; use SubmitJobStream`, Code.ResourceExhausted);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    throw new ConnectError(err instanceof Error ? err.message : String(err), Code.Unavailable);
  } finally {
    answer.cancel();
  }
  return Buffer.concat(chunks, size);
}

function newRequestId(): string {
  return randomBytes(8).toString("hex");
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** The API enum value of an outcome class ("http_5xx" → OUTCOME_CLASS_HTTP_5XX). */
function outcomeToProto(outcome: OutcomeClass): OutcomeClassMessage {
  return (OutcomeClassMessage as unknown as Record<string, OutcomeClassMessage>)[outcome.toUpperCase()] ?? OutcomeClassMessage.UNSPECIFIED;
}

// How a job fails, independent of the transport that reports it: the Connect service turns a JobFailedError into a
// ConnectError with a JobAttempts detail, the BYOC endpoint into an HTTP status with the attempts as JSON.
import type { AttemptRecord } from "./job-runner.js";

export type JobFailureCode = "unavailable" | "canceled" | "unimplemented" | "resource_exhausted";

export class JobFailedError extends Error {
  constructor(
    readonly reason: string,
    readonly attempts: readonly AttemptRecord[],
    readonly code: JobFailureCode = "unavailable",
  ) {
    super(describeFailure(reason, attempts));
    this.name = "JobFailedError";
  }
}

export function jobCanceled(attempts: readonly AttemptRecord[]): JobFailedError {
  return new JobFailedError("the client canceled the job", attempts, "canceled");
}

/** "every attempt failed (2 attempts: https://a timeout after 5000 ms; https://b http_5xx: HTTP 500: boom)". */
function describeFailure(reason: string, attempts: readonly AttemptRecord[]): string {
  if (attempts.length === 0) return reason;
  const listed = attempts.map((a) => `${a.orchestratorUri} ${a.outcome}${a.error ? `: ${a.error}` : ""}`).join("; ");
  return `${reason} (${attempts.length} attempt${attempts.length === 1 ? "" : "s"}: ${listed})`;
}

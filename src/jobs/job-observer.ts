// What the job runner tells observers (metrics) about each attempt and each job, without depending on them.
import type { AttemptRecord } from "./job-runner.js";

export type { AttemptRecord };

/** How a job ended: the worker's answer (2xx, or a 4xx that is the client's), every attempt failed, or canceled. */
export type JobResult = "success" | "client_error" | "failed" | "canceled";

export interface JobObserver {
  /** Every attempt, as it ends; `record.sent` is false for candidates passed over without a request. */
  attempt(capability: string, record: AttemptRecord): void;
  job(capability: string, result: JobResult, durationMs: number, attempts: readonly AttemptRecord[]): void;
}

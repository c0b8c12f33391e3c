// What the job runner needs from the BYOC wire layer, as a narrow port: the runner decides where and how often,
// the port speaks HTTP to orchestrators. Tests give the runner a port over real devnet orchestrators.
import type { Readable } from "node:stream";
import type { WeiPerUnit } from "../network/price.js";
import type { PayableToken } from "../payments/byoc-payer.js";

/** The part of an orchestrator's /process/token answer that routing and payment use. */
export interface ByocToken extends PayableToken {
  /** Wei per second of work. */
  readonly price: WeiPerUnit;
  /** Jobs the orchestrator could take when the token was issued (capacity − its load). */
  readonly availableCapacity: number;
  /** Where jobs go (the token's service_addr). */
  readonly serviceAddr: string;
}

export interface ByocJobRequest {
  readonly serviceUri: string;
  /** "/process/request/<worker path>[?query]". */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly signal: AbortSignal;
  /** Abandon the request when no response head arrived in this time. */
  readonly headerTimeoutMs: number;
}

export interface ByocJobResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

export interface ByocPort {
  /** The same object while the orchestrator's token is unchanged (the runner keys capacity accounting on it). */
  token(serviceUri: string, capability: string, signal: AbortSignal): Promise<ByocToken>;
  /** Forget a cached token, e.g. after the orchestrator said the capability is gone. */
  invalidateToken(serviceUri: string, capability: string): void;
  send(request: ByocJobRequest): Promise<ByocJobResponse>;
}

// Jobs in flight per client (remote address), so that one client cannot take every orchestrator slot and every
// socket of the gateway: beyond the limit a job is refused at once (HTTP 429 / RESOURCE_EXHAUSTED).
import { InFlight } from "./in-flight.js";

export class ClientJobLimits {
  private readonly running = new InFlight();

  /** limit 0 means no limit. */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`the per-client job limit must be a whole number >= 0, got ${limit}`);
  }

  /** A slot for the client's next job, with its release; undefined when the client is at the limit. */
  tryAcquire(client: string): (() => void) | undefined {
    return this.running.tryAcquire(client, this.limit === 0 ? Infinity : this.limit);
  }

  refusal(client: string): string {
    return `client ${client} already has ${this.limit} jobs in flight, the most allowed (-maxJobsPerClient)`;
  }
}

// Prometheus metrics (prom-client), served on /metrics of both ports: what jobs did, per capability, orchestrator
// and outcome class (go-livepeer#3903 asks for exactly this), what discovery saw, and the state of health.
//
// Label cardinality stays bounded: capability and orchestrator labels only take values the network snapshot
// already holds (jobs are counted after routing accepted the capability), outcome and result are closed sets, and
// nothing client-chosen (ids, paths, models) becomes a label.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AttemptRecord, JobObserver, JobResult } from "../jobs/job-observer.js";
import type { NetworkSnapshot } from "../network/snapshot.js";
import type { Ratio } from "../network/price.js";
import type { PaymentObserver } from "../payments/byoc-payer.js";
import type { SenderInfo } from "../payments/ticket-params.js";
import type { EjectionTransition, HealthKey, HealthState } from "../routing/health.js";

export interface MetricsSources {
  readonly snapshot: () => NetworkSnapshot;
  readonly healthStates: () => readonly HealthState[];
  /** On-chain: the gateway's TicketBroker deposit and reserve as last read. */
  readonly senderInfo?: () => SenderInfo | undefined;
}

/** Prometheus values are floats: exact wei becomes gwei only here, at the edge, as go-livepeer reports it. */
function gwei(wei: Ratio): number {
  const scaled = (wei.num * 1_000_000n) / (wei.den * 1_000_000_000n); // micro-gwei, exact integer division
  return Number(scaled) / 1_000_000;
}

/** Seconds; from a warm per-frame answer to a multi-minute batch job. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class GatewayMetrics implements JobObserver, PaymentObserver {
  readonly registry = new Registry();
  private readonly attempts: Counter<"capability" | "orchestrator" | "outcome">;
  private readonly attemptSeconds: Histogram<"capability" | "orchestrator">;
  private readonly jobs: Counter<"capability" | "result">;
  private readonly jobSeconds: Histogram<"capability" | "result">;
  private readonly failovers: Counter<"capability" | "reason">;
  private readonly discoveryErrors: Counter;
  private readonly ejectionTransitions: Counter<"capability" | "orchestrator" | "transition">;
  private readonly ticketValueSent: Counter<"capability" | "orchestrator">;
  private readonly ticketsSentCount: Counter<"capability" | "orchestrator">;
  private readonly paymentCreateErrors: Counter<"capability" | "orchestrator" | "reason">;
  private readonly spend: Counter<"capability" | "orchestrator">;

  constructor(sources: MetricsSources, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.attempts = new Counter({
      name: "livepeer_gateway_job_attempts_total",
      help: "Job attempts sent to orchestrators, by capability, orchestrator and outcome class.",
      labelNames: ["capability", "orchestrator", "outcome"],
      registers,
    });
    this.attemptSeconds = new Histogram({
      name: "livepeer_gateway_job_attempt_duration_seconds",
      help: "Duration of job attempts that reached an orchestrator, by capability and orchestrator.",
      labelNames: ["capability", "orchestrator"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.jobs = new Counter({
      name: "livepeer_gateway_jobs_total",
      help: "Jobs by capability and result: success, client_error (the worker refused the input), failed (every attempt failed), canceled.",
      labelNames: ["capability", "result"],
      registers,
    });
    this.jobSeconds = new Histogram({
      name: "livepeer_gateway_job_duration_seconds",
      help: "Duration of whole jobs, failovers included, by capability and result.",
      labelNames: ["capability", "result"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.failovers = new Counter({
      name: "livepeer_gateway_failovers_total",
      help: "Attempts that failed and were followed by another attempt, by capability and the failure's outcome class.",
      labelNames: ["capability", "reason"],
      registers,
    });
    // go-livepeer's name and meaning: every failed GetOrchestrator call.
    this.discoveryErrors = new Counter({
      name: "livepeer_discovery_errors_total",
      help: "Failed GetOrchestrator calls (unreachable, timed out, or an answer that was refused).",
      registers,
    });
    this.ejectionTransitions = new Counter({
      name: "livepeer_gateway_ejection_transitions_total",
      help: "Health ejections (transition=ejected, including re-ejection after a failed probe) and recoveries (transition=recovered), by capability and orchestrator.",
      labelNames: ["capability", "orchestrator", "transition"],
      registers,
    });
    // Payments: go-livepeer's names and units (gwei) where the meaning matches; labels are ours.
    this.ticketValueSent = new Counter({
      name: "livepeer_ticket_value_sent",
      help: "Expected value of the tickets sent, in gwei, by capability and orchestrator.",
      labelNames: ["capability", "orchestrator"],
      registers,
    });
    this.ticketsSentCount = new Counter({
      name: "livepeer_tickets_sent",
      help: "Tickets sent, by capability and orchestrator.",
      labelNames: ["capability", "orchestrator"],
      registers,
    });
    this.paymentCreateErrors = new Counter({
      name: "livepeer_payment_create_errors",
      help: "Payments not made (nothing was signed), by capability, orchestrator and the check that refused them.",
      labelNames: ["capability", "orchestrator", "reason"],
      registers,
    });
    this.spend = new Counter({
      name: "livepeer_gateway_realized_spend",
      help: "What orchestrators debited for work, in gwei, from the balances they report after each job, by capability and orchestrator.",
      labelNames: ["capability", "orchestrator"],
      registers,
    });
    if (sources.senderInfo !== undefined) {
      const senderInfo = sources.senderInfo;
      new Gauge({
        name: "livepeer_gateway_deposit",
        help: "The gateway's TicketBroker deposit, in gwei, as last read.",
        registers,
        collect() {
          const info = senderInfo();
          if (info !== undefined) this.set(gwei({ num: info.deposit, den: 1n }));
        },
      });
      new Gauge({
        name: "livepeer_gateway_reserve",
        help: "The gateway's TicketBroker reserve (funds remaining), in gwei, as last read.",
        registers,
        collect() {
          const info = senderInfo();
          if (info !== undefined) this.set(gwei({ num: info.reserveFundsRemaining, den: 1n }));
        },
      });
    }
    new Gauge({
      name: "livepeer_gateway_orchestrators",
      help: "Orchestrators known to discovery, and those usable now (answered recently, not blocklisted).",
      labelNames: ["state"],
      registers,
      collect() {
        const snapshot = sources.snapshot();
        this.set({ state: "known" }, snapshot.orchestrators.length);
        this.set({ state: "usable" }, snapshot.usableOrchestrators().length);
      },
    });
    new Gauge({
      name: "livepeer_gateway_capability_orchestrators",
      help: "Per capability: orchestrators offering it, those ejected by health now, and those healthy (offering and not ejected).",
      labelNames: ["capability", "state"],
      registers,
      collect() {
        this.reset();
        const snapshot = sources.snapshot();
        for (const capability of snapshot.capabilities()) {
          const offering = new Set(snapshot.offers(capability).map((offer) => offer.orchestratorUri)).size;
          this.set({ capability, state: "offering" }, offering);
          this.set({ capability, state: "ejected" }, 0);
          this.set({ capability, state: "healthy" }, offering);
        }
        const ejected = new Map<string, Set<string>>();
        for (const state of sources.healthStates()) {
          if (!state.ejected) continue;
          const set = ejected.get(state.key.capability) ?? new Set<string>();
          set.add(state.key.orchestratorUri);
          ejected.set(state.key.capability, set);
        }
        for (const [capability, uris] of ejected) {
          const offering = new Set(snapshot.offers(capability).map((offer) => offer.orchestratorUri));
          const ejectedOffering = [...uris].filter((uri) => offering.has(uri)).length;
          this.set({ capability, state: "ejected" }, uris.size);
          this.set({ capability, state: "healthy" }, offering.size - ejectedOffering);
        }
      },
    });
  }

  /** Wire to HealthTracker.onEjectionTransition. Keys come from routed offers, so labels stay within the snapshot. */
  ejectionTransition(key: HealthKey, transition: EjectionTransition): void {
    this.ejectionTransitions.inc({ capability: key.capability, orchestrator: key.orchestratorUri, transition });
  }

  ticketsSent(capability: string, orchestratorUri: string, tickets: number, value: Ratio): void {
    this.ticketsSentCount.inc({ capability, orchestrator: orchestratorUri }, tickets);
    this.ticketValueSent.inc({ capability, orchestrator: orchestratorUri }, gwei(value));
  }

  paymentRefused(capability: string, orchestratorUri: string, reason: string): void {
    this.paymentCreateErrors.inc({ capability, orchestrator: orchestratorUri, reason });
  }

  spent(capability: string, orchestratorUri: string, wei: Ratio): void {
    this.spend.inc({ capability, orchestrator: orchestratorUri }, gwei(wei));
  }

  discoveryError(): void {
    this.discoveryErrors.inc();
  }

  attempt(capability: string, record: AttemptRecord): void {
    if (!record.sent) return;
    this.attempts.inc({ capability, orchestrator: record.orchestratorUri, outcome: record.outcome });
    this.attemptSeconds.observe({ capability, orchestrator: record.orchestratorUri }, record.latencyMs / 1000);
  }

  job(capability: string, result: JobResult, durationMs: number, attempts: readonly AttemptRecord[]): void {
    this.jobs.inc({ capability, result });
    this.jobSeconds.observe({ capability, result }, durationMs / 1000);
    const sent = attempts.filter((a) => a.sent);
    for (const failed of sent.slice(0, -1)) this.failovers.inc({ capability, reason: failed.outcome });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

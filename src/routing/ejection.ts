// Outlier ejection of one key in the manner of Envoy and gRPC (A50): timed ejections that grow with repetition and decay
// with health, and a single probe when the time is up.

export interface EjectionPolicy {
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Healthy time after which the ejection count drops by one. */
  ejectionDecayMs: number;
  /** How long a handed-out probe blocks other callers when its outcome never arrives. */
  probeTimeoutMs: number;
}

export class Ejection {
  ejected = false;
  ejectedUntil = 0;
  private storedEjections = 0;
  private healthySince = 0;
  private probeIssued = false;
  private probeIssuedAt = 0;

  /** Ejections so far, less one for every ejectionDecayMs of health since the last restore. */
  ejections(now: number, policy: EjectionPolicy): number {
    if (this.ejected || this.storedEjections === 0) return this.storedEjections;
    const decayed = Math.floor(Math.max(0, now - this.healthySince) / policy.ejectionDecayMs);
    return Math.max(0, this.storedEjections - decayed);
  }

  /**
   * Whether a request may go to this key now. Once the ejection time is up, exactly one caller gets true (the probe);
   * if its outcome never arrives, another caller gets the probe after probeTimeoutMs so the key cannot stay stuck.
   */
  admit(now: number, policy: EjectionPolicy): boolean {
    if (!this.ejected) return true;
    if (now < this.ejectedUntil || this.probing(now, policy)) return false;
    this.probeIssued = true;
    this.probeIssuedAt = now;
    return true;
  }

  probing(now: number, policy: EjectionPolicy): boolean {
    return this.probeIssued && now - this.probeIssuedAt < policy.probeTimeoutMs;
  }

  /** The ejection time is up: the next success or failure decides the key, whether or not a probe was handed out. */
  timeUp(now: number): boolean {
    return this.ejected && now >= this.ejectedUntil;
  }

  /** Ejects for base × ejections so far (this one included), capped; also used to re-eject after a failed probe. */
  eject(now: number, policy: EjectionPolicy): void {
    this.storedEjections = this.ejections(now, policy) + 1;
    this.ejected = true;
    this.ejectedUntil = now + Math.min(policy.baseEjectionMs * this.storedEjections, Math.max(policy.baseEjectionMs, policy.maxEjectionMs));
    this.probeIssued = false;
  }

  restore(now: number): void {
    this.ejected = false;
    this.healthySince = now;
    this.probeIssued = false;
  }

  /** The probe came back without a verdict (busy, payment trouble): let the next caller probe. */
  releaseProbe(): void {
    this.probeIssued = false;
  }
}

/**
 * Envoy's max_ejection_percent: eject only while the ejected share of the population stays within the limit, except
 * that one key may always be ejected (so a capability served by a single broken orchestrator still gets its ejection).
 */
export function ejectionAllowed(alreadyEjected: number, population: number, maxEjectionPercent: number): boolean {
  return alreadyEjected === 0 || (alreadyEjected + 1) * 100 <= maxEjectionPercent * population;
}

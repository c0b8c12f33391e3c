// Where orchestrator URIs come from: a static list (-orchAddr) or go-livepeer's discovery webhook (-orchWebhookUrl).
import type { Logger } from "../log.js";
import { normalizeOrchestratorUri } from "./orch-addr.js";

export interface OrchestratorSource {
  /** Shown in logs and /status. */
  readonly description: string;
  /** The current list. Never throws: a source that fails keeps answering with what it last knew. */
  uris(): Promise<readonly string[]>;
}

export class StaticSource implements OrchestratorSource {
  constructor(
    private list: readonly string[],
    private readonly label = "orchAddr",
  ) {}

  get description(): string {
    return `${this.label} (${this.list.length} orchestrators)`;
  }

  async uris(): Promise<readonly string[]> {
    return this.list;
  }

  /** A new list (a configuration reload); the next refresh uses it. */
  replace(list: readonly string[]): void {
    this.list = list;
  }
}

export interface WebhookSourceOptions {
  /** go-livepeer refetches at most once a minute (common.WebhookDiscoveryRefreshInterval). */
  refreshIntervalMs?: number;
  /** go-livepeer's webhook client timeout: 3 s. */
  timeoutMs?: number;
  maxBodyBytes?: number;
  now?: () => number;
  logger: Logger;
}

/**
 * go-livepeer's webhook format: GET <url> answers a JSON array of {"address": "https://host:port", "score": n}.
 * Unlike go-livepeer, a failing webhook is asked again only after the refresh interval, not on every call, and a
 * bad entry is skipped with a warning naming it while the rest of the list is used.
 */
export class WebhookSource implements OrchestratorSource {
  readonly description: string;
  private list: readonly string[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private readonly refreshIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(
    private readonly url: string,
    options: WebhookSourceOptions,
  ) {
    this.description = `orchWebhookUrl ${redactUrl(url)}`;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  async uris(): Promise<readonly string[]> {
    if (this.now() - this.fetchedAt >= this.refreshIntervalMs) {
      // One fetch at a time, shared by concurrent callers.
      this.inFlight ??= this.refresh().finally(() => (this.inFlight = undefined));
      await this.inFlight;
    }
    return this.list;
  }

  private async refresh(): Promise<void> {
    this.fetchedAt = this.now();
    try {
      const body = await this.fetchBody();
      this.list = this.parse(body);
    } catch (err) {
      this.logger.warn(
        { source: this.description, err: (err as Error).message, kept: this.list.length },
        "orchestrator webhook failed; keeping the last good list",
      );
    }
  }

  private async fetchBody(): Promise<string> {
    const response = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: "follow" });
    if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > this.maxBodyBytes) throw new Error(`webhook body of ${declared} bytes exceeds ${this.maxBodyBytes}`);
    const body = await response.text();
    if (body.length > this.maxBodyBytes) throw new Error(`webhook body exceeds ${this.maxBodyBytes} bytes`);
    return body;
  }

  private parse(body: string): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new Error("webhook body is not JSON");
    }
    if (!Array.isArray(parsed)) throw new Error("webhook body is not a JSON array of {address, score}");
    const uris: string[] = [];
    for (const [index, entry] of parsed.entries()) {
      const address = (entry as { address?: unknown } | null)?.address;
      if (address === "" || address === undefined) continue; // go-livepeer skips empty addresses silently
      try {
        if (typeof address !== "string") throw new Error(`address is not a string`);
        const uri = normalizeOrchestratorUri(address);
        if (!uris.includes(uri)) uris.push(uri);
      } catch (err) {
        this.logger.warn({ source: this.description, index, err: (err as Error).message }, "skipping webhook entry");
      }
    }
    return uris;
  }
}

/** Webhook URLs may carry tokens in their query or user info; logs show neither. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const credentials = parsed.username || parsed.password ? "***@" : "";
    return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname}${parsed.search ? "?***" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

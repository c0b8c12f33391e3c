// The plain HTTP routes go-livepeer tooling already uses, next to the RPCs: /getNetworkCapabilities (go-livepeer's
// exact JSON), /status and /healthz; and Prometheus' /metrics.
import type { Discovery } from "../discovery/discovery.js";
import type { IndexedInfo } from "../network/indexed-info.js";
import type { NetworkSnapshot } from "../network/snapshot.js";
import { SnapshotMemo } from "../network/snapshot-memo.js";
import { formatPrice } from "../network/price.js";
import { joinBytes } from "../util/join-bytes.js";
import { mapInSlices } from "../util/slices.js";
import { AROUND_ORCHESTRATORS, encodeNetworkCapabilitiesOrchestrator } from "./network-capabilities-json.js";

/** The part of Node's HTTP/1.1 and HTTP/2 request and response objects these routes use. */
interface Request {
  readonly url?: string;
  readonly method?: string;
}
interface Response {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body: string | Buffer): unknown;
}

export interface HttpRouteContext {
  discovery: Discovery;
  /** Descriptions of the orchestrator sources, for /status. */
  sources: readonly string[];
  version: string;
  startedAt: number;
  simulated: boolean;
  /** Prometheus exposition for /metrics; the route is absent without it. */
  metrics?: { exposition(): Promise<{ contentType: string; body: string }> };
}

function send(res: Response, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The /getNetworkCapabilities body of each snapshot: building it decodes every orchestrator's info. Kept as UTF-8,
 * so that a call sends it as it is (at 10,000 orchestrators, 72 MB to encode per call otherwise).
 */
const networkCapabilitiesBodies = new SnapshotMemo<Promise<Buffer>>();

/**
 * Each info's part of the body, as UTF-8; once a body is built, a view into it. An info's part depends on it alone,
 * and discovery keeps an IndexedInfo while the orchestrator lists the same: the next sweep's body decodes only the
 * infos that changed.
 */
const bodyParts = new WeakMap<IndexedInfo, Buffer>();

function bodyPart(info: IndexedInfo): Buffer {
  let part = bodyParts.get(info);
  if (part === undefined) bodyParts.set(info, (part = Buffer.from(encodeNetworkCapabilitiesOrchestrator({ info: info.decode() }))));
  return part;
}

const BEFORE_ORCHESTRATORS = Buffer.from(AROUND_ORCHESTRATORS.before);
const AFTER_ORCHESTRATORS = Buffer.from(AROUND_ORCHESTRATORS.after);
const COMMA = Buffer.from(",");

/**
 * go-livepeer answers any method with the JSON below, or 500-then-JSON when it has no data (and only on-chain).
 * Here it is always 200 with the orchestrators that answered recently, off-chain too. Built once per snapshot, a
 * slice of orchestrators at a time (as GetNetworkCapabilities is), so that routing goes on meanwhile.
 */
export function networkCapabilitiesBody(snapshot: NetworkSnapshot): Promise<Buffer> {
  return networkCapabilitiesBodies.getAsync(snapshot, "", async () => {
    const infos = snapshot.usableOrchestrators().flatMap((state) => (state.info ? [state.info] : []));
    const parts = await mapInSlices(infos, bodyPart);
    const { bytes, starts } = await joinBytes(BEFORE_ORCHESTRATORS, parts, COMMA, AFTER_ORCHESTRATORS);
    for (const [i, info] of infos.entries()) {
      const start = starts[i] as number;
      bodyParts.set(info, bytes.subarray(start, start + (parts[i] as Buffer).length));
    }
    return bytes;
  });
}

function statusBody(context: HttpRouteContext): string {
  const snapshot = context.discovery.snapshot;
  const capabilities: Record<string, unknown> = {};
  for (const capability of snapshot.capabilities()) {
    const offers = snapshot.offers(capability);
    const known = offers.flatMap((offer) => (offer.price ? [offer.price] : []));
    capabilities[capability] = {
      orchestrators: new Set(offers.map((offer) => offer.orchestratorUri)).size,
      warm: offers.filter((offer) => offer.warm).length,
      models: snapshot.models(capability).filter((model) => model !== ""),
      pricesWeiPerUnit: known.map(formatPrice),
    };
  }
  return JSON.stringify({
    Version: context.version,
    Simulated: context.simulated,
    UptimeSeconds: Math.floor((Date.now() - context.startedAt) / 1000),
    Sources: context.sources,
    Snapshot: { version: snapshot.version, time: new Date(snapshot.createdAt).toISOString() },
    // go-livepeer's /status keys, so that existing dashboards find the pool where they look for it.
    OrchestratorPool: snapshot.orchestrators.map((o) => o.uri),
    OrchestratorPoolInfos: snapshot.orchestrators.map((o) => ({
      Url: o.uri,
      Score: 1,
      Latency: o.observation.latencyMs === undefined ? null : Math.round(o.observation.latencyMs * 1e6),
      Usable: o.usable,
      Reachable: o.observation.reachable,
      LastError: o.observation.lastError ?? null,
      ConsecutiveFailures: o.observation.consecutiveFailures,
    })),
    Capabilities: capabilities,
  });
}

/** Serves a route and returns true, or returns false for paths it does not know. */
export function handleHttpRoute(context: HttpRouteContext, req: Request, res: Response): boolean {
  const path = (req.url ?? "/").split("?")[0];
  switch (path) {
    case "/getNetworkCapabilities":
      networkCapabilitiesBody(context.discovery.snapshot).then(
        (body) => send(res, 200, "application/json", body),
        (err: unknown) => send(res, 500, "text/plain; charset=utf-8", `listing the network failed: ${String(err)}\n`),
      );
      return true;
    case "/status":
      send(res, 200, "application/json", statusBody(context));
      return true;
    case "/metrics": {
      const { metrics } = context;
      if (metrics === undefined) return false;
      metrics.exposition().then(
        ({ contentType, body }) => send(res, 200, contentType, body),
        (err: unknown) => send(res, 500, "text/plain; charset=utf-8", `metrics failed: ${String(err)}\n`),
      );
      return true;
    }
    case "/healthz":
      send(res, 200, "text/plain; charset=utf-8", "");
      return true;
    default:
      return false;
  }
}

export function notFound(req: Request, res: Response): void {
  send(res, 404, "text/plain; charset=utf-8", `404 page not found: ${req.method ?? "GET"} ${(req.url ?? "/").split("?")[0]}\n`);
}

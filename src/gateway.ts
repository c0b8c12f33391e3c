// Builds a running gateway from its config: identity, orchestrator sources (or the simulated network),
// discovery and the listeners. The CLI and the tests both start gateways through here.
import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import { startGatewayServers, type GatewayServers } from "./api/gateway-server.js";
import { HealthStatus } from "./api/grpc-health.js";
import type { GatewayConfig } from "./config.js";
import type { Devnet } from "./devnet/network.js";
import { Discovery } from "./discovery/discovery.js";
import { StaticSource, WebhookSource, type OrchestratorSource } from "./discovery/sources.js";
import { offchainIdentity, walletIdentity, type GatewayIdentity } from "./eth/identity.js";
import type { Logger } from "./log.js";
import { OrchestratorClientPool } from "./orchestrator/orchestrator-client.js";
import { fixedEthUsdRate, type EthUsdRate } from "./network/currency.js";
import { HealthTracker } from "./routing/health.js";
import type { HealthOptions } from "./routing/health-options.js";
import { currenciesNeedingRate, parsePriceCeilingConfig, PriceCeilings } from "./routing/price-ceilings.js";
import { RetryProfiles } from "./routing/retry-profiles.js";
import { Router } from "./routing/router.js";
import { DEFAULT_RANKING_WEIGHTS } from "./routing/selector.js";
import { seededRandom } from "./util/random.js";
import { GatewayMetrics } from "./metrics/gateway-metrics.js";
import { byocWirePort } from "./jobs/byoc-wire-port.js";
import { ClientJobLimits } from "./jobs/client-limits.js";
import { InFlight } from "./jobs/in-flight.js";
import { JobRunner } from "./jobs/job-runner.js";
import { RetryBudget } from "./jobs/retry-budget.js";
import { encodeOrchestratorJobHeader, jobSignerOf } from "./orchestrator/byoc-job-request.js";
import { generateAdminToken, resolveAdminToken } from "./api/bearer-token.js";
import type { OnchainPayments } from "./eth/onchain-payments.js";
import type { PriceFeedWatcher } from "./eth/price-feed.js";

/** Settings a reload cannot change: listeners, identity and the kind of orchestrator source. */
const RESTART_SETTINGS = ["httpAddr", "cliAddr", "tlsCertFile", "tlsKeyFile", "ethKeystorePath", "ethAcctAddr", "orchWebhookUrl", "devnet", "network", "chain", "adminToken"] as const;

/** JSON with bigints as strings, to compare settings that hold wei amounts. */
const settingText = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "";

/**
 * The package's version, from its package.json: one directory up from src/ and from the build's dist/, two from a
 * build that keeps the src/ level (the benchmarks').
 */
export const GATEWAY_VERSION: string = packageVersion();

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const path of ["../package.json", "../../package.json"]) {
    try {
      return (require(path) as { version: string }).version;
    } catch {
      // not at this level
    }
  }
  return "0.0.0";
}

export interface Gateway {
  readonly config: GatewayConfig;
  readonly identity: GatewayIdentity;
  readonly discovery: Discovery;
  readonly router: Router;
  readonly servers: GatewayServers;
  readonly devnet?: Devnet;
  /** The file holding the generated admin token, when -adminToken was not given (never the token itself). */
  readonly adminTokenFile?: string;
  readonly health: HealthTracker;
  readonly metrics: GatewayMetrics;
  /** On-chain only: the chain connection and the payer. */
  readonly payments?: OnchainPayments;
  /**
   * Applies a new configuration without dropping requests: price ceilings, retry profiles and the -orchAddr list.
   * Throws, changing nothing, when the new settings are wrong. Returns what changed, and what needs a restart.
   */
  reload(next: GatewayConfig): Promise<string[]>;
  close(): Promise<void>;
}

async function loadIdentity(config: GatewayConfig): Promise<GatewayIdentity> {
  if (config.ethKeystorePath === undefined) return offchainIdentity();
  if (config.ethPassword === undefined) throw new Error("-ethKeystorePath needs -ethPassword (the password or a file holding it)");
  // The on-chain modules (ethers' wallets, providers and contracts) are loaded only by a gateway that uses them.
  const { loadKeystoreWallet } = await import("./eth/keystore.js");
  const wallet = await loadKeystoreWallet({
    keystorePath: config.ethKeystorePath,
    password: config.ethPassword,
    account: config.ethAcctAddr,
  });
  return walletIdentity(wallet);
}

function sourceFor(config: GatewayConfig, devnet: Devnet | undefined, logger: Logger): OrchestratorSource {
  if (devnet) return new StaticSource(devnet.uris, "simulated network");
  if (config.orchWebhookUrl !== undefined) return new WebhookSource(config.orchWebhookUrl, { logger });
  return new StaticSource(config.orchAddr);
}

function ceilingConfigOf(config: GatewayConfig) {
  return parsePriceCeilingConfig({
    maxPricePerUnit: config.maxPricePerUnit,
    pixelsPerUnit: config.pixelsPerUnit,
    maxPricePerCapability: config.maxPricePerCapability,
  });
}

/** On-chain, USD ceilings without -ethUsdRate are converted at the Chainlink feed's rate (go-livepeer's default). */
function needsPriceFeed(config: GatewayConfig): boolean {
  return config.chain !== undefined && config.ethUsdRate === undefined && currenciesNeedingRate(ceilingConfigOf(config)).length > 0;
}

/**
 * Ceilings, profiles and the rate, checked before anything starts: a bad value stops start-up naming it. The rate is
 * -ethUsdRate when set, else `feedRate` (the price feed's, on-chain).
 */
function routingSettings(config: GatewayConfig, logger: Logger, feedRate?: EthUsdRate) {
  const rate: EthUsdRate | undefined = config.ethUsdRate === undefined ? feedRate : fixedEthUsdRate(config.ethUsdRate);
  const ceilingConfig = ceilingConfigOf(config);
  for (const warning of ceilingConfig.warnings) logger.warn({ setting: "-maxPricePerCapability" }, warning);
  const missing = currenciesNeedingRate(ceilingConfig).filter((currency) => currency !== rate?.currency);
  if (missing.length > 0) {
    throw new Error(`price ceilings in ${missing.join(", ")} need an exchange rate: set -ethUsdRate${config.chain ? "" : ", or run on-chain to read the price feed"}`);
  }
  const ceilings = PriceCeilings.resolve(ceilingConfig, rate);
  const profiles = RetryProfiles.fromSettings({ config: config.retryProfiles, aiProcessingRetryTimeout: config.aiProcessingRetryTimeout });
  return { rate, ceilings, profiles };
}

/** Seams for tests: a controllable clock and health tuning. */
export interface GatewayOverrides {
  /** The wall clock of health (ejection, probing), routes and retry budgets; job latencies use a real monotonic clock. */
  now?: () => number;
  health?: Partial<HealthOptions>;
}

export async function startGateway(config: GatewayConfig, logger: Logger, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const now = overrides.now ?? Date.now;
  // Checked before anything slow starts; with a price feed ahead, any positive USD rate serves to check the syntax.
  routingSettings(config, logger, needsPriceFeed(config) ? { currency: "USD", perEth: { num: 1n, den: 1n }, source: "check" } : undefined);
  const identity = await loadIdentity(config);
  let onchain: OnchainPayments | undefined;
  let priceFeed: PriceFeedWatcher | undefined;
  const metrics = new GatewayMetrics({
    snapshot: () => discovery.snapshot,
    healthStates: () => health.states({}),
    ...(config.chain ? { senderInfo: () => onchain?.senderInfo() } : {}),
  });
  if (config.chain !== undefined) {
    const { startOnchainPayments } = await import("./eth/onchain-payments.js");
    onchain = await startOnchainPayments(config.chain, identity, logger, metrics);
    if (needsPriceFeed(config)) {
      try {
        const { PriceFeedWatcher } = await import("./eth/price-feed.js");
        priceFeed = await PriceFeedWatcher.start(onchain.chain.provider, config.chain.priceFeedAddr, {
          logger,
          onUpdate: (updated) => {
            currentRate = updated;
            const next = routingSettings(currentConfig, logger, updated);
            router.reconfigure(next.ceilings, next.profiles);
          },
        });
      } catch (err) {
        onchain.close();
        throw err;
      }
    }
  }
  let currentConfig = config;
  const { rate, ceilings, profiles } = routingSettings(config, logger, priceFeed?.current());
  let currentRate = rate;
  const tls =
    config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined
      ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile) }
      : undefined;
  // Fault switching on the simulated network needs a bearer token: -adminToken, or a generated one in a private file.
  const admin = config.devnet
    ? config.adminToken !== undefined
      ? { token: await resolveAdminToken(config.adminToken), path: undefined }
      : await generateAdminToken()
    : undefined;
  // Loaded only when it runs: the simulator and its certificate generation are ~20 MB an operator's gateway never uses.
  const devnet = config.devnet ? await (await import("./devnet/network.js")).startDevnet({ adminToken: admin?.token }) : undefined;
  const clients = new OrchestratorClientPool();
  const source = sourceFor(config, devnet, logger);
  const discovery = new Discovery(
    { source, clients, signer: identity, logger, onError: () => metrics.discoveryError() },
    {
      intervalMs: config.discoveryIntervalMs,
      callTimeoutMs: config.discoveryTimeoutMs,
      concurrency: config.discoveryConcurrency,
      blocklist: config.orchBlocklist,
      gatewayVersion: GATEWAY_VERSION,
    },
  );
  // Health keys are per (orchestrator, capability, model); the ejection budget counts who serves each pair now.
  const health = new HealthTracker(overrides.health ?? {}, now, (capability, modelId) =>
    new Set(discovery.snapshot.offers(capability, modelId || undefined).map((offer) => offer.orchestratorUri)).size,
  );
  health.onEjectionTransition((key, transition) => metrics.ejectionTransition(key, transition));
  // An orchestrator dropped from the sources takes its health history (and ejection budget share) with it.
  let listed = new Set<string>();
  discovery.onSnapshot((snapshot) => {
    const now = new Set(snapshot.orchestrators.map((state) => state.uri));
    for (const uri of listed) if (!now.has(uri)) health.forget(uri);
    listed = now;
  });
  const router = new Router(discovery, health, ceilings, profiles, {
    weights: { ...DEFAULT_RANKING_WEIGHTS, ...config.rankingWeights, explorationShare: config.explorationShare },
    regions: config.orchRegions,
    minVersion: config.orchMinLivepeerVersion,
    random: config.selectionSeed === undefined ? Math.random : seededRandom(config.selectionSeed),
    get rate() {
      return currentRate; // the price feed moves it hourly
    },
    now,
  });
  const byoc = byocWirePort(identity);
  const runner = new JobRunner({
    router,
    health,
    port: byoc,
    budget: new RetryBudget(undefined, now),
    inFlight: new InFlight(),
    signJob: (spec) => encodeOrchestratorJobHeader(
      { id: spec.jobId, request: spec.requestJson, parameters: spec.parametersJson, capability: spec.capability, timeoutSeconds: spec.timeoutSeconds },
      jobSignerOf(identity),
    ),
    logger,
    maxResponseBytes: config.maxJobResponseBytes,
    observer: metrics,
    ...(onchain ? { payer: onchain.payer } : {}),
    ...(config.hedgeAfterMs !== undefined ? { hedgeAfterMs: config.hedgeAfterMs } : {}),
  });
  const jobs = {
    runner,
    logger,
    maxRequestBytes: config.maxJobRequestBytes,
    maxResponseBytes: config.maxJobResponseBytes,
    clientLimits: new ClientJobLimits(config.maxJobsPerClient),
  };
  let servers: GatewayServers;
  try {
    servers = await startGatewayServers({
      discovery,
      service: {
        discovery,
        router,
        regions: config.orchRegions,
        get rate() {
          return currentRate;
        },
        jobs,
      },
      byoc: jobs,
      sources: [source.description],
      version: GATEWAY_VERSION,
      startedAt: Date.now(),
      simulated: devnet !== undefined,
      metrics,
      http: { ...config.httpAddr, tls },
      cli: config.cliAddr,
      logger,
      health: new HealthStatus(),
    });
  } catch (err) {
    await devnet?.close();
    clients.close();
    byoc.close();
    priceFeed?.stop();
    onchain?.close();
    throw err;
  }
  // Listeners are up before the first sweep ends: the API answers from whatever snapshot exists.
  void discovery.start().catch((err: unknown) => logger.error({ err: (err as Error).message }, "discovery sweep failed"));
  return {
    config,
    identity,
    discovery,
    router,
    servers,
    devnet,
    ...(admin?.path !== undefined ? { adminTokenFile: admin.path } : {}),
    health,
    metrics,
    ...(onchain ? { payments: onchain } : {}),
    async reload(next) {
      const settings = routingSettings(next, logger, priceFeed?.current()); // throws on a bad entry: nothing is changed
      const changes: string[] = [];
      router.reconfigure(settings.ceilings, settings.profiles);
      currentConfig = next;
      changes.push("price ceilings and retry profiles");
      if (source instanceof StaticSource && devnet === undefined && next.orchWebhookUrl === undefined && next.orchAddr.length > 0) {
        source.replace(next.orchAddr);
        changes.push(`orchestrator list (${next.orchAddr.length})`);
        void discovery.refreshNow().catch((err: unknown) => logger.error({ err: (err as Error).message }, "discovery sweep failed"));
      }
      const restartOnly = RESTART_SETTINGS.filter((key) => settingText(next[key]) !== settingText(config[key]));
      if (restartOnly.length > 0) changes.push(`needs a restart to change: ${restartOnly.map((key) => `-${key}`).join(", ")}`);
      return changes;
    },
    async close() {
      await servers.close(5_000);
      await discovery.stop();
      clients.close();
      byoc.close();
      priceFeed?.stop();
      onchain?.close();
      await devnet?.close();
      if (admin?.path !== undefined) await rm(dirname(admin.path), { recursive: true, force: true });
    },
  };
}

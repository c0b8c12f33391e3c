// Entry point: `npm start -- [flags]`. With no orchestrators configured it runs on the built-in simulated network.
import { helpText, parseConfig, type GatewayConfig } from "./config.js";
import { GATEWAY_VERSION, startGateway } from "./gateway.js";
import { createLogger } from "./log.js";

function configOrExit(argv: readonly string[]): GatewayConfig {
  try {
    return parseConfig(argv);
  } catch (err) {
    console.error(`livepeer-gateway: ${(err as Error).message}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = configOrExit(process.argv.slice(2));
  if (config.help) {
    console.log(helpText());
    return;
  }
  const logger = createLogger({ level: config.logLevel });
  // Node's warnings go to the structured log. grpc-js names IP-addressed orchestrators in TLS SNI, which Node
  // flags (DEP0123) once per process; Go clients simply omit SNI for IPs, so that one is expected and dropped.
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) => {
    if (warning.code !== "DEP0123") logger.warn({ warning: warning.message, code: warning.code }, warning.name);
  });
  // One failed request or orchestrator must never take the process down; log what slipped through instead.
  process.on("unhandledRejection", (reason) => logger.error({ err: String(reason) }, "unhandled rejection"));

  let gateway;
  try {
    gateway = await startGateway(config, logger);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, "gateway failed to start");
    process.exitCode = 1;
    return;
  }
  const { servers, devnet, identity } = gateway;
  if (devnet) {
    logger.warn(
      {
        orchestrators: devnet.uris,
        faultInjection: devnet.admin ? `${devnet.admin.uri}/faults` : undefined,
        faultInjectionTokenFile: gateway.adminTokenFile ?? "the -adminToken",
      },
      "SIMULATED NETWORK: no -orchAddr or -orchWebhookUrl given, so the gateway is using built-in simulated orchestrators on loopback",
    );
  }
  logger.info(
    { version: GATEWAY_VERSION, api: servers.api.url, cli: servers.cli?.url, gateway: identity.address, network: config.network },
    "gateway listening",
  );
  gateway.discovery.onSnapshot((snapshot) => {
    logger.debug({ version: snapshot.version, usable: snapshot.usableOrchestrators().length }, "network snapshot");
  });
  void gateway.discovery.refreshNow().then((snapshot) =>
    logger.info(
      {
        orchestrators: snapshot.orchestrators.length,
        usable: snapshot.usableOrchestrators().length,
        capabilities: snapshot.capabilities(),
      },
      "network discovered",
    ),
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    void gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: (err as Error).message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // SIGHUP: read the flags, LP_<FLAG> variables and -config file again; a bad one keeps the old settings and says why.
  process.on("SIGHUP", () => {
    let next: GatewayConfig;
    try {
      next = parseConfig(process.argv.slice(2));
    } catch (err) {
      logger.error({ err: (err as Error).message }, "reload refused: the old configuration stays");
      return;
    }
    gateway.reload(next).then(
      (changes) => logger.info({ changes }, "configuration reloaded"),
      (err: unknown) => logger.error({ err: (err as Error).message }, "reload refused: the old configuration stays"),
    );
  });
}

void main();

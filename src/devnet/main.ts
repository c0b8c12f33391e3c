// `npm run devnet`: starts the default simulated network on 127.0.0.1 and prints what to give a gateway.
//   -port <n>   first port; the orchestrators' gRPC servers take n, n+1, ..., their BYOC service ports the next
//               ones, and the admin endpoint the port after those (default: free ports)
import { formatPrice } from "../network/price.js";
import { generateAdminToken } from "../api/bearer-token.js";
import { DEFAULT_DEVNET_SPECS, devnetPortCount, startDevnet, type Devnet } from "./network.js";
import type { SimulatedOrchestrator } from "./orchestrator.js";

/** What one unit of each pipeline's price is (go-livepeer bills AI work in these units). */
const BILLING_UNITS: ReadonlyMap<string, string> = new Map([
  ["llm", "token"],
  ["audio-to-text", "ms of audio"],
  ["text-to-speech", "character"],
]);

function parseFirstPort(args: readonly string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const match = /^--?port(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument "${arg}" (usage: npm run devnet -- [-port <first port>])`);
    const value = match[1] ?? args[++i];
    const port = Number(value);
    const count = devnetPortCount(DEFAULT_DEVNET_SPECS.length);
    const last = port + count - 1;
    if (!Number.isInteger(port) || port < 1 || last > 65535) {
      throw new Error(
        `-port must be a whole number from 1 to ${65536 - count} (the devnet takes ${count} ports from it), got "${value ?? ""}"`,
      );
    }
    return port;
  }
  return undefined;
}

function describeOffers(orchestrator: SimulatedOrchestrator): string {
  const { spec } = orchestrator;
  const ai = Object.entries(spec.pipelines).flatMap(([pipeline, models]) =>
    models.map((model) => {
      const unit = BILLING_UNITS.get(pipeline) ?? "pixel";
      const state = model.warm ? "warm" : "cold";
      return `${pipeline} ${model.modelId} (${state}, ${formatPrice(model.price)} wei/${unit})`;
    }),
  );
  const byoc = spec.byoc.map((capability) => `byoc ${capability.name} (${formatPrice(capability.pricePerSecond)} wei/s)`);
  return [...ai, ...byoc].join("; ");
}

function printNetwork(devnet: Devnet, tokenFile: string): void {
  console.log("SIMULATED Livepeer network (devnet): fake orchestrators on 127.0.0.1.");
  console.log(
    "They answer net.Orchestrator/GetOrchestrator and BYOC /process/token and /process/request/<path> like " +
      "go-livepeer;\nno GPUs, no models, no real money.\n",
  );
  for (const orchestrator of devnet.orchestrators) {
    const { spec } = orchestrator;
    console.log(
      `${spec.name}  ${orchestrator.uri}  ${orchestrator.address}  v${spec.version}, ` +
        `base ${formatPrice(spec.transcodingPrice)} wei/pixel; ${describeOffers(orchestrator)}\n` +
        `  service URI (BYOC): ${orchestrator.serviceUri}`,
    );
  }
  console.log(`\nGateway flag:\n  -orchAddr ${devnet.orchAddr}\n`);
  if (devnet.admin) {
    const first = devnet.orchestrators[0];
    const auth = `-H "Authorization: Bearer $(cat ${tokenFile})"`;
    console.log(`Admin (BYOC fault injection): ${devnet.admin.uri}; changes need the token in ${tokenFile}`);
    console.log(`  curl ${devnet.admin.uri}/faults`);
    if (first) {
      const capability = first.byoc.capabilities[0] ?? "*";
      console.log(
        `  curl -X PUT ${auth} ${devnet.admin.uri}/faults -d '{"orchestrator":"${first.spec.name}","capability":"${capability}",` +
          `"fault":{"mode":"latency","ms":200}}'`,
      );
    }
    console.log(`  curl -X DELETE ${auth} ${devnet.admin.uri}/faults\n`);
  }
  console.log("Press Ctrl+C to stop.");
}

async function main(): Promise<void> {
  const firstPort = parseFirstPort(process.argv.slice(2));
  // The token lives in a private file; only its path is printed.
  const admin = await generateAdminToken();
  const devnet = await startDevnet({ ...(firstPort === undefined ? {} : { firstPort }), adminToken: admin.token });
  printNetwork(devnet, admin.path);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`\n${signal} again: exiting now.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping the simulated network...`);
    devnet.close().then(
      () => {
        console.log("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`devnet: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`devnet: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

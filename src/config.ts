// The gateway's settings, from go-livepeer-style flags ("-orchAddr x", "-orchAddr=x"; "--" also accepted).
// Flags keep go-livepeer's names and meanings where one exists, so a go-livepeer command line carries over.
import { parseListenAddress } from "./api/listen.js";
import { parseVersion } from "./routing/version.js";
import { parseOrchAddrList } from "./discovery/orch-addr.js";
import { parseDuration } from "./util/duration.js";
import { describeJson, isJsonObject } from "./util/exact-json.js";
import { readJsonSetting } from "./util/json-setting.js";
import { similarNames } from "./util/similar-names.js";
import { parseByteSize } from "./util/byte-size.js";
import { configFileValues, environmentValues } from "./config-sources.js";
import { CHAIN_FLAGS, type ChainSettings, parseChainSettings } from "./config-chain.js";

export interface GatewayConfig {
  network: string;
  /** On-chain settings; undefined off-chain (no key needed, no payments). */
  chain?: ChainSettings;
  orchAddr: string[];
  orchWebhookUrl?: string;
  /** Lower-case 0x-hex addresses. */
  orchBlocklist: Set<string>;
  httpAddr: { host: string; port: number };
  cliAddr?: { host: string; port: number };
  tlsCertFile?: string;
  tlsKeyFile?: string;
  discoveryTimeoutMs: number;
  discoveryIntervalMs: number;
  discoveryConcurrency: number;
  ethKeystorePath?: string;
  ethPassword?: string;
  ethAcctAddr?: string;
  /** Run the built-in simulated network: forced by -devnet, implied when no orchestrator source is configured. */
  devnet: boolean;
  /** Raw routing flags; the routing modules parse and check them (see routingSettings in gateway.ts). */
  maxPricePerUnit: string;
  pixelsPerUnit: string;
  maxPricePerCapability?: string;
  ethUsdRate?: string;
  retryProfiles?: string;
  aiProcessingRetryTimeout: string;
  orchMinLivepeerVersion?: readonly number[];
  /** Orchestrator URI → region. */
  orchRegions: Map<string, string>;
  selectionSeed?: number;
  rankingWeights: { latency: number; price: number; reliability: number };
  /** Share of routing decisions that try a lower-ranked orchestrator first (0 to 0.5). */
  explorationShare: number;
  /** Largest job body accepted, and largest answer held in memory (bodies are kept so attempts can be replayed). */
  maxJobRequestBytes: number;
  maxJobResponseBytes: number;
  /** Jobs one client (remote address) may have in flight; 0 = no limit. */
  maxJobsPerClient: number;
  /** Low-latency profile: start a second attempt when the first has not answered after this long; undefined = off. */
  hedgeAfterMs?: number;
  /** -adminToken as given (the token or a file holding it); resolved at start-up. */
  adminToken?: string;
  logLevel: string;
  help: boolean;
}

interface FlagSpec {
  name: string;
  /** Shown in --help: the default as typed on a command line. */
  default: string;
  help: string;
  boolean?: boolean;
  /** Secrets are never echoed back, not even in errors. */
  secret?: boolean;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: "config", default: "", help: "Settings file: JSON or YAML with flag names as keys, or go-livepeer's \"name value\" lines. Flags beat LP_<FLAG> environment variables, which beat the file." },
  { name: "network", default: "offchain", help: "offchain (no key, no payments), arbitrum-one-mainnet or devenv (a local chain; needs -ethController). On-chain the gateway pays orchestrators with tickets." },
  { name: "orchAddr", default: "", help: "Comma-separated orchestrators: host:port or https://host:port (bare host: port 8935)." },
  { name: "orchWebhookUrl", default: "", help: "URL answering go-livepeer's discovery webhook JSON [{\"address\":\"https://host:port\"}]; refetched at most once a minute." },
  { name: "orchBlocklist", default: "", help: "Comma-separated orchestrator ETH addresses to never use (node address or ticket recipient)." },
  { name: "httpAddr", default: "127.0.0.1:9935", help: "API listener: Connect, gRPC, gRPC-Web and HTTP routes on one port." },
  { name: "cliAddr", default: "127.0.0.1:5935", help: "CLI listener with go-livepeer's tooling routes (/getNetworkCapabilities, /status, /healthz); \"off\" disables it." },
  { name: "tlsCertFile", default: "", help: "PEM certificate for TLS on -httpAddr (with -tlsKeyFile); plaintext when unset." },
  { name: "tlsKeyFile", default: "", help: "PEM private key for TLS on -httpAddr." },
  { name: "discoveryTimeout", default: "3s", help: "Deadline of one GetOrchestrator call, connection included." },
  { name: "discoveryInterval", default: "30s", help: "Time between orchestrator refreshes." },
  { name: "discoveryConcurrency", default: "64", help: "GetOrchestrator calls in flight at once during a refresh." },
  { name: "maxPricePerUnit", default: "0", help: "Highest price accepted, per -pixelsPerUnit units: wei, or with a currency (0.5USD, 0.00001ETH). 0 = any. Applies off-chain too." },
  { name: "pixelsPerUnit", default: "1", help: "Units the -maxPricePerUnit price covers (a positive integer)." },
  { name: "maxPricePerCapability", default: "", help: "go-livepeer's per-capability ceilings JSON {\"capabilities_prices\":[...]} (inline or a file path); BYOC names allowed as pipeline." },
  { name: "ethUsdRate", default: "", help: "USD per ETH for prices in USD (e.g. 3000.50); until a price feed is configured." },
  { name: "retryProfiles", default: "", help: "Per-capability retry profiles JSON {\"profiles\":{...},\"capabilities\":{...}} (inline or a file path)." },
  { name: "aiProcessingRetryTimeout", default: "2s", help: "Window for new attempts of capabilities without a retry profile." },
  { name: "orchMinLivepeerVersion", default: "", help: "Leave out orchestrators older than this go-livepeer version (e.g. 0.8.5)." },
  { name: "orchRegions", default: "", help: "Orchestrator regions JSON {\"host:port\": \"us-east\", ...} (inline or a file path), for Route's region preference." },
  { name: "selectionSeed", default: "", help: "Seed for the random spread among near-equal orchestrators (repeatable choices for tests)." },
  { name: "rankingWeights", default: "latency=0.5,price=0.3,reliability=0.2", help: "How much observed latency, price and reliability weigh in ranking." },
  { name: "explorationShare", default: "0.05", help: "Share of routing decisions (0 to 0.5) that put a lower-ranked orchestrator first, so that one ranked down can recover." },
  { name: "maxJobsPerClient", default: "64", help: "Jobs one client (remote address) may have in flight at once; more are refused with 429 / RESOURCE_EXHAUSTED. 0 = no limit." },
  { name: "hedgeAfter", default: "", help: "Low-latency capabilities: when a job's first attempt has not answered after this long (e.g. 300ms), send it to the next orchestrator too; the first answer wins. Off when empty." },
  { name: "maxJobRequestBytes", default: "32MiB", help: "Largest job body accepted (SubmitJob, /process/request); held in memory so a failed attempt can be replayed." },
  { name: "maxJobResponseBytes", default: "64MiB", help: "Largest non-streamed job answer the gateway holds before passing it on." },
  { name: "ethKeystorePath", default: "", help: "Keystore directory or key file (geth V3 JSON) holding the gateway's key." },
  { name: "ethPassword", default: "", help: "Keystore password, or the path of a file holding it.", secret: true },
  { name: "ethAcctAddr", default: "", help: "Account to use from the keystore directory (default: the first)." },
  ...CHAIN_FLAGS,
  { name: "devnet", default: "false", help: "Run the built-in simulated network and use it (the default when no orchestrators are configured).", boolean: true },
  { name: "adminToken", default: "", help: "Bearer token (or a file holding it) that calls changing state at run time need, such as the simulated network's fault switching. Unset: a random one is written to a private file whose path is logged.", secret: true },
  { name: "logLevel", default: "info", help: "trace, debug, info, warn, error or fatal." },
  { name: "help", default: "false", help: "Print this help.", boolean: true },
];

export function helpText(): string {
  const width = Math.max(...FLAGS.map((f) => f.name.length)) + 2;
  const lines = FLAGS.map((f) => {
    const def = f.boolean ? "" : f.default === "" ? " (default: none)" : ` (default: ${f.default})`;
    return `  -${f.name.padEnd(width)}${f.help}${def}`;
  });
  return ["Usage: livepeer-gateway [flags]", "", "Flags (go-livepeer names; -flag value, -flag=value or --flag):", ...lines].join("\n");
}

/** Raw flag values by name, from argv. Throws an Error naming an unknown or incomplete flag. */
export function readFlags(argv: readonly string[]): Map<string, string> {
  const byName = new Map(FLAGS.map((f) => [f.name, f]));
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^--?([A-Za-z][A-Za-z0-9]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new Error(`unexpected argument ${JSON.stringify(arg)}: flags look like -name value`);
    const name = match[1] as string;
    const spec = byName.get(name);
    if (!spec) {
      const similar = similarNames(name, [...byName.keys()]);
      throw new Error(`unknown flag -${name}${similar.length > 0 ? `; did you mean ${similar.map((s) => `-${s}`).join(", ")}?` : ""} (see -help)`);
    }
    let value = match[2];
    if (value === undefined) {
      if (spec.boolean) value = "true";
      else if (i + 1 < argv.length) value = argv[++i] as string;
      else throw new Error(`flag -${name} needs a value`);
    }
    values.set(name, value);
  }
  return values;
}

function parseBoolean(value: string, flag: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new Error(`-${flag} ${JSON.stringify(value)} must be true or false`);
}

function parsePositiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`-${flag} ${JSON.stringify(value)} must be a positive whole number`);
  }
  return n;
}

function parseBlocklist(value: string): Set<string> {
  const addresses = new Set<string>();
  for (const entry of value.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const hex = entry.toLowerCase().startsWith("0x") ? entry.toLowerCase() : `0x${entry.toLowerCase()}`;
    if (!/^0x[0-9a-f]{40}$/.test(hex)) throw new Error(`-orchBlocklist entry ${JSON.stringify(entry)} is not an Ethereum address`);
    addresses.add(hex);
  }
  return addresses;
}

function parseWebhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`-orchWebhookUrl ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`-orchWebhookUrl must be http(s), got ${url.protocol}`);
  return value;
}

function parseRegions(value: string): Map<string, string> {
  const regions = new Map<string, string>();
  if (value.trim() === "") return regions;
  const parsed = readJsonSetting(value, "-orchRegions");
  if (!isJsonObject(parsed)) throw new Error(`-orchRegions must be a JSON object of orchestrator -> region, got ${describeJson(parsed)}`);
  for (const [address, region] of Object.entries(parsed)) {
    if (typeof region !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) {
      const got = typeof region === "string" ? JSON.stringify(region) : describeJson(region);
      throw new Error(`-orchRegions: region of ${JSON.stringify(address)} must be a lower-case name such as "us-east", got ${got}`);
    }
    let uri: string;
    try {
      uri = parseOrchAddrList(address)[0] ?? "";
    } catch (err) {
      throw new Error(`-orchRegions: ${(err as Error).message.replace(/^-orchAddr: /, "")}`);
    }
    if (uri === "") throw new Error(`-orchRegions: ${JSON.stringify(address)} is not an orchestrator address`);
    regions.set(uri, region);
  }
  return regions;
}

function parseShare(value: string, flag: string, max: number): number {
  const share = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(share <= max)) throw new Error(`${flag} ${JSON.stringify(value)} must be a number from 0 to ${max}`);
  return share;
}

function parseWeights(value: string): GatewayConfig["rankingWeights"] {
  const weights = { latency: 0, price: 0, reliability: 0 };
  const seen = new Set<string>();
  for (const part of value.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const [name, number] = part.split("=");
    if (name === undefined || !(name in weights) || number === undefined || !/^\d+(\.\d+)?$/.test(number) || !Number.isFinite(Number(number))) {
      throw new Error(`-rankingWeights entry ${JSON.stringify(part)} must be latency=, price= or reliability= a non-negative number`);
    }
    if (seen.has(name)) throw new Error(`-rankingWeights gives ${name} twice`);
    seen.add(name);
    weights[name as keyof typeof weights] = Number(number);
  }
  if (weights.latency + weights.price + weights.reliability <= 0) throw new Error("-rankingWeights must give at least one weight above 0");
  return weights;
}

/** Settings from flags, then LP_<FLAG> environment variables, then the -config file, then the defaults. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const flags = readFlags(argv);
  const names = FLAGS.map((f) => f.name);
  const environment = environmentValues(names, env);
  const configPath = flags.get("config") ?? environment.get("config");
  const file = configPath === undefined || configPath === ""
    ? new Map<string, string>()
    : configFileValues(configPath, names, new Set(FLAGS.filter((f) => f.boolean).map((f) => f.name)));
  const get = (name: string): string =>
    flags.get(name) ?? environment.get(name) ?? file.get(name) ?? FLAGS.find((f) => f.name === name)?.default ?? "";
  const optional = (name: string): string | undefined => (get(name) === "" ? undefined : get(name));
  const given = (name: string): string | undefined => flags.get(name) ?? environment.get(name) ?? file.get(name);

  const network = get("network");
  const chain = parseChainSettings(network, get, given);
  const orchAddr = parseOrchAddrList(get("orchAddr"));
  const orchWebhookUrl = optional("orchWebhookUrl");
  if (chain !== undefined) {
    if (optional("ethKeystorePath") === undefined || optional("ethPassword") === undefined) {
      throw new Error(`-network ${network} pays with tickets signed by the gateway's key: set -ethKeystorePath and -ethPassword`);
    }
    if (orchAddr.length === 0 && orchWebhookUrl === undefined) {
      throw new Error(`-network ${network} needs real orchestrators (-orchAddr or -orchWebhookUrl); the simulated network is off-chain`);
    }
  }
  const cli = get("cliAddr");
  const tlsCertFile = optional("tlsCertFile");
  const tlsKeyFile = optional("tlsKeyFile");
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) throw new Error("-tlsCertFile and -tlsKeyFile go together");
  const devnetFlag = parseBoolean(get("devnet"), "devnet");
  if (devnetFlag && (orchAddr.length > 0 || orchWebhookUrl)) {
    throw new Error("-devnet runs the simulated network instead of -orchAddr/-orchWebhookUrl; give one or the other");
  }
  const logLevel = get("logLevel");
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(logLevel)) {
    throw new Error(`-logLevel ${JSON.stringify(logLevel)} must be one of trace, debug, info, warn, error, fatal, silent`);
  }
  return {
    network,
    chain,
    orchAddr,
    orchWebhookUrl: orchWebhookUrl === undefined ? undefined : parseWebhookUrl(orchWebhookUrl),
    orchBlocklist: parseBlocklist(get("orchBlocklist")),
    httpAddr: parseListenAddress(get("httpAddr"), "-httpAddr"),
    cliAddr: cli === "off" ? undefined : parseListenAddress(cli, "-cliAddr"),
    tlsCertFile,
    tlsKeyFile,
    discoveryTimeoutMs: parseDuration(get("discoveryTimeout"), "-discoveryTimeout"),
    discoveryIntervalMs: parseDuration(get("discoveryInterval"), "-discoveryInterval"),
    discoveryConcurrency: parsePositiveInteger(get("discoveryConcurrency"), "discoveryConcurrency"),
    ethKeystorePath: optional("ethKeystorePath"),
    ethPassword: optional("ethPassword"),
    ethAcctAddr: optional("ethAcctAddr"),
    devnet: devnetFlag || (orchAddr.length === 0 && orchWebhookUrl === undefined),
    maxPricePerUnit: get("maxPricePerUnit"),
    pixelsPerUnit: get("pixelsPerUnit"),
    maxPricePerCapability: optional("maxPricePerCapability"),
    ethUsdRate: optional("ethUsdRate"),
    retryProfiles: optional("retryProfiles"),
    aiProcessingRetryTimeout: get("aiProcessingRetryTimeout"),
    orchMinLivepeerVersion: minVersion(optional("orchMinLivepeerVersion")),
    orchRegions: parseRegions(get("orchRegions")),
    selectionSeed: seed(optional("selectionSeed")),
    rankingWeights: parseWeights(get("rankingWeights")),
    explorationShare: parseShare(get("explorationShare"), "-explorationShare", 0.5),
    maxJobRequestBytes: parseByteSize(get("maxJobRequestBytes"), "-maxJobRequestBytes"),
    maxJobResponseBytes: parseByteSize(get("maxJobResponseBytes"), "-maxJobResponseBytes"),
    maxJobsPerClient: get("maxJobsPerClient") === "0" ? 0 : parsePositiveInteger(get("maxJobsPerClient"), "maxJobsPerClient"),
    hedgeAfterMs: optional("hedgeAfter") === undefined ? undefined : parseDuration(get("hedgeAfter"), "-hedgeAfter"),
    adminToken: optional("adminToken"),
    logLevel,
    help: parseBoolean(get("help"), "help"),
  };
}

function minVersion(value: string | undefined): readonly number[] | undefined {
  if (value === undefined) return undefined;
  const parsed = parseVersion(value);
  if (parsed === undefined) throw new Error(`-orchMinLivepeerVersion ${JSON.stringify(value)} is not a version such as 0.8.5`);
  return parsed;
}

function seed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) throw new Error(`-selectionSeed ${JSON.stringify(value)} must be a whole number below 2^32`);
  return Number(value);
}

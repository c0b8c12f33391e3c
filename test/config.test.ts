import { mkdtempSync, writeFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseListenAddress } from "../src/api/listen.js";
import { helpText, parseConfig } from "../src/config.js";
import { normalizeOrchestratorUri, parseOrchAddrList } from "../src/discovery/orch-addr.js";
import { parseDuration } from "../src/util/duration.js";

describe("-orchAddr", () => {
  it.each([
    ["orch.example.com", "https://orch.example.com:8935"],
    ["orch.example.com:8936", "https://orch.example.com:8936"],
    ["https://orch.example.com:443", "https://orch.example.com:443"],
    ["http://10.0.0.1:8935", "http://10.0.0.1:8935"],
    [":9000", "https://127.0.0.1:9000"],
    ["  1.2.3.4:8935 ", "https://1.2.3.4:8935"],
    ["https://orch.example.com:8935/", "https://orch.example.com:8935"],
  ])("normalises %j like go-livepeer", (entry, uri) => {
    expect(normalizeOrchestratorUri(entry)).toBe(uri);
  });

  it.each([
    ["ftp://x:1", /must use https:\/\/ or http:\/\//],
    ["https://orch:99999", /not a valid host:port/],
    ["https://orch:8935/path", /without a path/],
    ["https://user:pw@orch:8935", /credentials/],
  ])("rejects %j with a message naming it", (entry, message) => {
    expect(() => parseOrchAddrList(`good.example:8935,${entry}`)).toThrow(message);
    expect(() => parseOrchAddrList(`good.example:8935,${entry}`)).toThrow(/^-orchAddr: /);
  });

  it("drops duplicates and empty entries", () => {
    expect(parseOrchAddrList("a:1, ,https://a:1,b")).toEqual(["https://a:1", "https://b:8935"]);
  });
});

describe("flags", () => {
  it("defaults to the simulated network when no orchestrators are configured", () => {
    const config = parseConfig([]);
    expect(config.devnet).toBe(true);
    expect(config.httpAddr).toEqual({ host: "127.0.0.1", port: 9935 });
    expect(config.cliAddr).toEqual({ host: "127.0.0.1", port: 5935 });
    expect(config.network).toBe("offchain");
  });

  it("reads go-livepeer style flags in every spelling", () => {
    const config = parseConfig(["-orchAddr", "a:1", "--discoveryTimeout=750ms", "-orchBlocklist=0xAbCdEf0123456789aBcDeF0123456789AbCdEf01", "-cliAddr", "off"]);
    expect(config.devnet).toBe(false);
    expect(config.orchAddr).toEqual(["https://a:1"]);
    expect(config.discoveryTimeoutMs).toBe(750);
    expect([...config.orchBlocklist]).toEqual(["0xabcdef0123456789abcdef0123456789abcdef01"]);
    expect(config.cliAddr).toBeUndefined();
  });

  it.each([
    [["-orchAdr", "a:1"], /unknown flag -orchAdr; did you mean -orchAddr\?/],
    [["-orchAddr"], /flag -orchAddr needs a value/],
    [["-discoveryTimeout", "soon"], /-discoveryTimeout "soon" is not a duration/],
    [["-discoveryConcurrency", "0"], /-discoveryConcurrency "0" must be a positive whole number/],
    [["-orchBlocklist", "0x123"], /-orchBlocklist entry "0x123" is not an Ethereum address/],
    [["-httpAddr", "localhost"], /-httpAddr "localhost" is not host:port/],
    [["-network", "mainnet"], /-network "mainnet" is not known: use offchain, arbitrum-one-mainnet or devenv/],
    [["-network", "arbitrum-one-mainnet"], /needs -ethUrl/],
    [["-maxTicketEV", "5"], /-maxTicketEV apply on-chain only/],
    [["-ethUrl", "https://rpc.example/KEY"], /-ethUrl apply on-chain only/],
    [["-orchWebhookUrl", "not a url"], /-orchWebhookUrl "not a url" is not a URL/],
    [["-tlsCertFile", "c.pem"], /-tlsCertFile and -tlsKeyFile go together/],
    [["-devnet", "-orchAddr", "a:1"], /-devnet runs the simulated network instead/],
    [["-logLevel", "loud"], /-logLevel "loud" must be one of/],
    [["stray"], /unexpected argument "stray"/],
  ])("rejects %j naming the bad value", (argv, message) => {
    expect(() => parseConfig(argv)).toThrow(message);
  });

  it("never echoes a password back in errors", () => {
    expect(() => parseConfig(["-ethPassword", "hunter2", "-bogus"])).toThrow(/unknown flag -bogus/);
    try {
      parseConfig(["-ethPassword", "hunter2", "-bogus"]);
    } catch (err) {
      expect(String(err)).not.toContain("hunter2");
    }
  });

  it("lists every flag with its default in the help", () => {
    const help = helpText();
    for (const flag of ["-orchAddr", "-orchWebhookUrl", "-orchBlocklist", "-httpAddr", "-cliAddr", "-discoveryTimeout", "-ethKeystorePath"]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain("(default: 127.0.0.1:9935)");
  });
});

describe("-orchRegions and -rankingWeights", () => {
  it("reads regions inline or from a file, keyed by normalised orchestrator URI", async () => {
    const inline = parseConfig(["-orchAddr", "a:1", "-orchRegions", '{"a:1": "eu-west", "https://b:8935": "us-east"}']);
    expect(inline.orchRegions).toEqual(new Map([["https://a:1", "eu-west"], ["https://b:8935", "us-east"]]));
    const dir = await mkdtemp(join(tmpdir(), "regions-"));
    const file = join(dir, "regions.json");
    await writeFile(file, '{"c": "ap-southeast"}');
    expect(parseConfig(["-orchAddr", "a:1", "-orchRegions", file]).orchRegions).toEqual(new Map([["https://c:8935", "ap-southeast"]]));
  });

  it.each([
    ['{"a:1": "eu-west",}', /^-orchRegions: invalid JSON/],
    ["no-such-file.json", /^-orchRegions: "no-such-file.json" is neither inline JSON nor a readable file/],
    ['["a:1"]', /^-orchRegions must be a JSON object of orchestrator -> region, got an array/],
    ['{"a:1": "EU West"}', /^-orchRegions: region of "a:1" must be a lower-case name such as "us-east", got "EU West"/],
    ['{"a:1": 7}', /^-orchRegions: region of "a:1" must be a lower-case name .*, got number 7/],
    ['{"ftp://a:1": "eu"}', /^-orchRegions: .*must use https:\/\/ or http:\/\//],
    ['{"a:1": "eu", "a:1": "us"}', /^-orchRegions: invalid JSON/],
  ])("rejects -orchRegions %s naming the flag", (value, message) => {
    expect(() => parseConfig(["-orchAddr", "a:1", "-orchRegions", value])).toThrow(message);
  });

  it("reads ranking weights", () => {
    expect(parseConfig(["-rankingWeights", "latency=1,price=0.5"]).rankingWeights).toEqual({ latency: 1, price: 0.5, reliability: 0 });
  });

  it.each([
    ["speed=1", /^-rankingWeights entry "speed=1" must be latency=, price= or reliability= a non-negative number/],
    ["latency=-1", /^-rankingWeights entry "latency=-1"/],
    ["latency=fast", /^-rankingWeights entry "latency=fast"/],
    ["latency", /^-rankingWeights entry "latency"/],
    [`latency=1${"0".repeat(400)}`, /^-rankingWeights entry "latency=10+"/],
    ["latency=1,latency=2", /^-rankingWeights gives latency twice/],
    ["latency=0,price=0", /^-rankingWeights must give at least one weight above 0/],
  ])("rejects -rankingWeights %j naming the flag", (value, message) => {
    expect(() => parseConfig(["-rankingWeights", value])).toThrow(message);
  });
});

describe("small parsers", () => {
  it("parses Go durations", () => {
    expect(parseDuration("500ms", "-x")).toBe(500);
    expect(parseDuration("1m30s", "-x")).toBe(90_000);
    expect(parseDuration("2h", "-x")).toBe(7_200_000);
    expect(() => parseDuration("5", "-x")).toThrow(/-x "5" is not a duration/);
  });
  it("parses listen addresses, keeping a bare port on loopback", () => {
    expect(parseListenAddress(":8080", "-httpAddr")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseListenAddress("0.0.0.0:9935", "-httpAddr")).toEqual({ host: "0.0.0.0", port: 9935 });
    expect(parseListenAddress("[::1]:9935", "-httpAddr")).toEqual({ host: "::1", port: 9935 });
    expect(() => parseListenAddress("1.2.3.4:70000", "-httpAddr")).toThrow(/not host:port/);
  });
});

describe("settings from LP_<FLAG> environment variables and a -config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-config-"));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("reads YAML with flag names as keys, lists and objects included", () => {
    const path = write("gateway.yaml", [
      "orchAddr:",
      "  - orch-a.example.com:8935",
      "  - https://orch-b.example.com:8935",
      "explorationShare: 0.1",
      "retryProfiles:",
      "  capabilities:",
      "    depth: { profile: per-frame }",
    ].join("\n"));
    const config = parseConfig(["-config", path], {});
    expect(config.orchAddr).toEqual(["https://orch-a.example.com:8935", "https://orch-b.example.com:8935"]);
    expect(config.explorationShare).toBe(0.1);
    expect(JSON.parse(config.retryProfiles ?? "")).toEqual({ capabilities: { depth: { profile: "per-frame" } } });
  });

  it("reads JSON, and go-livepeer's plain \"name value\" lines", () => {
    expect(parseConfig(["-config", write("gateway.json", '{"maxPricePerUnit": "0.5USD", "ethUsdRate": 3000}')], {}).maxPricePerUnit).toBe("0.5USD");
    const plain = parseConfig(["-config", write("livepeer.conf", "# go-livepeer style\nmaxPricePerUnit 1200\ndevnet\n")], {});
    expect(plain.maxPricePerUnit).toBe("1200");
    expect(plain.devnet).toBe(true);
  });

  it("ranks flags over LP_<FLAG> over the file", () => {
    const path = write("rank.yaml", "maxPricePerUnit: 1\npixelsPerUnit: 7\nlogLevel: warn\n");
    const env = { LP_MAXPRICEPERUNIT: "2", LP_PIXELSPERUNIT: "8", LP_CONFIG: path };
    const config = parseConfig(["-maxPricePerUnit", "3"], env);
    expect(config.maxPricePerUnit).toBe("3"); // flag
    expect(config.pixelsPerUnit).toBe("8"); // environment
    expect(config.logLevel).toBe("warn"); // file (found through LP_CONFIG)
  });

  it.each([
    ["unknown.yaml", "orchAdr: a:8935\n", /-config .*unknown\.yaml: unknown setting "orchAdr"; did you mean "orchAddr"\?/],
    ["broken.json", '{"orchAddr": ', /-config .*broken\.json: not valid JSON or YAML/],
    ["list.yaml", "- a\n- b\n", /must be a mapping of setting names to values, not a list/],
    ["nested.yaml", "config: other.yaml\n", /cannot name another one/],
    ["badvalue.yaml", "explorationShare: 0.9\n", /-explorationShare "0.9" must be a number from 0 to 0.5/],
  ])("refuses %s naming the entry", (name, text, message) => {
    expect(() => parseConfig(["-config", write(name, text)], {})).toThrow(message);
  });

  it("names a file it cannot read", () => {
    expect(() => parseConfig(["-config", join(dir, "missing.yaml")], {})).toThrow(/-config ".*missing\.yaml": cannot read it \(ENOENT\)/);
  });
});

describe("job flags", () => {
  it.each([
    [["-maxJobRequestBytes", "lots"], /-maxJobRequestBytes "lots" is not a size such as 1048576, 512KiB or 32MiB/],
    [["-maxJobResponseBytes", "0"], /-maxJobResponseBytes must be a positive size, got "0"/],
    [["-maxJobsPerClient", "-3"], /-maxJobsPerClient "-3" must be a positive whole number/],
    [["-hedgeAfter", "soon"], /-hedgeAfter "soon" is not a duration/],
    [["-explorationShare", "half"], /-explorationShare "half" must be a number from 0 to 0.5/],
  ])("refuses %j naming the flag", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  it("reads sizes with binary units, 0 as no per-client limit, and a hedge delay", () => {
    const config = parseConfig(["-maxJobRequestBytes", "512KiB", "-maxJobsPerClient", "0", "-hedgeAfter", "250ms"], {});
    expect(config.maxJobRequestBytes).toBe(512 * 1024);
    expect(config.maxJobsPerClient).toBe(0);
    expect(config.hedgeAfterMs).toBe(250);
  });
});

describe("on-chain settings", () => {
  const onChain = ["-network", "arbitrum-one-mainnet", "-ethUrl", "https://arb.example/v2/SECRETKEY", "-ethKeystorePath", "/keys", "-ethPassword", "pw", "-orchAddr", "o.example:8935"];

  it("default to go-livepeer's Arbitrum One Controller, feed and sender limits", () => {
    const config = parseConfig(onChain, {});
    expect(config.chain).toEqual({
      network: "arbitrum-one-mainnet",
      ethUrl: "https://arb.example/v2/SECRETKEY",
      controller: "0xD8E8328501E9645d16Cf49539efC04f734606ee4",
      maxTicketEV: { num: 3_000_000_000_000n, den: 1n },
      maxTotalEV: { num: 20_000_000_000_000n, den: 1n },
      depositMultiplier: 1n,
      priceFeedAddr: "0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612",
      blockPollingIntervalMs: 5_000,
    });
    expect(config.devnet).toBe(false);
    expect(parseConfig(["-orchAddr", "o.example:8935"], {}).chain).toBeUndefined();
  });

  it("reads each limit and checks it, naming the flag", () => {
    const config = parseConfig([...onChain, "-maxTicketEV", "1e12", "-maxTotalEV", "7.5", "-depositMultiplier", "3", "-blockPollingInterval", "2s"], {});
    expect(config.chain?.maxTicketEV).toEqual({ num: 1_000_000_000_000n, den: 1n });
    expect(config.chain?.maxTotalEV).toEqual({ num: 15n, den: 2n });
    expect(config.chain?.depositMultiplier).toBe(3n);
    expect(config.chain?.blockPollingIntervalMs).toBe(2_000);
    for (const [flag, value, message] of [
      ["-maxTicketEV", "-1", /-maxTicketEV "-1" must be a positive amount of wei/],
      ["-maxTotalEV", "0", /-maxTotalEV "0" must be a positive amount of wei/],
      ["-depositMultiplier", "0", /-depositMultiplier "0" must be a whole number above 0/],
      ["-blockPollingInterval", "0", /-blockPollingInterval "0" must be between 100ms and 1h/],
      ["-ethController", "0x12", /-ethController "0x12" is not an Ethereum address/],
      ["-priceFeedAddr", "feed", /-priceFeedAddr "feed" is not an Ethereum address/],
    ] as const) {
      expect(() => parseConfig([...onChain, flag, value], {})).toThrow(message);
    }
  });

  it("needs a key, real orchestrators, and a Controller on devenv", () => {
    expect(() => parseConfig(["-network", "arbitrum-one-mainnet", "-ethUrl", "http://127.0.0.1:8545", "-orchAddr", "o:1"], {})).toThrow(/set -ethKeystorePath and -ethPassword/);
    expect(() => parseConfig(onChain.filter((_, i) => i < 8), {})).toThrow(/needs real orchestrators/);
    expect(() => parseConfig([...onChain.slice(2), "-network", "devenv"], {})).toThrow(/-network devenv needs -ethController/);
  });

  it("never repeats -ethUrl, which may hold an API key", () => {
    let message = "";
    try {
      parseConfig([...onChain.slice(0, 2), "-ethUrl", "not a url SECRETKEY", ...onChain.slice(4)], {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/-ethUrl is not a URL/);
    expect(message).not.toContain("SECRETKEY");
  });
});

// Reloading the configuration (what SIGHUP does): ceilings, retry profiles and the orchestrator list change without
// a restart, and a bad configuration changes nothing and says why.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { GatewayService } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { silentLogger } from "../src/log.js";

const dir = mkdtempSync(join(tmpdir(), "gateway-reload-"));
const file = join(dir, "gateway.yaml");
let devnet: Devnet;
let gateway: Gateway;

/** The settings file: depth's ceiling in wei per second, and the orchestrators to use. */
function writeSettings(depthCeiling: number, orchestrators: readonly string[], extra = ""): void {
  const ceilings = { capabilities_prices: [{ pipeline: "depth", price_per_unit: depthCeiling, pixels_per_unit: 1 }] };
  writeFileSync(file, `maxPricePerCapability: '${JSON.stringify(ceilings)}'\norchAddr: ${JSON.stringify(orchestrators)}\n${extra}`);
}
const args = () => ["-config", file, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off"];

beforeAll(async () => {
  devnet = await startDevnet();
  writeSettings(1_000_000, devnet.uris);
  gateway = await startGateway(parseConfig(args(), {}), silentLogger());
  await gateway.discovery.refreshNow();
});

afterAll(async () => {
  await gateway?.close();
  await devnet?.close();
});

const route = () => createClient(GatewayService, createGrpcTransport({ baseUrl: gateway.servers.api.url })).route({ capability: "depth", count: 10 });

describe("reload", () => {
  it("applies new ceilings and a new orchestrator list", async () => {
    expect((await route()).candidates.length).toBeGreaterThan(1);
    writeSettings(1, devnet.uris); // 1 wei/s: every depth offer is over it now
    const changes = await gateway.reload(parseConfig(args(), {}));
    expect(changes).toContain("price ceilings and retry profiles");
    const refused = await route().then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(refused?.code).toBe(Code.ResourceExhausted);

    const [first] = devnet.uris;
    writeSettings(1_000_000, [first ?? ""]);
    expect(await gateway.reload(parseConfig(args(), {}))).toContain("orchestrator list (1)");
    await gateway.discovery.refreshNow();
    expect(gateway.discovery.snapshot.orchestrators.map((o) => o.uri)).toEqual([first]);
    writeSettings(1_000_000, devnet.uris);
    await gateway.reload(parseConfig(args(), {}));
    await gateway.discovery.refreshNow();
  });

  it("refuses a bad configuration, changing nothing and naming the problem", async () => {
    const before = (await route()).candidates.length;
    writeFileSync(file, "maxPricePerCapability: '{\"capabilities_prices\": [{\"pipeline\": \"depth\", \"price_per_unit\": -5}]}'\n");
    await expect(gateway.reload(parseConfig(args(), {}))).rejects.toThrow(/maxPricePerCapability/);
    expect((await route()).candidates.length).toBe(before);
    writeFileSync(file, "orchAdr: nowhere\n");
    expect(() => parseConfig(args(), {})).toThrow(/unknown setting "orchAdr"/);
  });

  it("says which changed settings need a restart", async () => {
    writeSettings(1_000_000, devnet.uris, "tlsCertFile: cert.pem\ntlsKeyFile: key.pem\n");
    const changes = await gateway.reload(parseConfig(args(), {}));
    expect(changes.join("; ")).toMatch(/needs a restart to change: -tlsCertFile, -tlsKeyFile/);
  });
});

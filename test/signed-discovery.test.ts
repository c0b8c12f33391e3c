// A gateway with a key signs its OrchestratorRequests the way go-livepeer orchestrators verify them, end to end:
// keystore on disk -> gateway identity -> gRPC request -> an orchestrator that checks the signature.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, encryptKeystoreJson } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { DEFAULT_DEVNET_SPECS } from "../src/devnet/network.js";
import { startSimulatedOrchestrator, type SimulatedOrchestrator } from "../src/devnet/orchestrator.js";
import { verifyOrchestratorRequest } from "../src/eth/identity.js";
import { startGateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";

let orchestrator: SimulatedOrchestrator;
const seen: string[] = [];

beforeAll(async () => {
  orchestrator = await startSimulatedOrchestrator(DEFAULT_DEVNET_SPECS[0]!, {
    // What an on-chain go-livepeer orchestrator does (server/rpc.go verifyOrchestratorReq).
    verifyRequest: (request) => {
      try {
        seen.push(verifyOrchestratorRequest(request.address, request.sig));
        return undefined;
      } catch (err) {
        return `Invalid orchestrator request: ${(err as Error).message}`;
      }
    },
  });
});
afterAll(async () => {
  await orchestrator.close();
});

async function gatewayWith(argv: string[]) {
  const gateway = await startGateway(parseConfig(["-orchAddr", orchestrator.uri, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", ...argv]), silentLogger());
  try {
    return await gateway.discovery.refreshNow();
  } finally {
    await gateway.close();
  }
}

describe("signed OrchestratorRequests", () => {
  it("are accepted by an orchestrator that verifies them, from a keystore on disk", async () => {
    const wallet = new Wallet(Wallet.createRandom().privateKey);
    const dir = await mkdtemp(join(tmpdir(), "keystore-"));
    await writeFile(join(dir, "key.json"), await encryptKeystoreJson(wallet, "correct horse", { scrypt: { N: 2 ** 10 } }));
    const passwordFile = join(await mkdtemp(join(tmpdir(), "password-")), "password.txt");
    await writeFile(passwordFile, "correct horse\n");
    const snapshot = await gatewayWith(["-ethKeystorePath", dir, "-ethPassword", passwordFile]);
    expect(snapshot.orchestrator(orchestrator.uri)?.usable).toBe(true);
    expect(seen).toContain(wallet.address);
  });

  it("are refused when off-chain (zero address, empty signature), and the reason reaches the observation", async () => {
    const snapshot = await gatewayWith([]);
    const state = snapshot.orchestrator(orchestrator.uri);
    expect(state?.usable).toBe(false);
    expect(state?.observation.lastError).toMatch(/Invalid orchestrator request: invalid signature length: 0 bytes/);
  });

  it("fail start-up with a clear error for a wrong password, without echoing it", async () => {
    const wallet = new Wallet(Wallet.createRandom().privateKey);
    const dir = await mkdtemp(join(tmpdir(), "keystore-"));
    await writeFile(join(dir, "key.json"), await encryptKeystoreJson(wallet, "right", { scrypt: { N: 2 ** 10 } }));
    const failure = await gatewayWith(["-ethKeystorePath", dir, "-ethPassword", "wrong-password-xyz"]).catch((e: unknown) => e as Error);
    expect(String(failure)).toMatch(/could not decrypt keystore/);
    expect(String(failure)).not.toContain("wrong-password-xyz");
  });
});

// End to end on a real chain: anvil with Livepeer's real Controller and TicketBroker (test/support/anvil.ts), a
// gateway started with -network devenv and a keystore, simulated orchestrators in on-chain mode that issue ticket
// params as go-livepeer does and verify every ticket, and winning tickets redeemed on the TicketBroker by the
// orchestrators' own keys. Bad start-up inputs (no deposit, a wrong password, an unreachable -ethUrl) are refused
// with messages that name them. Skipped where the anvil binary does not run (off linux-x64).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GatewayService } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";
import { encryptKeystoreJsonSync, getAddress, hexlify, Wallet, ZeroHash } from "ethers";
import { parseConfig } from "../src/config.js";
import { startDevnet, type Devnet } from "../src/devnet/network.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { connectChain, type LivepeerChain } from "../src/eth/chain.js";
import { ChainWatcher } from "../src/eth/chain-watcher.js";
import { startGateway, type Gateway } from "../src/gateway.js";
import { silentLogger } from "../src/log.js";
import { weiPerUnit } from "../src/network/price.js";
import { ticketAuxData, ticketHash, type Ticket } from "../src/payments/ticket.js";
import { aggregatorRuntime, creationCode, type FeedState } from "./support/chainlink-mock.js";
import { ANVIL_PLATFORM, deployProtocol, startAnvil, type Anvil, type Protocol } from "./support/anvil.js";

const ETH = 10n ** 18n;
const PRICE_PER_SECOND = 100_000_000n; // 1e8 wei/s: 70 s of work is 7e9 wei, 7 tickets of EV 1e9
const TICKET_EV = 1_000_000_000n;
const PASSWORD = "correct horse battery staple";

const SPECS: SimulatedOrchestratorSpec[] = ["orch-a", "orch-b"].map((name) => ({
  name,
  version: "0.8.9",
  transcodingPrice: weiPerUnit(1n, 1n),
  pipelines: {},
  byoc: [{ name: "echo", pricePerSecond: weiPerUnit(PRICE_PER_SECOND, 1n), capacity: 4 }],
}));

const describeOnChain = ANVIL_PLATFORM ? describe : describe.skip;

describeOnChain("a gateway paying on a real chain", () => {
  let anvil: Anvil;
  let protocol: Protocol;
  let gatewayWallet: Wallet;
  let chain: LivepeerChain;
  let watcher: ChainWatcher;
  let devnet: Devnet;
  let gateway: Gateway;
  let keystoreDir: string;
  const recipients = new Map<string, Wallet>();
  const redeemed: Array<{ hash: string; faceValue: bigint }> = [];
  const redeemFailures: string[] = [];
  let redemptions: Promise<void> = Promise.resolve();

  async function keystoreFor(wallet: Wallet): Promise<string> {
    // A light scrypt keeps the test fast; the format is geth's V3 all the same.
    const json = encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, PASSWORD, { scrypt: { N: 1 << 10 } });
    const path = join(keystoreDir, `key-${wallet.address}.json`);
    await writeFile(path, json);
    return path;
  }

  const flags = (keyPath: string, ethUrl = anvil.url): string[] => [
    "-network", "devenv", "-ethUrl", ethUrl, "-ethController", protocol.controller,
    "-ethKeystorePath", keyPath, "-ethPassword", PASSWORD,
    "-orchAddr", devnet.orchAddr, "-httpAddr", "127.0.0.1:0", "-cliAddr", "off", "-blockPollingInterval", "200ms",
  ];

  /** What an orchestrator does with a winning ticket: redeem it on the TicketBroker, one transaction at a time. */
  function redeem(orchestrator: string, ticket: Ticket, sig: Uint8Array, recipientRand: bigint): void {
    redemptions = redemptions.then(async () => {
      const wallet = recipients.get(orchestrator)!;
      const onChainTicket = {
        recipient: ticket.recipient,
        sender: ticket.sender,
        faceValue: ticket.faceValue,
        winProb: ticket.winProb,
        senderNonce: BigInt(ticket.senderNonce),
        recipientRandHash: ticket.recipientRandHash,
        auxData: hexlify(ticketAuxData(ticket.creationRound, ticket.creationRoundBlockHash)),
      };
      try {
        const broker = protocol.broker.connect(wallet) as typeof protocol.broker;
        const receipt = await (await broker.getFunction("redeemWinningTicket").send(onChainTicket, hexlify(sig), recipientRand)).wait();
        if (receipt?.status === 1) redeemed.push({ hash: ticketHash(ticket), faceValue: ticket.faceValue });
      } catch (err) {
        redeemFailures.push((err as Error).message.slice(0, 200));
      }
    });
  }

  beforeAll(async () => {
    anvil = await startAnvil();
    protocol = await deployProtocol(await anvil.newWallet());
    await protocol.setTranscoderPool(true, 1n);
    gatewayWallet = await anvil.newWallet();
    await protocol.fund(gatewayWallet, ETH, ETH);
    keystoreDir = await mkdtemp(join(tmpdir(), "onchain-jobs-"));
    for (const spec of SPECS) recipients.set(spec.name, await anvil.newWallet());

    // The orchestrators' view of the chain, read the way the gateway reads it.
    chain = await connectChain({ ethUrl: anvil.url, controller: protocol.controller });
    watcher = await ChainWatcher.start(chain, gatewayWallet.address, { blockPollingIntervalMs: 200 });
    devnet = await startDevnet({
      specs: SPECS,
      admin: false,
      payments: {
        chain: {
          lastSeenL1Block: () => watcher.lastSeenL1Block,
          lastInitializedRound: () => watcher.lastInitializedRound,
          blockHashForRound: (round) => (round === watcher.lastInitializedRound ? watcher.lastInitializedRoundBlockHash : ZeroHash),
          senderInfo: (sender) => (getAddress(sender) === gatewayWallet.address ? watcher.senderInfo : undefined),
        },
        // Face value just above the EV: each ticket wins with probability ≈ 0.99, so winners are certain to appear.
        ticketEV: TICKET_EV,
        maxFaceValue: TICKET_EV + TICKET_EV / 100n,
        gasPrice: 1n,
        recipientKey: (name) => recipients.get(name)!,
        onWinningTicket: (name, ticket, sig, rand) => redeem(name, ticket, sig, rand),
      },
    });
    gateway = await startGateway(parseConfig(flags(await keystoreFor(gatewayWallet))), silentLogger());
    await gateway.discovery.refreshNow();
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await devnet?.close();
    watcher?.stop();
    chain?.close();
    await anvil?.stop();
  });

  async function sendJob(extra: Record<string, unknown> = {}): Promise<Response> {
    const header = Buffer.from(JSON.stringify({ request: "{}", parameters: JSON.stringify(extra), capability: "echo", timeout_seconds: 10 })).toString("base64");
    return fetch(`${gateway.servers.api.url}/process/request/run`, { method: "POST", headers: { Livepeer: header }, body: "paid work" });
  }

  const ticketsAt = (name: string) => devnet.payee(name).stats();

  it("pays every job with tickets the orchestrators verify and credit, then redeems the winners on the TicketBroker", async () => {
    const before = (await chain.senderInfo(gatewayWallet.address)).deposit;
    for (let i = 0; i < 4; i++) {
      const response = await sendJob();
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(response.headers.get("livepeer-balance")).toMatch(/^\d+$/);
    }
    const stats = SPECS.map((spec) => ticketsAt(spec.name));
    const credited = stats.reduce((sum, s) => sum + s.ticketsCredited, 0);
    expect(credited).toBeGreaterThanOrEqual(7); // at least 70 s of work paid up front
    for (const s of stats) {
      expect(s.ticketsRejected).toEqual({});
      expect(s.ticketsCredited).toBe(s.ticketsReceived);
    }
    // The gateway's metrics count what the orchestrators received.
    const metrics = await (await fetch(`${gateway.servers.api.url}/metrics`)).text();
    const sent = metrics.split("\n").filter((line) => line.startsWith("livepeer_tickets_sent{")).reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    expect(sent).toBe(stats.reduce((sum, s) => sum + s.ticketsReceived, 0));
    expect(metrics).toMatch(/livepeer_gateway_deposit \d/);

    await redemptions;
    expect(redeemFailures).toEqual([]);
    expect(redeemed.length).toBeGreaterThan(0);
    const paid = redeemed.reduce((sum, r) => sum + r.faceValue, 0n);
    expect((await chain.senderInfo(gatewayWallet.address)).deposit).toBe(before - paid);
    for (const { hash } of redeemed) expect(await protocol.broker.getFunction("usedTickets").staticCall(hash)).toBe(true);
  }, 60_000);

  it("fetches fresh ticket params once the cached ones expire, instead of sending a payment the orchestrator would refuse", async () => {
    const tokensBefore = SPECS.reduce((sum, spec) => sum + devnet.orchestrator(spec.name).byoc.tokensServed("echo"), 0);
    await anvil.provider.send("anvil_mine", ["0x40"]); // 64 blocks: past every cached token's expiration block (+40)
    const target = watcher.lastSeenL1Block + 64n;
    for (let i = 0; i < 50 && (watcher.lastSeenL1Block < target || gateway.payments!.senderInfo().deposit === 0n); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // the gateway polls every 200 ms too
    // Spend the credit so that the job must pay: a long timeout asks for more than the balance holds.
    const header = Buffer.from(JSON.stringify({ request: "{}", parameters: "{}", capability: "echo", timeout_seconds: 600 })).toString("base64");
    const response = await fetch(`${gateway.servers.api.url}/process/request/run`, { method: "POST", headers: { Livepeer: header }, body: "x" });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const tokensAfter = SPECS.reduce((sum, spec) => sum + devnet.orchestrator(spec.name).byoc.tokensServed("echo"), 0);
    expect(tokensAfter).toBeGreaterThan(tokensBefore);
    for (const spec of SPECS) expect(ticketsAt(spec.name).ticketsRejected).toEqual({});
  }, 30_000);

  it("refuses a job whose price cap is below the orchestrators' price without signing a ticket", async () => {
    const received = () => SPECS.reduce((sum, spec) => sum + ticketsAt(spec.name).ticketsReceived, 0);
    const before = received();
    const client = createClient(GatewayService, createGrpcTransport({ baseUrl: gateway.servers.api.url }));
    const err = await client
      .submitJob({ job: { capability: "echo", timeoutSeconds: 10, body: Buffer.from("x"), maxPricePerUnit: `${PRICE_PER_SECOND - 1n}` } })
      .then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.message).toMatch(/price/);
    expect(received()).toBe(before);
  });

  it("converts a ceiling in USD at the Chainlink feed's rate: an orchestrator above it is never paid", async () => {
    // 3000 USD/ETH. The orchestrators ask 1e8 wei/s = 3e-7 USD/s.
    const deployer = await anvil.newWallet();
    const feedState: FeedState = { description: "ETH / USD", decimals: 8, roundId: 1n, answer: 300_000_000_000n, updatedAt: 1_700_000_000n };
    const receipt = await (await deployer.sendTransaction({ data: creationCode(aggregatorRuntime(feedState)) })).wait();
    const feed = getAddress(receipt!.contractAddress!);
    const keyPath = await keystoreFor(gatewayWallet);
    const withCeiling = (usdPerSecond: string) =>
      startGateway(parseConfig([...flags(keyPath), "-priceFeedAddr", feed, "-maxPricePerUnit", usdPerSecond]), silentLogger());
    const received = () => SPECS.reduce((sum, spec) => sum + ticketsAt(spec.name).ticketsReceived, 0);

    const strict = await withCeiling("0.0000001USD"); // 1e-7 USD/s ≈ 3.3e7 wei/s: below the price
    try {
      await strict.discovery.refreshNow();
      const before = received();
      const client = createClient(GatewayService, createGrpcTransport({ baseUrl: strict.servers.api.url }));
      const err = await client.submitJob({ job: { capability: "echo", timeoutSeconds: 10, body: Buffer.from("x") } }).then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.message).toMatch(/price|ceiling/);
      expect(received()).toBe(before);
    } finally {
      await strict.close();
    }
    const loose = await withCeiling("0.000001USD"); // ≈ 3.3e8 wei/s: above the price
    try {
      await loose.discovery.refreshNow();
      const client = createClient(GatewayService, createGrpcTransport({ baseUrl: loose.servers.api.url }));
      const response = await client.submitJob({ job: { capability: "echo", timeoutSeconds: 10, body: Buffer.from("x") } });
      expect(response.head?.status).toBe(200);
    } finally {
      await loose.close();
    }
  }, 30_000);

  it("does not start without a deposit and reserve, with a wrong password, or with an unreachable -ethUrl", async () => {
    const unfunded = await anvil.newWallet();
    const unfundedKey = await keystoreFor(unfunded);
    await expect(startGateway(parseConfig(flags(unfundedKey)), silentLogger())).rejects.toThrow(/no deposit/);

    const wrongPassword = parseConfig(flags(unfundedKey).map((value) => (value === PASSWORD ? "not the password" : value)));
    await expect(startGateway(wrongPassword, silentLogger())).rejects.toThrow(/could not decrypt keystore .*wrong password/);

    const unreachable = startGateway(parseConfig(flags(await keystoreFor(gatewayWallet), "http://127.0.0.1:1/v2/SECRETKEY")), silentLogger());
    const error = (await unreachable.catch((err: unknown) => err)) as Error;
    expect(error.message).toMatch(/cannot reach -ethUrl http:\/\/127\.0\.0\.1:1/);
    expect(error.message).not.toContain("SECRETKEY");
  }, 30_000);
});

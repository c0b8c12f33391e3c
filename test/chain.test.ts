// src/eth/chain.ts and src/eth/chain-watcher.ts against the real Livepeer Controller and TicketBroker on anvil
// (test/support/anvil.ts), plus the failure paths: an unreachable node, a silent node, a non-RPC server, a Controller
// address with no code and a Controller missing a contract. Errors must name only the URL's origin.

import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractFactory, getAddress, Wallet, ZeroHash } from "ethers";
import { ChainError, connectChain, l1BlockNumberOf, type LivepeerChain, urlOrigin } from "../src/eth/chain.js";
import { ChainWatcher, checkSenderFunds, SenderFundsError } from "../src/eth/chain-watcher.js";
import { ANVIL_PLATFORM, type Anvil, deployProtocol, loadArtifact, type Protocol, startAnvil } from "./support/anvil.js";

const ETH = 10n ** 18n;

/** Polls `check` every 20 ms until it returns true, at most `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

/** Runs fn expecting a ChainError; returns it with the elapsed ms. */
async function chainFailure(fn: () => Promise<unknown>): Promise<{ error: ChainError; ms: number }> {
  const started = Date.now();
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ChainError);
    return { error: error as ChainError, ms: Date.now() - started };
  }
  throw new Error("expected a ChainError");
}

/** The secret parts of the test URLs must never show up in a message. */
function expectNoSecrets(message: string): void {
  expect(message).not.toContain("secret-key");
  expect(message).not.toContain("x=y");
  expect(message).not.toContain("hunter2");
}

describe("urlOrigin and l1BlockNumberOf", () => {
  it("keeps only scheme, host and port", () => {
    expect(urlOrigin("http://127.0.0.1:1/secret-key?x=y")).toBe("http://127.0.0.1:1");
    expect(urlOrigin("https://user:hunter2@arb1.example.org/v3/secret-key")).toBe("https://arb1.example.org:443");
    expect(urlOrigin("http://localhost/rpc")).toBe("http://localhost:80");
  });

  it("refuses non-http URLs without echoing them", () => {
    expect(() => urlOrigin("ws://127.0.0.1:8546/secret-key")).toThrow(/http:\/\/ or https:\/\//);
    try {
      urlOrigin("not a url secret-key");
    } catch (error) {
      expect(error).toBeInstanceOf(ChainError);
      expectNoSecrets((error as Error).message);
    }
  });

  it("prefers Arbitrum's l1BlockNumber and falls back to number", () => {
    expect(l1BlockNumberOf({ number: "0x10a", l1BlockNumber: "0x1312d00" })).toBe(20_000_000n);
    expect(l1BlockNumberOf({ number: "0x10a" })).toBe(266n);
    expect(() => l1BlockNumberOf(null)).toThrow(ChainError);
    expect(() => l1BlockNumberOf({})).toThrow(/no usable block number/);
  });
});

describe("connectChain failures off-chain", () => {
  const servers: Array<Server | TcpServer> = [];
  const sockets = new Set<Socket>();

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function listen<S extends Server | TcpServer>(server: S): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  it("an unreachable -ethUrl fails at once, naming only its origin", async () => {
    const { error, ms } = await chainFailure(() =>
      connectChain({ ethUrl: "http://127.0.0.1:1/secret-key?x=y", controller: "0xD8E8328501E9645d16Cf49539efC04f734606ee4" }),
    );
    expect(error.message).toBe("cannot reach -ethUrl http://127.0.0.1:1: connection refused");
    expect(ms).toBeLessThan(2000);
  });

  it("a node that accepts but never answers fails after timeoutMs", async () => {
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
    });
    const port = await listen(silent);
    const { error, ms } = await chainFailure(() =>
      connectChain({ ethUrl: `http://hunter2@127.0.0.1:${port}/secret-key?x=y`, controller: "0xD8E8328501E9645d16Cf49539efC04f734606ee4", timeoutMs: 300 }),
    );
    expect(error.message).toBe(`cannot reach -ethUrl http://127.0.0.1:${port}: no answer within 300 ms`);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3000);
  });

  it("an HTTP server that is not a JSON-RPC node gives a clear error", async () => {
    const notRpc = createServer((req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end(`no such path ${req.url}`);
    });
    const port = await listen(notRpc);
    const { error } = await chainFailure(() =>
      connectChain({ ethUrl: `http://127.0.0.1:${port}/secret-key?x=y`, controller: "0xD8E8328501E9645d16Cf49539efC04f734606ee4" }),
    );
    expect(error.message).toBe(`cannot reach -ethUrl http://127.0.0.1:${port}: HTTP status 404`);

    const errorAnswer = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // A node quoting the request path back must not leak it either.
      res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: `method not allowed on ${req.url}` } }));
    });
    const port2 = await listen(errorAnswer);
    const second = await chainFailure(() =>
      connectChain({ ethUrl: `http://127.0.0.1:${port2}/secret-key?x=y`, controller: "0xD8E8328501E9645d16Cf49539efC04f734606ee4" }),
    );
    expect(second.error.message).toMatch(new RegExp(`^-ethUrl http://127\\.0\\.0\\.1:${port2} is not a working Ethereum JSON-RPC endpoint: eth_chainId: method not allowed on`));
    expectNoSecrets(second.error.message);
  });

  it("refuses a malformed controller address before any request", async () => {
    const { error } = await chainFailure(() => connectChain({ ethUrl: "http://127.0.0.1:1", controller: "0x1234" }));
    expect(error.message).toBe('-ethController "0x1234" is not an Ethereum address');
  });
});

describe.skipIf(!ANVIL_PLATFORM)("connectChain and ChainWatcher on anvil", () => {
  let anvil: Anvil;
  let protocol: Protocol;
  let chain: LivepeerChain;
  let sender: Wallet;
  const watchers: ChainWatcher[] = [];
  const proxies: Server[] = [];

  beforeAll(async () => {
    anvil = await startAnvil();
    const deployer = await anvil.newWallet();
    protocol = await deployProtocol(deployer, { round: 100n, unlockPeriod: 3n });
    sender = await anvil.newWallet();
    await protocol.fund(sender, 3n * ETH, 2n * ETH);
    chain = await connectChain({ ethUrl: anvil.url, controller: protocol.controller.toLowerCase(), timeoutMs: 5000 });
  });

  afterAll(async () => {
    for (const watcher of watchers) watcher.stop();
    for (const proxy of proxies) proxy.closeAllConnections();
    await Promise.all(proxies.filter((proxy) => proxy.listening).map((proxy) => new Promise((resolve) => proxy.close(resolve))));
    chain?.close();
    await anvil?.stop();
  });

  it("resolves the contracts through the Controller", () => {
    expect(chain.chainId).toBe(31337n);
    expect(chain.contracts).toEqual({
      controller: getAddress(protocol.controller),
      ticketBroker: protocol.ticketBroker,
      roundsManager: protocol.roundsManager,
      bondingManager: protocol.bondingManager,
    });
  });

  it("reads the sender info that was funded", async () => {
    expect(await chain.senderInfo(sender.address)).toEqual({ deposit: 3n * ETH, withdrawRound: 0n, reserveFundsRemaining: 2n * ETH });
    // Funding adds up.
    await protocol.fund(sender, ETH, 0n);
    expect((await chain.senderInfo(sender.address)).deposit).toBe(4n * ETH);
  });

  it("reads withdrawRound after an unlock", async () => {
    const unlocking = await anvil.newWallet();
    await protocol.fund(unlocking, ETH, ETH);
    const withdrawRound = await protocol.unlock(unlocking);
    expect(withdrawRound).toBe(100n + 3n);
    expect(await chain.senderInfo(unlocking.address)).toEqual({ deposit: ETH, withdrawRound: 103n, reserveFundsRemaining: ETH });
    // Unlocking within the next round is what go-livepeer's validateSender refuses.
    expect(() => checkSenderFunds({ deposit: ETH, withdrawRound: 101n, reserveFundsRemaining: ETH }, unlocking.address, 100n)).toThrow(
      /set to unlock in round 101/,
    );
    expect(() => checkSenderFunds({ deposit: ETH, withdrawRound: withdrawRound, reserveFundsRemaining: ETH }, unlocking.address, 100n)).not.toThrow();
  });

  it("l1BlockNumber falls back to the block number on anvil", async () => {
    await anvil.provider.send("anvil_mine", ["0x5"]);
    const number = BigInt((await anvil.provider.send("eth_blockNumber", [])) as string);
    expect(await chain.l1BlockNumber()).toBe(number);
  });

  it("reads the last initialized round and its block hash", async () => {
    const hash = await protocol.setRound(101n);
    expect(await chain.lastInitializedRound()).toBe(101n);
    expect(await chain.blockHashForRound(101n)).toBe(hash);
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Round 100 keeps its own hash; a round never set has none.
    expect(await chain.blockHashForRound(100n)).not.toBe(hash);
    expect(await chain.blockHashForRound(100n)).not.toBe(ZeroHash);
    expect(await chain.blockHashForRound(7n)).toBe(ZeroHash);
  });

  it("checkSenderFunds refuses a sender with no deposit or no reserve", async () => {
    const unfunded = await anvil.newWallet();
    const info = await chain.senderInfo(unfunded.address);
    expect(info).toEqual({ deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: 0n });
    expect(() => checkSenderFunds(info, unfunded.address)).toThrow(SenderFundsError);
    expect(() => checkSenderFunds(info, unfunded.address)).toThrow(
      `sender ${unfunded.address} has no deposit in the TicketBroker: fund it with fundDepositAndReserve`,
    );
    const depositOnly = await anvil.newWallet();
    await protocol.fund(depositOnly, ETH, 0n);
    const depositOnlyInfo = await chain.senderInfo(depositOnly.address);
    expect(() => checkSenderFunds(depositOnlyInfo, depositOnly.address)).toThrow(
      `sender ${depositOnly.address} has no reserve in the TicketBroker: fund it with fundDepositAndReserve`,
    );
    const fundedInfo = await chain.senderInfo(sender.address);
    expect(() => checkSenderFunds(fundedInfo, sender.address)).not.toThrow();
  });

  it("ChainWatcher reads at start, then follows new blocks, rounds and sender info", async () => {
    const errors: Error[] = [];
    const watcher = await ChainWatcher.start(chain, sender.address, { blockPollingIntervalMs: 50, senderInfoRefreshMs: 100, onError: (e) => errors.push(e) });
    watchers.push(watcher);
    const round = await chain.lastInitializedRound();
    expect(watcher.lastSeenL1Block).toBe(await chain.l1BlockNumber());
    expect(watcher.lastInitializedRound).toBe(round);
    expect(watcher.lastInitializedRoundBlockHash).toBe(await chain.blockHashForRound(round));
    expect(watcher.senderInfo).toEqual(await chain.senderInfo(sender.address));

    await anvil.provider.send("anvil_mine", ["0xa"]);
    const block = BigInt((await anvil.provider.send("eth_blockNumber", [])) as string);
    await eventually(() => watcher.lastSeenL1Block >= block);

    const newHash = await protocol.setRound(round + 1n);
    await eventually(() => watcher.lastInitializedRound === round + 1n);
    expect(watcher.lastInitializedRoundBlockHash).toBe(newHash);
    expect(watcher.expirationFallback).toEqual({ creationRound: round + 1n, creationRoundBlockHash: newHash });

    const before = watcher.senderInfo.deposit;
    await protocol.fund(sender, ETH, 0n);
    await eventually(() => watcher.senderInfo.deposit === before + ETH);
    const state = watcher.senderState();
    expect(state.lastInitializedRound).toBe(round + 1n);
    expect(typeof state.senderInfo === "function" ? state.senderInfo().deposit : undefined).toBe(before + ETH);
    expect(errors).toEqual([]);
    watcher.stop();
  });

  it("ChainWatcher keeps the last good values when polls fail", async () => {
    let failing = false;
    const flaky: LivepeerChain = {
      ...chain,
      l1BlockNumber: () => (failing ? Promise.reject(new ChainError("node down")) : chain.l1BlockNumber()),
      lastInitializedRound: () => (failing ? Promise.reject(new ChainError("node down")) : chain.lastInitializedRound()),
      senderInfo: (address) => (failing ? Promise.reject(new ChainError("node down")) : chain.senderInfo(address)),
    };
    const errors: Error[] = [];
    const warnings: string[] = [];
    const logger = { warn: (_obj: object, msg: string) => void warnings.push(msg), info: () => undefined };
    const watcher = await ChainWatcher.start(flaky, sender.address, {
      blockPollingIntervalMs: 30,
      senderInfoRefreshMs: 30,
      onError: (e) => errors.push(e),
      logger: logger as never,
    });
    watchers.push(watcher);
    const seen = { block: watcher.lastSeenL1Block, round: watcher.lastInitializedRound, info: watcher.senderInfo };
    failing = true;
    await eventually(() => errors.length >= 4);
    expect(errors.every((e) => e.message === "node down")).toBe(true);
    expect(warnings).toContain("polling the latest block and round failed; keeping the last known value");
    expect(warnings).toContain("refreshing the sender info failed; keeping the last known value");
    expect({ block: watcher.lastSeenL1Block, round: watcher.lastInitializedRound, info: watcher.senderInfo }).toEqual(seen);
    await expect(watcher.refreshSenderInfo()).rejects.toThrow("node down");
    failing = false;
    await watcher.refreshSenderInfo();
    expect(watcher.senderInfo).toEqual(await chain.senderInfo(sender.address));
    watcher.stop();
    const count = errors.length;
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(errors.length).toBe(count);
  });

  it("ChainWatcher.start throws the ChainError when the first reads fail", async () => {
    const broken: LivepeerChain = { ...chain, lastInitializedRound: () => Promise.reject(new ChainError("RoundsManager.lastInitializedRound() failed")) };
    await expect(ChainWatcher.start(broken, sender.address)).rejects.toThrow("RoundsManager.lastInitializedRound() failed");
  });

  it("a Controller address with no code fails clearly, without the URL's path or query", async () => {
    // anvil serves only "/", so a pass-through proxy stands in for a hosted endpoint with a key in its path.
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
          .then(async (answer) => {
            res.writeHead(answer.status, { "content-type": "application/json" });
            res.end(await answer.text());
          })
          .catch(() => res.destroy());
      });
    });
    proxies.push(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    const nobody = Wallet.createRandom().address;
    const ethUrl = `http://127.0.0.1:${port}/secret-key?x=y`;
    const { error, ms } = await chainFailure(() => connectChain({ ethUrl, controller: nobody }));
    expect(error.message).toBe(`-ethController ${nobody} has no contract code on chain 31337: wrong address, or -ethUrl points at another chain`);
    expectNoSecrets(error.message);
    expect(ms).toBeLessThan(2000);

    // Through the same secret URL a good Controller works; when the node then goes away, reads fail with the origin only.
    const viaProxy = await connectChain({ ethUrl, controller: protocol.controller, timeoutMs: 1000 });
    try {
      expect(await viaProxy.lastInitializedRound()).toBe(await chain.lastInitializedRound());
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      const down = await chainFailure(() => viaProxy.senderInfo(sender.address));
      // Refused, or reset when the client's kept-alive socket had not yet seen the server close it: a race of the test.
      expect(down.error.message).toMatch(
        new RegExp(`^TicketBroker\\.getSenderInfo\\(${sender.address}\\) via -ethUrl http://127\\.0\\.0\\.1:${port} failed: connection (refused|reset)$`),
      );
      expectNoSecrets(down.error.message);
    } finally {
      viaProxy.close();
    }
  });

  it("a Controller without a registered contract fails clearly", async () => {
    const owner = await anvil.newWallet();
    const { abi, bytecode } = loadArtifact("Controller.sol/Controller.json");
    const empty = await new ContractFactory(abi, bytecode, owner).deploy();
    await empty.waitForDeployment();
    const address = await empty.getAddress();
    const { error } = await chainFailure(() => connectChain({ ethUrl: anvil.url, controller: address }));
    expect(error.message).toMatch(new RegExp(`^Controller ${address} on chain 31337 has no (TicketBroker|RoundsManager|BondingManager) registered \\(getContract returned the zero address\\)$`));
  });

  it("reads after close fail with a ChainError", async () => {
    const other = await connectChain({ ethUrl: anvil.url, controller: protocol.controller });
    other.close();
    const { error } = await chainFailure(() => other.lastInitializedRound());
    expect(error.message).toMatch(/^RoundsManager.lastInitializedRound\(\) via -ethUrl http:\/\/127\.0\.0\.1:\d+ failed: provider destroyed/);
  });
});

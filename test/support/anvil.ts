// A local chain for tests: anvil (from the npm package @foundry-rs/anvil-linux-amd64) on 127.0.0.1 with an
// OS-chosen port, and Livepeer's real compiled Controller and TicketBroker (from @livepeer/sdk's abis/) wired to
// mocks for the rest of the protocol, registered under their Controller names as on Arbitrum.
//
// What TicketBroker needs from the other contracts (livepeer/protocol, contracts/pm/mixins):
// * Controller: paused() (whenSystemNotPaused), owner() (parameter setters), getContract(keccak256(name)).
// * Minter: depositETH{value}() when funding (the ETH goes there), trustedWithdrawETH on withdraw.
// * RoundsManager: currentRound(), currentRoundInitialized() (redeem), blockHashForRound(creationRound) (the
//   ticket's auxData must match it, and creationRound + ticketValidityPeriod > currentRound).
// * BondingManager: updateTranscoderWithFees(recipient, amount, creationRound) on a winning ticket; for reserve
//   claims also isActiveTranscoder(recipient) and getTranscoderPoolSize().
// The protocol's own test mocks stand in: GenericMock answers any selector with a value set per selector (or per
// exact calldata), so it serves as RoundsManager; BondingManagerMock and MinterMock add the state-changing calls.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  type BaseContract,
  Contract,
  ContractFactory,
  dataSlice,
  id,
  type InterfaceAbi,
  JsonRpcProvider,
  keccak256,
  toBeHex,
  Wallet,
  ZeroHash,
} from "ethers";

const require = createRequire(import.meta.url);

// anvil comes from the npm package @foundry-rs/anvil-linux-amd64 (the binary ships inside it). The wrapper
// @foundry-rs/anvil is not used: its other platform packages are missing from the registry, and a lock file that
// lacks them makes `npm ci` fail. So anvil tests run on linux-x64 (CI) and are skipped elsewhere.
export const ANVIL_PLATFORM = process.platform === "linux" && process.arch === "x64";

function anvilBinary(): string {
  return join(dirname(require.resolve("@foundry-rs/anvil-linux-amd64/package.json")), "bin", "anvil");
}

export interface Artifact {
  readonly abi: InterfaceAbi;
  readonly bytecode: string;
}

/** A compiled contract from @livepeer/sdk's abis/, e.g. "pm/TicketBroker.sol/TicketBroker.json". Refuses ones needing linking. */
export function loadArtifact(relativePath: string): Artifact {
  const path = join(dirname(require.resolve("@livepeer/sdk/package.json")), "abis", relativePath);
  const artifact = JSON.parse(readFileSync(path, "utf8")) as { abi: InterfaceAbi; bytecode: string; linkReferences: object };
  if (Object.keys(artifact.linkReferences).length > 0) throw new Error(`${relativePath} needs library linking`);
  return { abi: artifact.abi, bytecode: artifact.bytecode };
}

export interface Anvil {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Static network, no batching surprises; destroyed by stop(). */
  readonly provider: JsonRpcProvider;
  /** A fresh random key with `balance` wei (default 1000 ETH) set by anvil_setBalance. */
  newWallet(balance?: bigint): Promise<Wallet>;
  /** Destroys the provider and kills anvil (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;

/** Starts anvil on 127.0.0.1 with an OS-chosen port; resolves once it says it is listening. */
export async function startAnvil(): Promise<Anvil> {
  const child = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`anvil did not start listening within ${STARTUP_TIMEOUT_MS} ms: ${out.slice(-500)}`));
    }, STARTUP_TIMEOUT_MS);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      if (out.length < 1_000_000) out += chunk;
      const m = /Listening on (127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.stderr!.on("data", () => undefined);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with ${code} before listening: ${out.slice(-500)}`));
    });
  });
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 50, cacheTimeout: -1 });
  return {
    url,
    provider,
    async newWallet(balance = 10n ** 21n) {
      const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
      await provider.send("anvil_setBalance", [wallet.address, toBeHex(balance)]);
      return wallet;
    },
    stop: () => stopChild(child, provider),
  };
}

async function stopChild(child: ChildProcess, provider: JsonRpcProvider): Promise<void> {
  provider.destroy();
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

const CONTROLLER = "Controller.sol/Controller.json";
const TICKET_BROKER = "pm/TicketBroker.sol/TicketBroker.json";
const GENERIC_MOCK = "test/mocks/GenericMock.sol/GenericMock.json";
const BONDING_MANAGER_MOCK = "test/mocks/BondingManagerMock.sol/BondingManagerMock.json";
const MINTER_MOCK = "test/mocks/MinterMock.sol/MinterMock.json";

/** The first four bytes of keccak256(signature): what GenericMock keys its answers by. */
export const selector = (signature: string): string => dataSlice(id(signature), 0, 4);

export interface Protocol {
  /** EIP-55 addresses. */
  readonly controller: string;
  readonly ticketBroker: string;
  /** A GenericMock registered as "RoundsManager". */
  readonly roundsManager: string;
  /** A BondingManagerMock registered as "BondingManager". */
  readonly bondingManager: string;
  /** A MinterMock registered as "Minter"; funded ETH ends up here. */
  readonly minter: string;
  /** The real TicketBroker, connected to the deployer. */
  readonly broker: Contract;
  /** unlockPeriod and ticketValidityPeriod as set at deployment. */
  readonly unlockPeriod: bigint;
  readonly ticketValidityPeriod: bigint;
  /** sender.fundDepositAndReserve(deposit, reserve) with msg.value = deposit + reserve. */
  fund(sender: Wallet, deposit: bigint, reserve: bigint): Promise<void>;
  /**
   * Makes `round` the current, initialized and last initialized round, with blockHashForRound(round) = blockHash
   * (default: the hash of the latest block). Other rounds keep the hashes they were given. Returns the hash.
   */
  setRound(round: bigint, blockHash?: string): Promise<string>;
  /** sender.unlock(): withdrawRound becomes currentRound + unlockPeriod. Returns that round. */
  unlock(sender: Wallet): Promise<bigint>;
  /**
   * What reserve claims ask the BondingManager: whether the claimant is an active transcoder (GenericMock answers
   * by selector, so for every address) and the pool size (default 1). Initially: not active, so no reserve claims.
   */
  setTranscoderPool(active: boolean, poolSize?: bigint): Promise<void>;
}

export interface DeployProtocolOptions {
  /** Rounds between unlock() and withdraw (default 2). */
  readonly unlockPeriod?: bigint;
  /** Rounds a ticket stays redeemable after its creation round (default 2, as go-livepeer's ticketValidityPeriod). */
  readonly ticketValidityPeriod?: bigint;
  /** The round to start in (default 100). */
  readonly round?: bigint;
}

async function deploy(deployer: Wallet, artifactPath: string, ...args: unknown[]): Promise<Contract> {
  const { abi, bytecode } = loadArtifact(artifactPath);
  const contract: BaseContract = await new ContractFactory(abi, bytecode, deployer).deploy(...args);
  await contract.waitForDeployment();
  return contract as Contract;
}

/** Sends a contract transaction and waits for its receipt; throws if it reverted. */
async function send(contract: Contract, method: string, ...args: unknown[]): Promise<void> {
  const tx = await contract.getFunction(method).send(...args);
  const receipt = await tx.wait();
  if (receipt?.status !== 1) throw new Error(`${method} reverted`);
}

/**
 * Deploys Controller, TicketBroker and mocks (see the file comment), registers them under their names, unpauses
 * the Controller and sets the TicketBroker parameters. The deployer owns the Controller.
 */
export async function deployProtocol(deployer: Wallet, options: DeployProtocolOptions = {}): Promise<Protocol> {
  const unlockPeriod = options.unlockPeriod ?? 2n;
  const ticketValidityPeriod = options.ticketValidityPeriod ?? 2n;
  const controller = await deploy(deployer, CONTROLLER);
  const controllerAddress = await controller.getAddress();
  const broker = await deploy(deployer, TICKET_BROKER, controllerAddress);
  const rounds = await deploy(deployer, GENERIC_MOCK);
  const bonding = await deploy(deployer, BONDING_MANAGER_MOCK);
  const minter = await deploy(deployer, MINTER_MOCK);
  const addresses = {
    TicketBroker: await broker.getAddress(),
    RoundsManager: await rounds.getAddress(),
    BondingManager: await bonding.getAddress(),
    Minter: await minter.getAddress(),
  };
  for (const [name, address] of Object.entries(addresses)) {
    await send(controller, "setContractInfo", id(name), address, "0x" + "00".repeat(20));
  }
  // The Controller starts paused; TicketBroker refuses funding and redemption until it is not.
  await send(controller, "unpause");
  await send(broker, "setUnlockPeriod", unlockPeriod);
  await send(broker, "setTicketValidityPeriod", ticketValidityPeriod);

  const provider = deployer.provider!;
  const protocol: Protocol = {
    controller: controllerAddress,
    ticketBroker: addresses.TicketBroker,
    roundsManager: addresses.RoundsManager,
    bondingManager: addresses.BondingManager,
    minter: addresses.Minter,
    broker,
    unlockPeriod,
    ticketValidityPeriod,
    async fund(sender, deposit, reserve) {
      await send(broker.connect(sender) as Contract, "fundDepositAndReserve", deposit, reserve, { value: deposit + reserve });
    },
    async setRound(round, blockHash) {
      const hash = blockHash ?? (await provider.getBlock("latest"))!.hash!;
      if (hash === ZeroHash) throw new Error("a round's block hash must not be zero");
      // The hash first: a poller that sees the new round must also find its hash (the real RoundsManager sets
      // both in one initializeRound transaction).
      // Per-round answers: GenericMock matches keccak256 of the exact calldata. A bytes32 is returned as the same
      // 32 bytes a uint256 would be, so the uint256-with-param slot can carry block hashes.
      const calldata = selector("blockHashForRound(uint256)") + toBeHex(round, 32).slice(2);
      await send(rounds, "setMockUint256WithParam", selector("blockHashForRound(uint256)"), keccak256(calldata), BigInt(hash));
      await send(rounds, "setMockBool", selector("currentRoundInitialized()"), true);
      await send(rounds, "setMockUint256", selector("currentRound()"), round);
      await send(rounds, "setMockUint256", selector("lastInitializedRound()"), round);
      return hash.toLowerCase();
    },
    async unlock(sender) {
      await send(broker.connect(sender) as Contract, "unlock");
      const [info] = (await broker.getFunction("getSenderInfo").staticCall(sender.address)) as [{ withdrawRound: bigint }];
      return info.withdrawRound;
    },
    async setTranscoderPool(active, poolSize = 1n) {
      await send(bonding, "setMockBool", selector("isActiveTranscoder(address)"), active);
      await send(bonding, "setMockUint256", selector("getTranscoderPoolSize()"), poolSize);
    },
  };
  await protocol.setRound(options.round ?? 100n);
  return protocol;
}

// Proof against the real contract: Livepeer's compiled TicketBroker (from @livepeer/sdk) deployed on a local anvil
// (from @foundry-rs/anvil-linux-amd64) computes, with its pure getTicketHash, exactly the hash src/payments/ticket.ts computes.
// Everything stays on 127.0.0.1; anvil listens on a port the OS picks and is killed in afterAll.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Contract, ContractFactory, getAddress, hexlify, keccak256, toBeHex, toBigInt, ZeroHash } from "ethers";
import { MAX_UINT256, type Ticket, ticketAuxData, ticketHash } from "../src/payments/ticket.js";
import { ANVIL_PLATFORM, type Anvil, loadArtifact, startAnvil } from "./support/anvil.js";

/** Deterministic pseudo-random bytes: keccak256(seed ‖ counter). */
function seededBytes(seed: string) {
  let counter = 0n;
  return (n: number): Uint8Array => {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      const block = keccak256(Buffer.concat([Buffer.from(seed), Buffer.from(toBeHex(counter++, 32).slice(2), "hex")]));
      bytes.set(Buffer.from(block.slice(2), "hex").subarray(0, Math.min(32, n - i)), i);
    }
    return bytes;
  };
}

/** Random tickets that also hit the edges: zero and max uint256, nonce 0 and 2^32−1, empty and non-empty auxData. */
function randomTickets(count: number): Ticket[] {
  const rand = seededBytes("payments-ticketbroker-v1");
  const pick = (): number => rand(1)[0] as number;
  const uint = (): bigint => {
    const mode = pick() % 6;
    if (mode === 0) return 0n;
    if (mode === 1) return MAX_UINT256;
    const width = 1 + (pick() % 32);
    return toBigInt(rand(width));
  };
  const tickets: Ticket[] = [];
  for (let i = 0; i < count; i++) {
    const auxMode = i % 4; // empty, round only, hash only, both
    const nonceMode = pick() % 4;
    tickets.push({
      recipient: getAddress(hexlify(rand(20))),
      sender: getAddress(hexlify(rand(20))),
      faceValue: uint(),
      winProb: uint(),
      senderNonce: nonceMode === 0 ? 0 : nonceMode === 1 ? 0xffffffff : Number(toBigInt(rand(4))),
      recipientRandHash: hexlify(rand(32)),
      creationRound: auxMode === 1 || auxMode === 3 ? toBigInt(rand(1 + (pick() % 7))) + 1n : 0n,
      creationRoundBlockHash: auxMode === 2 || auxMode === 3 ? hexlify(rand(32)) : ZeroHash,
      paramsExpirationBlock: toBigInt(rand(4)),
    });
  }
  return tickets;
}

describe.skipIf(!ANVIL_PLATFORM)("TicketBroker.getTicketHash on anvil equals ticketHash", () => {
  let anvil: Anvil | undefined;
  let broker: Contract;

  beforeAll(async () => {
    anvil = await startAnvil();
    const deployer = await anvil.newWallet();
    const { abi, bytecode } = loadArtifact("pm/TicketBroker.sol/TicketBroker.json");
    // The constructor only stores the Controller address; getTicketHash is pure, so any address will do.
    const factory = new ContractFactory(abi, bytecode, deployer);
    const deployed = await factory.deploy("0x0000000000000000000000000000000000000001");
    await deployed.waitForDeployment();
    broker = deployed as unknown as Contract;
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it("the go-livepeer TestHash auxData vector", async () => {
    const ticket: Ticket = {
      recipient: "0x0000000000000000000000000000000000000000",
      sender: "0x0000000000000000000000000000000000000000",
      faceValue: 0n,
      winProb: 0n,
      senderNonce: 0,
      recipientRandHash: ZeroHash,
      creationRound: 10n,
      creationRoundBlockHash: "0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d",
      paramsExpirationBlock: 0n,
    };
    const onChain = await broker.getFunction("getTicketHash").staticCall(toContractTicket(ticket));
    expect(onChain).toBe("0xe502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2");
    expect(ticketHash(ticket)).toBe(onChain);
  });

  it("agrees on 256 seeded random tickets", async () => {
    const tickets = randomTickets(256);
    const onChain = (await Promise.all(
      tickets.map((t) => broker.getFunction("getTicketHash").staticCall(toContractTicket(t))),
    )) as string[];
    let agreed = 0;
    for (let i = 0; i < tickets.length; i++) {
      expect({ i, hash: ticketHash(tickets[i] as Ticket) }).toEqual({ i, hash: onChain[i] });
      agreed++;
    }
    expect(agreed).toBe(256);
    // The sample covers both auxData forms and the uint256 extremes.
    expect(tickets.some((t) => t.faceValue === MAX_UINT256)).toBe(true);
    expect(tickets.some((t) => t.winProb === 0n)).toBe(true);
    expect(tickets.some((t) => t.senderNonce === 0xffffffff)).toBe(true);
  });
});

function toContractTicket(t: Ticket) {
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: BigInt(t.senderNonce),
    recipientRandHash: t.recipientRandHash,
    auxData: hexlify(ticketAuxData(t.creationRound, t.creationRoundBlockHash)),
  };
}

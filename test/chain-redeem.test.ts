// THE PROOF that the gateway's payments are real money: on anvil, against Livepeer's compiled Controller and
// TicketBroker (test/support/anvil.ts), a gateway key funds a deposit and reserve, an orchestrator key issues
// ticket params over the chain's current round, the gateway builds and signs the payment with its own code
// (src/payments createPayment → Livepeer-Payment header), and the orchestrator, working only from the decoded
// header plus its secret recipientRand, redeems the ticket with TicketBroker.redeemWinningTicket.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { type Contract, getAddress, hexlify, Interface, keccak256, type Log, toBeHex, toBigInt, Wallet } from "ethers";
import { connectChain, type LivepeerChain } from "../src/eth/chain.js";
import { ChainWatcher, checkSenderFunds } from "../src/eth/chain-watcher.js";
import { walletIdentity } from "../src/eth/identity.js";
import { PriceInfoSchema, TicketExpirationParamsSchema, TicketParamsSchema } from "../src/gen/net/lp_rpc_pb.js";
import { NonceAllocator } from "../src/payments/nonces.js";
import { createPayment, decodePaymentHeader, minimalBytes } from "../src/payments/payment.js";
import { MAX_UINT256, ticketHash } from "../src/payments/ticket.js";
import { parseTicketParams, type PmTicketParams, TicketParamsError, validateTicketParams } from "../src/payments/ticket-params.js";
import { ANVIL_PLATFORM, type Anvil, deployProtocol, loadArtifact, type Protocol, startAnvil } from "./support/anvil.js";

const ETH = 10n ** 18n;
const FINNEY = 10n ** 15n;
const price = create(PriceInfoSchema, { pricePerUnit: 1000n, pixelsPerUnit: 1n });

const brokerEvents = new Interface(loadArtifact("pm/TicketBroker.sol/TicketBroker.json").abi);
const bondingEvents = new Interface(loadArtifact("test/mocks/BondingManagerMock.sol/BondingManagerMock.json").abi);

/** What an orchestrator issues, and the secret it keeps. */
interface Issued {
  readonly params: PmTicketParams;
  readonly recipientRand: bigint;
}

/** The on-chain Ticket struct, rebuilt the way an orchestrator does: only from the decoded Livepeer-Payment header. */
function ticketFromHeader(header: string, index = 0) {
  const payment = decodePaymentHeader(header);
  const tp = payment.ticketParams!;
  const sp = payment.ticketSenderParams[index]!;
  const exp = payment.expirationParams!;
  return {
    ticket: {
      recipient: getAddress(hexlify(tp.recipient)),
      sender: getAddress(hexlify(payment.sender)),
      faceValue: toBigInt(tp.faceValue),
      winProb: toBigInt(tp.winProb),
      senderNonce: BigInt(sp.senderNonce),
      recipientRandHash: hexlify(tp.recipientRandHash),
      auxData: hexlify(new Uint8Array([...toBeHexBytes(exp.creationRound), ...exp.creationRoundBlockHash])),
    },
    sig: hexlify(sp.sig),
  };
}

const toBeHexBytes = (n: bigint): Uint8Array => Buffer.from(toBeHex(n, 32).slice(2), "hex");

function eventsOf(logs: readonly Log[], iface: Interface, name: string): unknown[][] {
  return logs.flatMap((log) => {
    try {
      const parsed = iface.parseLog(log);
      return parsed?.name === name ? [[...parsed.args]] : [];
    } catch {
      return [];
    }
  });
}

describe.skipIf(!ANVIL_PLATFORM)("a ticket signed by the gateway is redeemed on the real TicketBroker", () => {
  let anvil: Anvil;
  let protocol: Protocol;
  let chain: LivepeerChain;
  let orchestrator: Wallet;
  let watcher: ChainWatcher | undefined;

  beforeAll(async () => {
    anvil = await startAnvil();
    protocol = await deployProtocol(await anvil.newWallet(), { round: 100n });
    orchestrator = await anvil.newWallet();
    chain = await connectChain({ ethUrl: anvil.url, controller: protocol.controller });
  });

  afterAll(async () => {
    watcher?.stop();
    chain?.close();
    await anvil?.stop();
  });

  /** A fresh gateway key with deposit and reserve, read back through the gateway's chain code. */
  async function fundedGateway(deposit: bigint, reserve: bigint) {
    const wallet = await anvil.newWallet();
    await protocol.fund(wallet, deposit, reserve);
    const identity = await walletIdentity(wallet);
    return { wallet, signer: identity.signer!, nonces: new NonceAllocator() };
  }

  /** The orchestrator's side: params over the current round and its block hash, sent as net.TicketParams. */
  async function issueParams(faceValue: bigint, winProb: bigint): Promise<Issued> {
    const recipientRand = toBigInt(randomBytes(32));
    const creationRound = await chain.lastInitializedRound();
    const blockHash = await chain.blockHashForRound(creationRound);
    const wire = create(TicketParamsSchema, {
      recipient: Buffer.from(orchestrator.address.slice(2), "hex"),
      faceValue: minimalBytes(faceValue),
      winProb: minimalBytes(winProb),
      recipientRandHash: Buffer.from(keccak256(toBeHexBytes(recipientRand)).slice(2), "hex"),
      seed: randomBytes(32),
      expirationBlock: minimalBytes((await chain.l1BlockNumber()) + 40n),
      expirationParams: create(TicketExpirationParamsSchema, { creationRound, creationRoundBlockHash: Buffer.from(blockHash.slice(2), "hex") }),
    });
    // The gateway reads them with its own wire parser.
    return { params: parseTicketParams(wire), recipientRand };
  }

  const redeemer = (): Contract => protocol.broker.connect(orchestrator) as Contract;

  async function redeem(header: string, recipientRand: bigint, index = 0) {
    const { ticket, sig } = ticketFromHeader(header, index);
    const tx = await redeemer().getFunction("redeemWinningTicket").send(ticket, sig, recipientRand);
    const receipt = (await tx.wait())!;
    return { ticket, sig, receipt };
  }

  it("winProb 2^256−1: redeemed once, paid from the deposit, refused the second time", async () => {
    const gateway = await fundedGateway(ETH, ETH);
    checkSenderFunds(await chain.senderInfo(gateway.wallet.address), gateway.wallet.address);
    const faceValue = 5n * FINNEY;
    const { params, recipientRand } = await issueParams(faceValue, MAX_UINT256);
    expect(params.creationRound).toBe(100n);

    const { header, tickets } = await createPayment({ signer: gateway.signer, params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
    const { ticket, sig, receipt } = await redeem(header, recipientRand);
    expect(receipt.status).toBe(1);

    // The hash the contract marked used is the one src/payments computes (and getTicketHash agrees).
    const hash = ticketHash(tickets[0]!);
    expect(await protocol.broker.getFunction("getTicketHash").staticCall(ticket)).toBe(hash);
    expect(await protocol.broker.getFunction("usedTickets").staticCall(hash)).toBe(true);

    // Paid entirely from the deposit; the reserve is untouched.
    expect(await chain.senderInfo(gateway.wallet.address)).toEqual({ deposit: ETH - faceValue, withdrawRound: 0n, reserveFundsRemaining: ETH });
    expect(eventsOf(receipt.logs, brokerEvents, "WinningTicketTransfer")).toEqual([[gateway.wallet.address, orchestrator.address, faceValue]]);
    expect(eventsOf(receipt.logs, brokerEvents, "WinningTicketRedeemed")).toEqual([
      [gateway.wallet.address, orchestrator.address, faceValue, MAX_UINT256, 1n, recipientRand, ticket.auxData],
    ]);
    // The fees go to the orchestrator's pool for the ticket's creation round.
    expect(eventsOf(receipt.logs, bondingEvents, "UpdateTranscoderWithFees")).toEqual([[orchestrator.address, faceValue, 100n]]);

    // Replay: refused, and nothing more is paid.
    await expect(redeemer().getFunction("redeemWinningTicket").staticCall(ticket, sig, recipientRand)).rejects.toThrow(/ticket is used/);
    await expect(redeemer().getFunction("redeemWinningTicket").send(ticket, sig, recipientRand)).rejects.toThrow(/ticket is used/);
    expect((await chain.senderInfo(gateway.wallet.address)).deposit).toBe(ETH - faceValue);
  });

  it("every ticket of a multi-ticket payment is separately redeemable (nonces 1, 2, 3)", async () => {
    const gateway = await fundedGateway(ETH, ETH);
    const faceValue = FINNEY;
    const { params, recipientRand } = await issueParams(faceValue, MAX_UINT256);
    const { header, tickets } = await createPayment({ signer: gateway.signer, params, expectedPrice: price, nonces: gateway.nonces, tickets: 3 });
    expect(tickets.map((t) => t.senderNonce)).toEqual([1, 2, 3]);
    for (let i = 0; i < 3; i++) expect((await redeem(header, recipientRand, i)).receipt.status).toBe(1);
    expect((await chain.senderInfo(gateway.wallet.address)).deposit).toBe(ETH - 3n * faceValue);
  });

  it("params that pass the gateway's own validation (winProb 2^256−2, default limits) redeem too", async () => {
    const gateway = await fundedGateway(ETH, ETH);
    watcher = await ChainWatcher.start(chain, gateway.wallet.address, { blockPollingIntervalMs: 100 });
    const faceValue = 2_000_000_000_000n; // under the default -maxTicketEV of 3e12 wei
    // go-livepeer's sender refuses winProb 2^256−1 (EV = faceValue: "ticket faceValue too low").
    const always = await issueParams(faceValue, MAX_UINT256);
    expect(() => validateTicketParams(always.params, 1, watcher!.senderState())).toThrow(TicketParamsError);
    expect(() => validateTicketParams(always.params, 1, watcher!.senderState())).toThrow(/ticket faceValue too low/);
    // One less still wins except with probability 2^-255, and passes every check.
    const { params, recipientRand } = await issueParams(faceValue, MAX_UINT256 - 1n);
    validateTicketParams(params, 1, watcher.senderState());
    const { header } = await createPayment({ signer: gateway.signer, params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
    expect((await redeem(header, recipientRand)).receipt.status).toBe(1);
    await watcher.refreshSenderInfo();
    expect(watcher.senderInfo.deposit).toBe(ETH - faceValue);
    watcher.stop();
  });

  it("a face value above the deposit takes the rest from the reserve, capped at the orchestrator's share", async () => {
    // Reserve claims need an active orchestrator; its share is reserve / pool size (here 4: 1 ETH → 0.25 ETH).
    await protocol.setTranscoderPool(true, 4n);
    try {
      const gateway = await fundedGateway(FINNEY, ETH);
      const faceValue = 100n * FINNEY;
      const first = await issueParams(faceValue, MAX_UINT256);
      const one = await createPayment({ signer: gateway.signer, params: first.params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
      const paid1 = await redeem(one.header, first.recipientRand);
      // deposit (1 finney) + 99 finney from the reserve.
      expect(eventsOf(paid1.receipt.logs, brokerEvents, "WinningTicketTransfer")).toEqual([[gateway.wallet.address, orchestrator.address, faceValue]]);
      expect(await chain.senderInfo(gateway.wallet.address)).toEqual({ deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: ETH - 99n * FINNEY });

      // Next ticket: no deposit left; the orchestrator's remaining share this round is 250 − 99 = 151 finney.
      const bigFace = 400n * FINNEY;
      const second = await issueParams(bigFace, MAX_UINT256);
      const two = await createPayment({ signer: gateway.signer, params: second.params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
      const paid2 = await redeem(two.header, second.recipientRand);
      expect(eventsOf(paid2.receipt.logs, brokerEvents, "WinningTicketTransfer")).toEqual([[gateway.wallet.address, orchestrator.address, 151n * FINNEY]]);
      expect(eventsOf(paid2.receipt.logs, bondingEvents, "UpdateTranscoderWithFees")).toEqual([[orchestrator.address, 151n * FINNEY, 100n]]);
      expect(await chain.senderInfo(gateway.wallet.address)).toEqual({ deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: ETH - 250n * FINNEY });
    } finally {
      await protocol.setTranscoderPool(false);
    }
  });

  it("an orchestrator that is not active gets only the deposit when the face value exceeds it", async () => {
    const gateway = await fundedGateway(2n * FINNEY, ETH);
    const { params, recipientRand } = await issueParams(10n * FINNEY, MAX_UINT256);
    const { header } = await createPayment({ signer: gateway.signer, params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
    const { receipt } = await redeem(header, recipientRand);
    expect(eventsOf(receipt.logs, brokerEvents, "WinningTicketTransfer")).toEqual([[gateway.wallet.address, orchestrator.address, 2n * FINNEY]]);
    expect(await chain.senderInfo(gateway.wallet.address)).toEqual({ deposit: 0n, withdrawRound: 0n, reserveFundsRemaining: ETH });
  });

  it("the contract refuses what the gateway must never send: a wrong signer, a losing ticket, a stale round", async () => {
    const gateway = await fundedGateway(ETH, ETH);
    const { params, recipientRand } = await issueParams(FINNEY, MAX_UINT256);
    const { header } = await createPayment({ signer: gateway.signer, params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
    const { ticket, sig } = ticketFromHeader(header);
    const call = (t: typeof ticket, s: string, rand: bigint) => redeemer().getFunction("redeemWinningTicket").staticCall(t, s, rand);

    // Signed by another key (e.g. a payment whose sender is not the signing address).
    const impostor = await walletIdentity(Wallet.createRandom());
    const otherSig = hexlify(await impostor.signer!.signDigest(Buffer.from(ticketHash(ticketFields(ticket)).slice(2), "hex")));
    await expect(call(ticket, otherSig, recipientRand)).rejects.toThrow(/invalid signature over ticket hash/);
    // The recipientRand must be the orchestrator's secret behind recipientRandHash.
    await expect(call(ticket, sig, recipientRand + 1n)).rejects.toThrow(/recipientRand does not match recipientRandHash/);
    // A ticket with a tiny winProb loses (the gateway signs it; only the orchestrator's rand decides).
    const losing = await issueParams(FINNEY, 1n);
    const lost = await createPayment({ signer: gateway.signer, params: losing.params, expectedPrice: price, nonces: gateway.nonces, tickets: 1 });
    const lostTicket = ticketFromHeader(lost.header);
    await expect(call(lostTicket.ticket, lostTicket.sig, losing.recipientRand)).rejects.toThrow(/ticket did not win/);
    // Two rounds later (ticketValidityPeriod 2) the ticket has expired: why orchestrators redeem promptly.
    await protocol.setRound(100n + protocol.ticketValidityPeriod);
    await expect(call(ticket, sig, recipientRand)).rejects.toThrow(/ticket is expired/);
    // Back in round 100 the same, never redeemed, ticket is valid again.
    await protocol.setRound(100n, await chain.blockHashForRound(100n));
    await call(ticket, sig, recipientRand);
  });
});

/** The src/payments Ticket fields of an on-chain ticket struct (for re-hashing it). */
function ticketFields(t: ReturnType<typeof ticketFromHeader>["ticket"]) {
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: Number(t.senderNonce),
    recipientRandHash: t.recipientRandHash,
    creationRound: toBigInt(t.auxData.slice(0, 66)),
    creationRoundBlockHash: "0x" + t.auxData.slice(66),
    paramsExpirationBlock: 0n,
  };
}

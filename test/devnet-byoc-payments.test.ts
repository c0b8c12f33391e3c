// The simulated orchestrators' BYOC side in on-chain mode, over real HTTPS on 127.0.0.1, driven by hand-made requests
// built with the gateway's own modules: tokens carry the payee's ticket params and balance, jobs need 60 s of price in
// balance, pay with Livepeer-Payment, are charged ceil(elapsed s) × price, and bad payments are dropped (go-livepeer's
// panic) or, in "reject" mode, answered 400 with the payee's error.
import * as http from "node:http";
import * as https from "node:https";
import { create } from "@bufbuild/protobuf";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startByocServer, type SimulatedByoc } from "../src/devnet/byoc-server.js";
import { selfSignedCertificate } from "../src/devnet/cert.js";
import { DEFAULT_DEVNET_SPECS, startDevnet, type Devnet } from "../src/devnet/network.js";
import { goFloatString, SimulatedPayee, staticPayeeChain, tokenBalance, type StaticPayeeChain } from "../src/devnet/payee.js";
import type { SimulatedOrchestratorSpec } from "../src/devnet/spec.js";
import { offchainIdentity, walletIdentity, type GatewayIdentity } from "../src/eth/identity.js";
import {
  OrchestratorRequestSchema,
  PriceInfoSchema,
  TicketParamsSchema,
  type OrchestratorInfo,
  type OrchestratorRequest,
} from "../src/gen/net/lp_rpc_pb.js";
import { OrchestratorClientPool } from "../src/orchestrator/orchestrator-client.js";
import { addRatios, multiplyRatios, ratio, type Ratio } from "../src/network/price.js";
import { encodeOrchestratorJobHeader } from "../src/orchestrator/byoc-job-request.js";
import { ethAddressHeader, parseJobToken, type JobToken } from "../src/orchestrator/byoc-token.js";
import { ticketEV } from "../src/payments/expected-value.js";
import { NonceAllocator } from "../src/payments/nonces.js";
import { createPayment } from "../src/payments/payment.js";
import { parseTicketParams } from "../src/payments/ticket-params.js";

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One HTTP/1.1 request on its own connection, accepting the orchestrator's self-signed certificate. */
function send(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const headers = init.body === undefined ? init.headers : { "Content-Length": String(Buffer.byteLength(init.body)), ...init.headers };
    const req = https.request(url, { method: init.method ?? "GET", headers, agent: false, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const CAPABILITY = "depth";

/** One GetOrchestrator call over TLS (self-signed accepted), through the gateway's own client. */
async function getOrchestrator(uri: string, request: OrchestratorRequest): Promise<OrchestratorInfo> {
  const clients = new OrchestratorClientPool();
  try {
    return (await clients.getOrchestrator(uri, request, { timeoutMs: 5_000 })).info;
  } finally {
    clients.close();
  }
}

async function getToken(base: string, identity: GatewayIdentity, capability = CAPABILITY): Promise<JobToken> {
  const answer = await send(base, "/process/token", {
    headers: { "Livepeer-Eth-Address": ethAddressHeader(identity), "Livepeer-Capability": capability },
  });
  expect(answer.status, answer.text).toBe(200);
  return parseJobToken(answer.text, base);
}

/** A signed job request, with an optional Livepeer-Payment header. */
async function postJob(base: string, identity: GatewayIdentity, payment?: string, workerPath = "reverse"): Promise<Answer> {
  const livepeer = await encodeOrchestratorJobHeader(
    { request: "{}", parameters: "{}", capability: CAPABILITY, timeoutSeconds: 30 },
    identity.signer!,
  );
  return send(base, `/process/request/${workerPath}`, {
    method: "POST",
    headers: { Livepeer: livepeer, "Content-Type": "text/plain", ...(payment === undefined ? {} : { "Livepeer-Payment": payment }) },
    body: "hello on-chain devnet",
  });
}

/** Pays `tickets` tickets over the token's params, as the gateway's payer would. */
async function payFor(token: JobToken, identity: GatewayIdentity, nonces: NonceAllocator, tickets: number): Promise<string> {
  const params = parseTicketParams(token.ticketParams!.message);
  const created = await createPayment({
    signer: identity.signer!,
    params,
    expectedPrice: token.priceInfo!,
    nonces,
    tickets,
    nestedExpirationParams: true,
  });
  return created.header;
}

const evOf = (token: JobToken): Ratio => ticketEV(token.ticketParams!.faceValue, token.ticketParams!.winProb);
const minus = (a: Ratio, b: Ratio): Ratio => addRatios(a, ratio(-b.num, b.den));

describe("a devnet on-chain (startDevnet payments), bad payments dropped", () => {
  let devnet: Devnet;
  let chain: StaticPayeeChain;
  let gateway: GatewayIdentity;
  let alphaUri: string;
  const price = ratio(50_000n); // orch-alpha's depth, wei per second

  beforeAll(async () => {
    chain = staticPayeeChain({ l1Block: 2_000n });
    devnet = await startDevnet({ admin: false, payments: { chain } });
    gateway = await walletIdentity(new Wallet(keccak256(toUtf8Bytes("byoc payments gateway"))));
    alphaUri = devnet.orchestrator("orch-alpha").serviceUri;
  });

  afterAll(async () => {
    await devnet?.close();
  });

  it("gives every orchestrator its own payee (node account as recipient) over one chain", () => {
    expect(devnet.payeeChain).toBe(chain);
    expect([...devnet.payees.keys()]).toEqual(DEFAULT_DEVNET_SPECS.map((spec) => spec.name));
    for (const orchestrator of devnet.orchestrators) {
      expect(devnet.payee(orchestrator.spec.name).recipient).toBe(orchestrator.address);
      expect(devnet.payee(orchestrator.spec.name).chain).toBe(chain);
    }
    expect(() => devnet.payee("orch-zulu")).toThrow(/no payee for "orch-zulu"/);
  });

  it("tokens carry go-livepeer ticket params for the verified sender at the capability price, and balance 0", async () => {
    const token = await getToken(alphaUri, gateway);
    expect(token.price).toEqual(price);
    expect(token.balance).toBe(0n);
    const params = parseTicketParams(token.ticketParams!.message);
    expect(params.recipient).toBe(devnet.orchestrator("orch-alpha").address);
    expect(params.faceValue).toBe(1_200_000n * 1_000_000_000n * 100n);
    expect(params.expirationBlock).toBe(2_040n);
    expect(params.creationRound).toBe(chain.lastInitializedRound());
    // Each token: a fresh seed, hence a fresh recipientRandHash.
    const again = await getToken(alphaUri, gateway);
    expect(again.ticketParams!.message.recipientRandHash).not.toEqual(token.ticketParams!.message.recipientRandHash);
  });

  it("verifies signatures: an off-chain gateway gets no token", async () => {
    const answer = await send(alphaUri, "/process/token", {
      headers: { "Livepeer-Eth-Address": ethAddressHeader(offchainIdentity()), "Livepeer-Capability": CAPABILITY },
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toBe("Invalid eth address header \n");
  });

  it("refuses a job without payment: 400 Insufficient balance for request", async () => {
    const answer = await postJob(alphaUri, gateway);
    expect(answer.status).toBe(400);
    expect(answer.text).toBe("Insufficient balance for request\n");
    expect(devnet.orchestrator("orch-alpha").byoc.stats(CAPABILITY)?.jobsSucceeded).toBe(0);
  });

  it("runs a paid job and reports credit − ceil(elapsed) × price in Livepeer-Balance; the next token shows it", async () => {
    const payee = devnet.payee("orch-alpha");
    const token = await getToken(alphaUri, gateway);
    const nonces = new NonceAllocator();
    const answer = await postJob(alphaUri, gateway, await payFor(token, gateway, nonces, 2));
    expect(answer.status, answer.text).toBe(200);
    const credit = multiplyRatios(ratio(2n), evOf(token));
    // The deterministic worker answers at once: one started second.
    const after = minus(credit, price);
    expect(answer.headers["livepeer-balance"]).toBe(goFloatString(after, 0));
    expect(payee.balance(gateway.address, CAPABILITY)).toEqual(after);
    expect(payee.stats()).toMatchObject({ ticketsCredited: 2, totalCredited: credit, totalDebited: price });
    const next = await getToken(alphaUri, gateway);
    expect(next.balance).toBe(tokenBalance(after));
    expect(next.balance).toBeGreaterThan(0n);

    // With the balance above 60 s of price, the next job needs no payment.
    const unpaid = await postJob(alphaUri, gateway);
    expect(unpaid.status).toBe(200);
    expect(unpaid.headers["livepeer-balance"]).toBe(goFloatString(minus(after, price), 0));
  });

  it("reports the balance on SSE answers in Livepeer-Payment-Balance and the balance line, without a charge", async () => {
    const payee = devnet.payee("orch-alpha");
    const before = payee.balance(gateway.address, CAPABILITY);
    const answer = await postJob(alphaUri, gateway, undefined, "stream");
    expect(answer.status).toBe(200);
    expect(answer.headers["livepeer-payment-balance"]).toBe(goFloatString(before, 0));
    const balanceLine = answer.text.indexOf(`data: {"balance": ${goFloatString(before, 3)}}\n\n`);
    expect(balanceLine).toBeGreaterThan(0);
    expect(answer.text.indexOf("data: [DONE]")).toBeGreaterThan(balanceLine);
    expect(payee.balance(gateway.address, CAPABILITY)).toEqual(before);
  });

  it("drops the connection on a bad payment (go-livepeer's handler panics), crediting nothing", async () => {
    const stranger = await walletIdentity(new Wallet(keccak256(toUtf8Bytes("byoc payments stranger"))));
    const token = await getToken(alphaUri, stranger);
    const header = await payFor(token, stranger, new NonceAllocator(), 1);
    expect((await postJob(alphaUri, stranger, header)).status).toBe(200);
    const credited = devnet.payee("orch-alpha").balance(stranger.address, CAPABILITY);
    // The same payment again: its nonce was seen.
    const dropped = await postJob(alphaUri, stranger, header).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error,
    );
    expect(dropped).toBeDefined();
    expect(dropped!.code === "ECONNRESET" || /socket hang up/.test(dropped!.message)).toBe(true);
    expect(devnet.payee("orch-alpha").balance(stranger.address, CAPABILITY)).toEqual(credited);
    expect(devnet.payee("orch-alpha").stats().ticketsRejected["nonce-seen"]).toBe(1);
    // The slot was released.
    expect(devnet.orchestrator("orch-alpha").byoc.inFlight(CAPABILITY)).toBe(0);
  });

  it("over gRPC, answers signed requests with ticket params priced at the reply's price_info, refuses unsigned ones", async () => {
    const alpha = devnet.orchestrator("orch-alpha");
    const info = await getOrchestrator(
      alpha.uri,
      create(OrchestratorRequestSchema, { address: gateway.addressBytes, sig: gateway.orchestratorRequestSig }),
    );
    const params = parseTicketParams(info.ticketParams!);
    expect(params.recipient).toBe(alpha.address);
    // A payment echoing that price_info is what the payee issued them for.
    const payment = await createPayment({
      signer: gateway.signer!,
      params,
      expectedPrice: info.priceInfo!,
      nonces: new NonceAllocator(),
      tickets: 1,
    });
    const receipt = devnet.payee("orch-alpha").receivePayment(payment.payment, "ai-session");
    expect(receipt).toMatchObject({ tickets: 1, fatal: false });
    expect(receipt.error).toBeUndefined();
    await expect(getOrchestrator(alpha.uri, create(OrchestratorRequestSchema, {}))).rejects.toThrow(
      /Invalid orchestrator request: invalid signature length: 0 bytes/,
    );
  });

  it("keeps balances per orchestrator: alpha's credit is not bravo's", async () => {
    const bravo = devnet.orchestrator("orch-bravo").serviceUri;
    expect((await getToken(bravo, gateway)).balance).toBe(0n);
    expect((await postJob(bravo, gateway)).status).toBe(400);
  });
});

describe("a BYOC server on-chain in reject mode", () => {
  const SPEC: SimulatedOrchestratorSpec = {
    name: "orch-paid",
    version: "0.8.8",
    transcodingPrice: ratio(1n),
    pipelines: {},
    byoc: [{ name: CAPABILITY, pricePerSecond: ratio(1_000_000n), capacity: 2 }],
  };
  let server: SimulatedByoc;
  let payee: SimulatedPayee;
  let chain: StaticPayeeChain;
  let gateway: GatewayIdentity;

  beforeAll(async () => {
    chain = staticPayeeChain();
    payee = new SimulatedPayee({
      recipientKey: new Wallet(keccak256(toUtf8Bytes("orch-paid recipient"))),
      secret: new Uint8Array(32).fill(7),
      chain,
    });
    server = await startByocServer({ spec: SPEC, tls: await selfSignedCertificate("127.0.0.1"), payments: { payee, onBadPayment: "reject" } });
    gateway = await walletIdentity(new Wallet(keccak256(toUtf8Bytes("byoc reject gateway"))));
  });

  afterAll(async () => {
    await server?.close();
  });

  it("answers 400 with the payee's error for expired params, credits nothing", async () => {
    const token = await getToken(server.uri, gateway);
    const header = await payFor(token, gateway, new NonceAllocator(), 1);
    chain.setL1Block(chain.lastSeenL1Block() + 40n);
    const answer = await postJob(server.uri, gateway, header);
    chain.setL1Block(chain.lastSeenL1Block() - 40n);
    expect(answer.status).toBe(400);
    expect(answer.text).toBe("TicketParams expired\n");
    expect(payee.balance(gateway.address, CAPABILITY)).toEqual(ratio(0n));
  });

  it("answers 400 for a tampered expected price and for an undecodable header", async () => {
    const token = await getToken(server.uri, gateway);
    const tampered = { ...token, priceInfo: create(PriceInfoSchema, { pricePerUnit: 999_999n, pixelsPerUnit: 1n }) };
    const bad = await postJob(server.uri, gateway, await payFor(tampered, gateway, new NonceAllocator(), 1));
    expect(bad.status).toBe(400);
    expect(bad.text).toBe("invalid recipientRand for ticket recipientRandHash\n");
    const garbage = await postJob(server.uri, gateway, "not base64!");
    expect(garbage.status).toBe(400);
    expect(garbage.text).toMatch(/^Could not decode payment err=/);
  });

  it("needs 60 s of price: one 8-gwei ticket covers 60 s at 1e6 wei/s and the job is charged one second", async () => {
    const token = await getToken(server.uri, gateway);
    expect(create(TicketParamsSchema, token.ticketParams!.message).faceValue.length).toBeGreaterThan(0);
    const answer = await postJob(server.uri, gateway, await payFor(token, gateway, new NonceAllocator(), 1));
    expect(answer.status, answer.text).toBe(200);
    const after = minus(evOf(token), ratio(1_000_000n));
    expect(answer.headers["livepeer-balance"]).toBe(goFloatString(after, 0));
  });
});

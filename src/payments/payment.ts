// Building the net.Payment a gateway sends in the Livepeer-Payment header (server/segment_rpc.go genPayment,
// byoc/payment.go createPayment): tickets over the orchestrator's params, signed, with everything the orchestrator
// needs to recompute its recipientRand echoed exactly (sender, seed, face value, win prob, expiration block,
// expected price, creation round and block hash).

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getAddress } from "ethers/address";
import { getBytes, toBeArray } from "ethers/utils";
import {
  type Payment,
  PaymentSchema,
  type PriceInfo,
  PriceInfoSchema,
  TicketExpirationParamsSchema,
  TicketParamsSchema,
  type TicketSenderParams,
  TicketSenderParamsSchema,
} from "../gen/net/lp_rpc_pb.js";
import type { NonceAllocator } from "./nonces.js";
import { type DigestSigner, signTicket, type Ticket } from "./ticket.js";
import type { PmTicketParams } from "./ticket-params.js";

/** The HTTP header that carries the payment. */
export const PAYMENT_HEADER = "Livepeer-Payment";

/** go's big.Int.Bytes(): minimal big-endian, and empty for zero. */
export function minimalBytes(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError(`cannot encode negative ${value} as unsigned bytes`);
  return value === 0n ? new Uint8Array(0) : toBeArray(value);
}

/** The tickets of one batch over `params`, one per nonce (pm/sender.go CreateTicketBatch). */
export function makeTickets(params: PmTicketParams, sender: string, nonces: readonly number[]): Ticket[] {
  const senderAddress = getAddress(sender);
  return nonces.map((senderNonce) => ({
    recipient: params.recipient,
    sender: senderAddress,
    faceValue: params.faceValue,
    winProb: params.winProb,
    senderNonce,
    recipientRandHash: params.recipientRandHash,
    creationRound: params.creationRound,
    creationRoundBlockHash: params.creationRoundBlockHash,
    paramsExpirationBlock: params.expirationBlock,
  }));
}

/** Signs each ticket: one TicketSenderParams { sender_nonce, sig } per ticket, in order. */
export async function signTickets(signer: DigestSigner, tickets: readonly Ticket[]): Promise<TicketSenderParams[]> {
  const sigs = await Promise.all(tickets.map((ticket) => signTicket(signer, ticket)));
  return tickets.map((ticket, i) => create(TicketSenderParamsSchema, { senderNonce: ticket.senderNonce, sig: sigs[i] as Uint8Array }));
}

export interface PaymentInput {
  /** The gateway's address: the one its OrchestratorRequest carried. */
  readonly sender: string;
  /** The params the tickets were made over. */
  readonly params: PmTicketParams;
  /** The PriceInfo that came with those params (OrchestratorInfo.price_info, or the BYOC token's price), as received. */
  readonly expectedPrice: PriceInfo;
  /** One per ticket. None: the payment carries no ticket_params (go: the orchestrator then credits nothing). */
  readonly senderParams: readonly TicketSenderParams[];
  /**
   * Also put expiration_params inside ticket_params (BYOC sends the token's params whole; AI's genPayment leaves
   * it out). Orchestrators read only the top-level one. Default false.
   */
  readonly nestedExpirationParams?: boolean;
}

/**
 * The net.Payment. `expiration_params` is always set (orchestrators dereference it whenever ticket_params is
 * present), `expected_price` is a copy of the price that came with the params, and ticket_params is omitted when
 * there are no tickets (an empty sub-message would not mean "no tickets" to an orchestrator).
 */
export function buildPayment(input: PaymentInput): Payment {
  const { params } = input;
  const expirationParams = () =>
    create(TicketExpirationParamsSchema, {
      creationRound: params.creationRound,
      creationRoundBlockHash: getBytes(params.creationRoundBlockHash),
    });
  const ticketParams =
    input.senderParams.length === 0
      ? undefined
      : create(TicketParamsSchema, {
          recipient: getBytes(getAddress(params.recipient)),
          faceValue: minimalBytes(params.faceValue),
          winProb: minimalBytes(params.winProb),
          recipientRandHash: getBytes(params.recipientRandHash),
          seed: minimalBytes(params.seed),
          expirationBlock: minimalBytes(params.expirationBlock),
          expirationParams: input.nestedExpirationParams ? expirationParams() : undefined,
        });
  const price = input.expectedPrice;
  return create(PaymentSchema, {
    ticketParams,
    sender: getBytes(getAddress(input.sender)),
    expirationParams: expirationParams(),
    ticketSenderParams: input.senderParams.map((p) => create(TicketSenderParamsSchema, { senderNonce: p.senderNonce, sig: Uint8Array.from(p.sig) })),
    expectedPrice: create(PriceInfoSchema, {
      pricePerUnit: price.pricePerUnit,
      pixelsPerUnit: price.pixelsPerUnit,
      capability: price.capability,
      constraint: price.constraint,
    }),
  });
}

/** The Livepeer-Payment header value: base64 (standard alphabet, padded) of the binary protobuf. */
export function encodePaymentHeader(payment: Payment): string {
  return Buffer.from(toBinary(PaymentSchema, payment)).toString("base64");
}

/** Reads a Livepeer-Payment header value (for simulated orchestrators and tests). Throws on non-base64 input. */
export function decodePaymentHeader(header: string): Payment {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(header) || header.length % 4 !== 0) {
    throw new Error("Livepeer-Payment header is not standard padded base64");
  }
  return fromBinary(PaymentSchema, Buffer.from(header, "base64"));
}

export interface CreatePaymentInput {
  readonly signer: DigestSigner & { readonly address: string };
  readonly params: PmTicketParams;
  readonly expectedPrice: PriceInfo;
  readonly nonces: NonceAllocator;
  /** Number of tickets (from expected-value.ts); validate the params for this count first (ticket-params.ts). */
  readonly tickets: number;
  readonly nestedExpirationParams?: boolean;
}

export interface CreatedPayment {
  readonly payment: Payment;
  /** The Livepeer-Payment header value. */
  readonly header: string;
  readonly tickets: readonly Ticket[];
}

/**
 * Allocates nonces (synchronously, so concurrent payments never share one), makes and signs the tickets and
 * builds the payment and its header.
 */
export async function createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
  const nonces = input.nonces.allocate(input.params, input.tickets);
  const tickets = makeTickets(input.params, input.signer.address, nonces);
  const senderParams = await signTickets(input.signer, tickets);
  const payment = buildPayment({
    sender: input.signer.address,
    params: input.params,
    expectedPrice: input.expectedPrice,
    senderParams,
    nestedExpirationParams: input.nestedExpirationParams,
  });
  return { payment, header: encodePaymentHeader(payment), tickets };
}

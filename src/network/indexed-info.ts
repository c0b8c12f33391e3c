// An orchestrator's last accepted OrchestratorInfo as the index keeps it: the bytes of the fields the listings show,
// plus the few fields the request path reads, taken out once. A decoded OrchestratorInfo of an orchestrator with 20
// capabilities is tens of small objects (maps of maps, bigints) and ~20 KB of heap; its bytes are ~3 KB. At 10,000
// orchestrators that is the difference between fitting in a few hundred MB and not.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
import { OrchestratorInfoSchema, TicketParamsSchema, type OrchestratorInfo } from "../gen/net/lp_rpc_pb.js";
import { LISTED_FIELDS, selectInfoFields, selectReadByDiscovery } from "./info-fields.js";

export class IndexedInfo {
  /** The records of the listed fields (LISTED_FIELDS), in the order the reply had them. */
  readonly bytes: Uint8Array;
  /** OrchestratorInfo.transcoder: the service URI jobs are sent to ("" when not advertised). */
  readonly transcoder: string;
  /** capabilities.version: the go-livepeer version the orchestrator reports ("" when not advertised). */
  readonly version: string;
  /** ticket_params.recipient when the reply had ticket parameters: the listings show it. Shared: do not modify. */
  readonly recipient: Uint8Array | undefined;
  /** The 20-byte account tickets pay: ticket_params.recipient, else the node address; undefined when neither. */
  private readonly payee: Uint8Array | undefined;
  private payeeChecksummed: string | undefined;

  /** `info` must be the decoding of `reply`; only the fields above are read from it, and it is not kept. */
  constructor(reply: Uint8Array, info: OrchestratorInfo) {
    const selected = selectInfoFields(reply, (field) => LISTED_FIELDS.has(field)).selected;
    // Copied when it is (a view into) the reply: that would keep all of it, and the buffer grpc-js carved it from.
    this.bytes = selected.buffer === reply.buffer ? Uint8Array.from(selected) : selected;
    this.transcoder = info.transcoder;
    this.version = info.capabilities?.version ?? "";
    // Copied: views into the reply would keep all of it, and a caller's message may share its buffers.
    const recipient = info.ticketParams?.recipient;
    this.recipient = recipient && Uint8Array.from(recipient);
    const payee = recipient?.length === 20 ? recipient : info.address.length === 20 ? info.address : undefined;
    this.payee = payee && Uint8Array.from(payee);
  }

  /** For a message built in memory (tests, the devnet): encodes it. */
  static of(info: OrchestratorInfo): IndexedInfo {
    return new IndexedInfo(toBinary(OrchestratorInfoSchema, info), info);
  }

  /**
   * A reply as the index keeps it: `previous` itself when the reply lists what it listed (an unchanged orchestrator
   * answering again), so that what was worked out from it (the listings' entries) is worked out once.
   */
  static fromReply(reply: Uint8Array, info: OrchestratorInfo, previous: IndexedInfo | undefined): IndexedInfo {
    const next = new IndexedInfo(reply, info);
    return previous !== undefined && previous.listsTheSameAs(next) ? previous : next;
  }

  private listsTheSameAs(other: IndexedInfo): boolean {
    const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) => (a === undefined ? b === undefined : b !== undefined && Buffer.from(a).equals(b));
    return same(this.bytes, other.bytes) && same(this.recipient, other.recipient);
  }

  /**
   * The listed fields, decoded anew on every call: for the API's listings, never for the request path. Of the ticket
   * parameters, only the recipient is there. Discovery decoded the reply without the fields it never reads
   * (UNREAD_BY_DISCOVERY), so those were not checked: when they do not decode, they are left out rather than failing
   * the listing of every orchestrator.
   */
  decode(): OrchestratorInfo {
    let info: OrchestratorInfo;
    try {
      info = fromBinary(OrchestratorInfoSchema, this.bytes);
    } catch {
      info = fromBinary(OrchestratorInfoSchema, selectReadByDiscovery(this.bytes).selected);
    }
    if (this.recipient !== undefined) info.ticketParams = create(TicketParamsSchema, { recipient: this.recipient });
    return info;
  }

  /**
   * The payloads of the listed fields' length-delimited records, by field number, in the order they arrived: for
   * copying the info's messages into the listings without decoding them. Not checked beyond what discovery decoded
   * (not the hardware, see UNREAD_BY_DISCOVERY).
   */
  records(): Map<number, Uint8Array[]> {
    const records = new Map<number, Uint8Array[]>();
    const reader = new BinaryReader(this.bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, field);
        continue;
      }
      let kept = records.get(field);
      if (kept === undefined) records.set(field, (kept = []));
      kept.push(reader.bytes());
    }
    return records;
  }

  /** The payee as lower-case 0x-hex, or "": for comparing payees without the checksum's keccak. */
  get payeeHex(): string {
    return this.payee ? hexlify(this.payee) : "";
  }

  /** The EIP-55 payee address, or "": worked out on first use (keccak), then kept as long as the info is. */
  get payeeAddress(): string {
    this.payeeChecksummed ??= this.payee ? getAddress(hexlify(this.payee)) : "";
    return this.payeeChecksummed;
  }
}

// An orchestrator's last accepted OrchestratorInfo as the index keeps it: the bytes it arrived in, plus the few
// fields the request path reads, taken out once. A decoded OrchestratorInfo of an orchestrator with 20 capabilities
// is tens of small objects (maps of maps, bigints) and ~20 KB of heap; its bytes are ~3 KB. At 10,000 orchestrators
// that is the difference between fitting in a few hundred MB and not.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { getAddress } from "ethers/address";
import { hexlify } from "ethers/utils";
import { OrchestratorInfoSchema, type OrchestratorInfo } from "../gen/net/lp_rpc_pb.js";
import { selectReadByDiscovery } from "./info-fields.js";

export class IndexedInfo {
  /** OrchestratorInfo.transcoder: the service URI jobs are sent to ("" when not advertised). */
  readonly transcoder: string;
  /** capabilities.version: the go-livepeer version the orchestrator reports ("" when not advertised). */
  readonly version: string;
  /** The 20-byte account tickets pay: ticket_params.recipient, else the node address; undefined when neither. */
  private readonly payee: Uint8Array | undefined;
  private payeeChecksummed: string | undefined;

  /** `info` must be the decoding of `bytes`; only the fields above are read from it, and it is not kept. */
  constructor(
    readonly bytes: Uint8Array,
    info: OrchestratorInfo,
  ) {
    this.transcoder = info.transcoder;
    this.version = info.capabilities?.version ?? "";
    const recipient = info.ticketParams?.recipient;
    // Copied: views into `bytes` are fine, but a caller's message may share its buffers with other data.
    const payee = recipient?.length === 20 ? recipient : info.address.length === 20 ? info.address : undefined;
    this.payee = payee && Uint8Array.from(payee);
  }

  /** For a message built in memory (tests, the devnet): encodes it. */
  static of(info: OrchestratorInfo): IndexedInfo {
    return new IndexedInfo(toBinary(OrchestratorInfoSchema, info), info);
  }

  /**
   * The whole message, decoded anew on every call: for the API's listings, never for the request path. Discovery
   * decoded the reply without the fields it never reads (UNREAD_BY_DISCOVERY), so those were not checked: when they
   * do not decode, they are left out rather than failing the listing of every orchestrator.
   */
  decode(): OrchestratorInfo {
    try {
      return fromBinary(OrchestratorInfoSchema, this.bytes);
    } catch {
      return fromBinary(OrchestratorInfoSchema, selectReadByDiscovery(this.bytes).selected);
    }
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

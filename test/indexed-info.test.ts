import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getAddress } from "ethers";
import { describe, expect, it } from "vitest";
import { OrchestratorInfoSchema } from "../src/gen/net/lp_rpc_pb.js";
import { INFO_LIMITS, validateOrchestratorInfo } from "../src/discovery/validate-info.js";
import { IndexedInfo } from "../src/network/indexed-info.js";
import { decodeReceivedInfo } from "../src/orchestrator/orchestrator-client.js";

const NODE = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const RECIPIENT = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);
const eip55 = (bytes: Uint8Array) => getAddress(`0x${Buffer.from(bytes).toString("hex")}`);

describe("IndexedInfo", () => {
  it("keeps the bytes and the fields the request path reads", () => {
    const info = create(OrchestratorInfoSchema, {
      transcoder: "https://orch.example:8935",
      address: NODE,
      capabilities: { version: "0.8.8", bitstring: [1n, 2n] },
      hardware: [{ pipeline: "text-to-image", modelId: "m", gpuInfo: { "0": { name: "NVIDIA L40S", memoryTotal: 1n } } }],
    });
    const indexed = IndexedInfo.of(info);
    expect(indexed.transcoder).toBe("https://orch.example:8935");
    expect(indexed.version).toBe("0.8.8");
    expect(indexed.bytes).toEqual(toBinary(OrchestratorInfoSchema, info));
    expect(indexed.decode()).toEqual(info);
  });

  it("leaves out, rather than fails on, a field discovery did not decode and that does not decode", () => {
    const info = create(OrchestratorInfoSchema, { transcoder: "https://orch.example:8935", capabilities: { version: "0.8.8" } });
    // hardware (field 7) as a length-delimited record whose contents are not a HardwareInformation (a cut varint).
    const badHardware = Uint8Array.from([(7 << 3) | 2, 2, 0x08, 0xff]);
    const bytes = Buffer.concat([toBinary(OrchestratorInfoSchema, info), badHardware]);
    expect(() => fromBinary(OrchestratorInfoSchema, bytes)).toThrow();
    const received = decodeReceivedInfo(bytes);
    expect(received.hardwareEntries).toBe(1);
    expect(new IndexedInfo(received.bytes, received.info).decode()).toEqual(info);
  });

  it("pays the ticket recipient, else the node address, else nobody", () => {
    const both = IndexedInfo.of(create(OrchestratorInfoSchema, { address: NODE, ticketParams: { recipient: RECIPIENT } }));
    expect(both.payeeAddress).toBe(eip55(RECIPIENT));
    const nodeOnly = IndexedInfo.of(create(OrchestratorInfoSchema, { address: NODE, ticketParams: { recipient: new Uint8Array(3) } }));
    expect(nodeOnly.payeeAddress).toBe(eip55(NODE));
    expect(IndexedInfo.of(create(OrchestratorInfoSchema, {})).payeeAddress).toBe("");
    expect(IndexedInfo.of(create(OrchestratorInfoSchema, {})).version).toBe("");
  });
});

describe("validateOrchestratorInfo on an info decoded without its hardware", () => {
  it("counts the hardware entries the reply had against the limit", () => {
    const info = create(OrchestratorInfoSchema, { transcoder: "https://orch.example:8935" });
    expect(validateOrchestratorInfo(info, INFO_LIMITS.maxHardwareEntries)).toBeUndefined();
    expect(validateOrchestratorInfo(info, INFO_LIMITS.maxHardwareEntries + 1)).toBe(`hardware has ${INFO_LIMITS.maxHardwareEntries + 1} entries`);
    // Without the count, the decoded hardware is what counts.
    const decoded = create(OrchestratorInfoSchema, { transcoder: "https://orch.example:8935", hardware: Array.from({ length: INFO_LIMITS.maxHardwareEntries + 1 }, () => ({})) });
    expect(validateOrchestratorInfo(decoded)).toMatch(/^hardware has \d+ entries$/);
  });
});

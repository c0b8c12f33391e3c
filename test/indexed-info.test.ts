import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
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

  it("keeps its own copy of a reply that lies in a larger buffer, also when every field is listed", () => {
    const info = create(OrchestratorInfoSchema, { transcoder: "https://orch.example:8935", capabilities: { version: "0.8.8" } });
    const encoded = toBinary(OrchestratorInfoSchema, info);
    const pool = new Uint8Array(encoded.length + 64).fill(0xee);
    pool.set(encoded, 32);
    const reply = pool.subarray(32, 32 + encoded.length);
    const received = decodeReceivedInfo(reply);
    const indexed = new IndexedInfo(received.bytes, received.info);
    expect(indexed.bytes).toEqual(encoded);
    expect(indexed.bytes.buffer).not.toBe(pool.buffer);
    expect(indexed.bytes.buffer.byteLength).toBe(encoded.length);
    pool.fill(0);
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

  it("keeps only what the listings show: no auth token, storage or nodes, and of the ticket parameters the recipient", () => {
    const listed = {
      transcoder: "https://orch.example:8935",
      address: NODE,
      priceInfo: { pricePerUnit: 7n, pixelsPerUnit: 1n },
      capabilities: { version: "0.8.8", bitstring: [1n, 2n] },
      hardware: [{ pipeline: "text-to-image", modelId: "m", gpuInfo: { "0": { name: "NVIDIA L40S", memoryTotal: 1n } } }],
      capabilitiesPrices: [{ pricePerUnit: 3n, pixelsPerUnit: 1n, capability: 27, constraint: "m" }],
    };
    const reply = create(OrchestratorInfoSchema, {
      ...listed,
      ticketParams: { recipient: RECIPIENT, faceValue: Uint8Array.of(9), seed: Uint8Array.of(1, 2, 3), expirationBlock: Uint8Array.of(100) },
      authToken: { token: Uint8Array.of(4, 5), sessionId: "s", expiration: 1n },
      storage: [{ storageType: 1 }],
      nodes: ["https://other.example:8935"],
    });
    const indexed = new IndexedInfo(toBinary(OrchestratorInfoSchema, reply), reply);
    expect(indexed.bytes).toEqual(toBinary(OrchestratorInfoSchema, create(OrchestratorInfoSchema, listed)));
    expect(indexed.decode()).toEqual(create(OrchestratorInfoSchema, { ...listed, ticketParams: { recipient: RECIPIENT } }));
    expect(indexed.payeeAddress).toBe(eip55(RECIPIENT));
    // Without ticket parameters, there is none in the listing either.
    const offchain = create(OrchestratorInfoSchema, { ...listed, authToken: { token: Uint8Array.of(1) } });
    expect(new IndexedInfo(toBinary(OrchestratorInfoSchema, offchain), offchain).decode().ticketParams).toBeUndefined();
  });

  it("is the same IndexedInfo for a reply that lists the same, whatever its auth token and ticket parameters", () => {
    const reply = (changes: MessageInitShape<typeof OrchestratorInfoSchema> = {}) =>
      create(OrchestratorInfoSchema, {
        transcoder: "https://orch.example:8935",
        address: NODE,
        capabilities: { version: "0.8.8" },
        ticketParams: { recipient: RECIPIENT, seed: Uint8Array.of(Math.floor(Math.random() * 256)) },
        authToken: { token: Uint8Array.of(Math.floor(Math.random() * 256)), sessionId: String(Math.random()) },
        ...changes,
      } as MessageInitShape<typeof OrchestratorInfoSchema>);
    const fromReply = (info: ReturnType<typeof reply>, previous: IndexedInfo | undefined) => IndexedInfo.fromReply(toBinary(OrchestratorInfoSchema, info), info, previous);
    const first = fromReply(reply(), undefined);
    expect(fromReply(reply(), first)).toBe(first);
    for (const changed of [
      reply({ capabilities: { version: "0.8.9" } }),
      reply({ transcoder: "https://orch.example:8936" }),
      reply({ ticketParams: { recipient: NODE } }),
      reply({ ticketParams: undefined }),
      reply({ hardware: [{ pipeline: "llm" }] }),
    ]) {
      const next = fromReply(changed, first);
      expect(next).not.toBe(first);
      expect(next.decode()).toEqual(new IndexedInfo(toBinary(OrchestratorInfoSchema, changed), changed).decode());
    }
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

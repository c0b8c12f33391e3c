import { create, toBinary } from "@bufbuild/protobuf";
import { getAddress } from "ethers";
import { describe, expect, it } from "vitest";
import { OrchestratorInfoSchema } from "../src/gen/net/lp_rpc_pb.js";
import { IndexedInfo } from "../src/network/indexed-info.js";

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

  it("pays the ticket recipient, else the node address, else nobody", () => {
    const both = IndexedInfo.of(create(OrchestratorInfoSchema, { address: NODE, ticketParams: { recipient: RECIPIENT } }));
    expect(both.payeeAddress).toBe(eip55(RECIPIENT));
    const nodeOnly = IndexedInfo.of(create(OrchestratorInfoSchema, { address: NODE, ticketParams: { recipient: new Uint8Array(3) } }));
    expect(nodeOnly.payeeAddress).toBe(eip55(NODE));
    expect(IndexedInfo.of(create(OrchestratorInfoSchema, {})).payeeAddress).toBe("");
    expect(IndexedInfo.of(create(OrchestratorInfoSchema, {})).version).toBe("");
  });
});

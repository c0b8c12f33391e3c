import { readFileSync } from "node:fs";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { getAddress, getBytes } from "ethers";
import { describe, expect, it } from "vitest";
import { OrchestratorInfoSchema } from "../src/gen/net/lp_rpc_pb.js";
import { compareGoStrings, goInteger, goString, parseGoJson } from "../src/api/gojson.js";
import {
  AROUND_ORCHESTRATORS,
  CAPABILITY_NAMES_JSON,
  encodeNetworkCapabilities,
  encodeNetworkCapabilitiesOrchestrator,
  goAddressHex,
} from "../src/api/network-capabilities-json.js";

type OrchestratorInfoInit = MessageInitShape<typeof OrchestratorInfoSchema>;

const orchestrator = (init: OrchestratorInfoInit) => ({ info: create(OrchestratorInfoSchema, init) });

/** The encoded entry of a single orchestrator, cut out of the whole body. */
function encodeOne(init: OrchestratorInfoInit): string {
  const body = encodeNetworkCapabilities([orchestrator(init)]);
  const prefix = `{"capabilities_names":${CAPABILITY_NAMES_JSON},"orchestrators":[`;
  expect(body.startsWith(prefix)).toBe(true);
  expect(body.endsWith("]}")).toBe(true);
  return body.slice(prefix.length, -2);
}

/** Drops the whitespace between tokens of pretty-printed JSON without touching strings or key order. */
function compact(prettyJson: string): string {
  return prettyJson.replace(/("(?:[^"\\]|\\.)*")|\s+/g, (_match, quoted: string | undefined) => quoted ?? "");
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const O_A_RECIPIENT = "0xD8E8328501E9645d16Cf49539efC04f734606ee4";
const O_A_ADDRESS = "0x3b28a7D785356Dc67C7970666747e042305bfB79";
// The reference example spells O-A's local_address with a letter case that is not its EIP-55 checksum (its values
// are illustrative); go-ethereum's Hex() can only produce the checksum, so the comparison uses that spelling.
const O_A_ADDRESS_AS_IN_REF = "0x3b28a7d785356dc67c7970666747E042305bfB79";
const O_B_ADDRESS = "0x5bE44e23041E93CDF9bCd5A0968524e104e38ae1";

// The two orchestrators of the reference example (discovery §5.4), as they would arrive over gRPC.
const exampleOrchestratorA: OrchestratorInfoInit = {
  transcoder: "https://orch-a.example.com:8935",
  ticketParams: { recipient: getBytes(O_A_RECIPIENT) },
  address: getBytes(O_A_ADDRESS),
  capabilities: {
    bitstring: [34426871807n],
    capacities: { 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1, 14: 1, 26: 1, 35: 2 },
    version: "0.8.8",
    constraints: {
      minVersion: "0.8.8",
      PerCapability: {
        35: {
          models: {
            streamdiffusion: { warm: true, runnerVersion: "0.14.2", capacityInUse: 1 },
            comfyui: { warm: true, capacity: 1, runnerVersion: "0.14.2" },
          },
        },
      },
    },
  },
  priceInfo: { pricePerUnit: 0n, pixelsPerUnit: 1n },
  capabilitiesPrices: [
    { pricePerUnit: 0n, pixelsPerUnit: 1n, capability: 35, constraint: "streamdiffusion" },
    { pricePerUnit: 3n, pixelsPerUnit: 1n, capability: 35, constraint: "comfyui" },
  ],
  hardware: [
    {
      pipeline: "live-video-to-video",
      modelId: "streamdiffusion",
      gpuInfo: {
        "0": {
          id: "GPU-6d3f0c2e-1b7a-4a55-9d0e-2f5a1c9e7b10",
          name: "NVIDIA GeForce RTX 4090",
          major: 8,
          minor: 9,
          memoryFree: 2315091968n,
          memoryTotal: 25757220864n,
        },
      },
    },
  ],
};

const exampleOrchestratorB: OrchestratorInfoInit = {
  transcoder: "https://orch-b.example.net:8935",
  ticketParams: { recipient: getBytes(O_B_ADDRESS) },
  address: getBytes(O_B_ADDRESS),
  capabilities: {
    bitstring: [266854399n],
    capacities: Object.fromEntries(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25, 26, 27].map((id) => [id, 1]),
    ),
    version: "0.8.8",
    constraints: {
      PerCapability: {
        27: {
          models: {
            "black-forest-labs/FLUX.1-dev": { capacity: 1, runnerVersion: "0.14.2" },
            "SG161222/RealVisXL_V4.0_Lightning": { warm: true, capacity: 1, runnerVersion: "0.14.2" },
          },
        },
      },
    },
  },
  priceInfo: { pricePerUnit: 1212n, pixelsPerUnit: 1n },
  capabilitiesPrices: [
    { pricePerUnit: 4768371n, pixelsPerUnit: 1n, capability: 27, constraint: "SG161222/RealVisXL_V4.0_Lightning" },
  ],
};

describe("encodeNetworkCapabilities: the reference example", () => {
  const fixture = readFileSync(new URL("./fixtures/network-capabilities-example.json", import.meta.url), "utf8");

  it("reproduces discovery §5.4 byte for byte (with O-A's local_address checksummed)", () => {
    const body = encodeNetworkCapabilities([orchestrator(exampleOrchestratorA), orchestrator(exampleOrchestratorB)]);
    expect(body).toBe(compact(fixture).replace(O_A_ADDRESS_AS_IN_REF, O_A_ADDRESS));
  });

  it("differs from the example only in that address, whose case there is no EIP-55 checksum", () => {
    expect(fixture).toContain(O_A_ADDRESS_AS_IN_REF);
    expect(() => getAddress(O_A_ADDRESS_AS_IN_REF)).toThrow(/checksum/);
    expect(getAddress(O_A_ADDRESS_AS_IN_REF.toLowerCase())).toBe(O_A_ADDRESS);
  });

  it("writes capabilities_names exactly as the example's line", () => {
    const line = fixture.split("\n").find((text) => text.includes('"capabilities_names"'));
    expect(line?.trim()).toBe(`"capabilities_names": ${CAPABILITY_NAMES_JSON},`);
    expect(CAPABILITY_NAMES_JSON.startsWith('{"-1":"Unused","-2":"Invalid","0":"H.264","1":"MPEGTS","10":')).toBe(true);
    expect(CAPABILITY_NAMES_JSON).not.toContain('"13"');
  });

  it("is compact, without a trailing newline", () => {
    const body = encodeNetworkCapabilities([orchestrator(exampleOrchestratorA)]);
    expect(body).not.toMatch(/\n$/);
    expect(() => JSON.parse(body)).not.toThrow();
  });
});

describe("encodeNetworkCapabilities: the orchestrator list", () => {
  it("writes a nil list as null", () => {
    expect(encodeNetworkCapabilities(null)).toBe(`{"capabilities_names":${CAPABILITY_NAMES_JSON},"orchestrators":null}`);
  });

  it("writes an empty list as []", () => {
    expect(encodeNetworkCapabilities([])).toBe(`{"capabilities_names":${CAPABILITY_NAMES_JSON},"orchestrators":[]}`);
  });

  it("keeps the order given", () => {
    const body = encodeNetworkCapabilities([
      orchestrator({ transcoder: "https://z:1" }),
      orchestrator({ transcoder: "https://a:1" }),
    ]);
    expect(body.indexOf("https://z:1")).toBeLessThan(body.indexOf("https://a:1"));
  });
});

describe("AROUND_ORCHESTRATORS", () => {
  it("is the body's text around its orchestrators, joined by commas, for none, one and several", () => {
    const orchestrators = [{ transcoder: "https://z:1" }, { transcoder: "https://a:1", address: new Uint8Array(20) }, {}].map(orchestrator);
    for (const count of [0, 1, 2, 3]) {
      const listed = orchestrators.slice(0, count);
      const joined = AROUND_ORCHESTRATORS.before + listed.map(encodeNetworkCapabilitiesOrchestrator).join(",") + AROUND_ORCHESTRATORS.after;
      expect(joined).toBe(encodeNetworkCapabilities(listed));
    }
  });
});

describe("encodeNetworkCapabilities: absent and empty values", () => {
  it("writes an orchestrator that sent nothing but its URI with Go's zero values", () => {
    expect(encodeOne({ transcoder: "https://o:8935" })).toBe(
      `{"address":"","local_address":"${ZERO_ADDRESS}","orch_uri":"https://o:8935",` +
        `"capabilities":null,"price_info":null,"capabilities_prices":null,"hardware":null}`,
    );
  });

  it("checksums a recipient from present but empty ticket params as the zero address", () => {
    expect(encodeOne({ ticketParams: {} })).toContain(`"address":"${ZERO_ADDRESS}"`);
  });

  it("writes present but empty messages as {}", () => {
    expect(
      encodeOne({ capabilities: {}, priceInfo: {}, capabilitiesPrices: [{}], hardware: [{}] }),
    ).toBe(
      `{"address":"","local_address":"${ZERO_ADDRESS}","orch_uri":"",` +
        `"capabilities":{},"price_info":{},"capabilities_prices":[{}],"hardware":[{}]}`,
    );
  });

  it("omits every zero field inside the protobuf messages", () => {
    const entry = encodeOne({
      capabilities: {
        bitstring: [],
        mandatories: [],
        capacities: {},
        version: "",
        constraints: {
          minVersion: "",
          PerCapability: {
            5: { models: {} },
            6: { models: { m: { warm: false, capacity: 0, runnerVersion: "", capacityInUse: 0 } } },
          },
        },
      },
      priceInfo: { pricePerUnit: 0n, pixelsPerUnit: 0n, capability: 0, constraint: "" },
      hardware: [
        { pipeline: "", modelId: "", gpuInfo: {} },
        { gpuInfo: { g: { id: "", name: "", major: 0, minor: 0, memoryFree: 0n, memoryTotal: 0n } } },
      ],
    });
    expect(entry).toContain(`"capabilities":{"constraints":{"PerCapability":{"5":{},"6":{"models":{"m":{}}}}}}`);
    expect(entry).toContain(`"price_info":{}`);
    expect(entry).toContain(`"hardware":[{},{"gpu_info":{"g":{}}}]`);
  });

  it("writes every field, in Go's declaration order, when set", () => {
    const entry = encodeOne({
      capabilities: {
        bitstring: [1n],
        mandatories: [2n],
        capacities: { 3: 4 },
        version: "v",
        constraints: {
          minVersion: "m",
          PerCapability: { 7: { models: { x: { warm: true, capacity: 1, runnerVersion: "r", capacityInUse: 2 } } } },
        },
      },
      priceInfo: { pricePerUnit: 5n, pixelsPerUnit: 6n, capability: 7, constraint: "c" },
      hardware: [
        {
          pipeline: "p",
          modelId: "id",
          gpuInfo: { "0": { id: "i", name: "n", major: 1, minor: 2, memoryFree: 3n, memoryTotal: 4n } },
        },
      ],
    });
    expect(entry).toContain(
      `"capabilities":{"bitstring":[1],"mandatories":[2],"capacities":{"3":4},"version":"v",` +
        `"constraints":{"minVersion":"m","PerCapability":{"7":{"models":{"x":` +
        `{"warm":true,"capacity":1,"runnerVersion":"r","capacityInUse":2}}}}}}`,
    );
    expect(entry).toContain(`"price_info":{"pricePerUnit":5,"pixelsPerUnit":6,"capability":7,"constraint":"c"}`);
    expect(entry).toContain(
      `"hardware":[{"pipeline":"p","model_id":"id","gpu_info":` +
        `{"0":{"id":"i","name":"n","major":1,"minor":2,"memory_free":3,"memory_total":4}}}]`,
    );
  });
});

describe("encodeNetworkCapabilities: numbers", () => {
  const above2to53 = (1n << 63n) + 5n;

  it("writes a bitstring word above 2^53 exactly", () => {
    const entry = encodeOne({ capabilities: { bitstring: [above2to53, (1n << 64n) - 1n, 0n] } });
    expect(entry).toContain(`"bitstring":[9223372036854775813,18446744073709551615,0]`);
    const parsed = parseGoJson(entry) as { capabilities: { bitstring: bigint[] } };
    expect(parsed.capabilities.bitstring).toEqual([above2to53, (1n << 64n) - 1n, 0n]);
  });

  it("writes int64 prices and memory sizes exactly, negative ones too", () => {
    const int64Max = (1n << 63n) - 1n;
    const entry = encodeOne({
      priceInfo: { pricePerUnit: int64Max, pixelsPerUnit: -(1n << 63n) },
      hardware: [{ gpuInfo: { "0": { memoryTotal: (1n << 53n) + 1n } } }],
    });
    expect(entry).toContain(`"price_info":{"pricePerUnit":9223372036854775807,"pixelsPerUnit":-9223372036854775808}`);
    expect(entry).toContain(`"memory_total":9007199254740993`);
  });

  it("refuses a JS number that is not an exact integer", () => {
    expect(goInteger(4294967295)).toBe("4294967295");
    expect(() => goInteger(2 ** 53)).toThrow(RangeError);
    expect(() => goInteger(1.5)).toThrow(RangeError);
  });
});

describe("encodeNetworkCapabilities: map key order", () => {
  it("sorts integer keys as strings", () => {
    const entry = encodeOne({ capabilities: { capacities: { 2: 1, 10: 2, 1: 3, 100: 4, 20: 5, 0: 6 } } });
    expect(entry).toContain(`"capacities":{"0":6,"1":3,"10":2,"100":4,"2":1,"20":5}`);
  });

  it("sorts PerCapability keys as strings", () => {
    const entry = encodeOne({ capabilities: { constraints: { PerCapability: { 9: {}, 37: {}, 100: {} } } } });
    expect(entry).toContain(`"PerCapability":{"100":{},"37":{},"9":{}}`);
  });

  it("sorts string keys by UTF-8 bytes, not UTF-16 code units", () => {
    const entry = encodeOne({
      capabilities: {
        constraints: {
          PerCapability: { 1: { models: { "\u{1F600}": {}, "\uE000": {}, é: {}, z: {}, Z: {}, "a/b": {}, a: {} } } },
        },
      },
    });
    expect(entry).toContain(`"models":{"Z":{},"a":{},"a/b":{},"z":{},"é":{},"\uE000":{},"\u{1F600}":{}}`);
    expect(compareGoStrings("\u{1F600}", "\uE000")).toBeGreaterThan(0);
  });
});

describe("goString: Go's escaping", () => {
  it("escapes the HTML-sensitive characters and the JavaScript line terminators", () => {
    expect(goString("<a href='x'>&</a>")).toBe(`"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e"`);
    expect(goString("\u2028\u2029")).toBe(`"\\u2028\\u2029"`);
  });

  it("uses short escapes where Go has them and \\u00XX for other controls", () => {
    expect(goString('"\\\b\f\n\r\t')).toBe(`"\\"\\\\\\b\\f\\n\\r\\t"`);
    expect(goString("\u0000\u0001\u000b\u001b\u001f")).toBe(`"\\u0000\\u0001\\u000b\\u001b\\u001f"`);
  });

  it("leaves /, DEL and other non-ASCII characters as they are", () => {
    expect(goString("a/b\u007f é \u00a0 \uFFFD \u{1F600}")).toBe(`"a/b\u007f é \u00a0 \uFFFD \u{1F600}"`);
  });

  it("writes lone surrogates as \\ufffd and keeps valid pairs", () => {
    expect(goString("\uD800x\uDC00\uD83D\uDE00\uDBFF")).toBe(`"\\ufffdx\\ufffd\u{1F600}\\ufffd"`);
  });

  it("escapes strings everywhere in the body: keys, names, URIs", () => {
    const entry = encodeOne({
      transcoder: "https://o:8935/?a=1&b=<2>",
      capabilities: { constraints: { PerCapability: { 27: { models: { "<m>&\n": { runnerVersion: "\u2028" } } } } } },
    });
    expect(entry).toContain(`"orch_uri":"https://o:8935/?a=1\\u0026b=\\u003c2\\u003e"`);
    expect(entry).toContain(`"models":{"\\u003cm\\u003e\\u0026\\n":{"runnerVersion":"\\u2028"}}`);
  });
});

describe("goAddressHex: go-ethereum's BytesToAddress(b).Hex()", () => {
  it("checksums a 20-byte address", () => {
    expect(goAddressHex(getBytes(O_A_ADDRESS.toLowerCase()))).toBe(O_A_ADDRESS);
  });

  it("keeps the last 20 bytes of a longer value and left-pads a shorter one", () => {
    const longer = new Uint8Array([0xff, 0xee, ...getBytes(O_B_ADDRESS)]);
    expect(goAddressHex(longer)).toBe(O_B_ADDRESS);
    expect(goAddressHex(new Uint8Array([0x12, 0x34]))).toBe("0x0000000000000000000000000000000000001234");
    expect(goAddressHex(new Uint8Array())).toBe(ZERO_ADDRESS);
  });
});

describe("parseGoJson", () => {
  it("keeps integers beyond 2^53 exact and decodes Go's escapes", () => {
    expect(parseGoJson(`{"a":[18446744073709551615,-9223372036854775808,0],"s":"\\u003c\\u2028\\ufffd"}`)).toEqual({
      a: [18446744073709551615n, -9223372036854775808n, 0n],
      s: "<\u2028\uFFFD",
    });
  });

  it("reads back the example with every number exact", () => {
    const parsed = parseGoJson(
      encodeNetworkCapabilities([orchestrator(exampleOrchestratorA), orchestrator(exampleOrchestratorB)]),
    ) as { orchestrators: { capabilities: { bitstring: bigint[] }; hardware: unknown }[] };
    expect(parsed.orchestrators.map((o) => o.capabilities.bitstring)).toEqual([[34426871807n], [266854399n]]);
    expect(parsed.orchestrators[1]?.hardware).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { getAddress, getBytes, Wallet, ZeroAddress } from "ethers";
import { offchainIdentity, walletIdentity } from "../src/eth/identity.js";
import { verifyLivepeerSignature } from "../src/eth/signature.js";
import { decodeStdBase64, encodeStdBase64 } from "../src/orchestrator/byoc-base64.js";
import {
  ByocRequestError,
  type ClientJobRequest,
  encodeOrchestratorJobHeader,
  jobSignedMessage,
  jobSignerOf,
  MAX_TIMEOUT_SECONDS,
  orchestratorJobHeader,
  orchestratorJobHeaderJson,
  type OrchestratorJob,
  parseClientJobRequest,
  signJobRequest,
} from "../src/orchestrator/byoc-job-request.js";
import { ByocTokenError, ethAddressHeader, parseJobToken } from "../src/orchestrator/byoc-token.js";

// Hardhat account #0: a public test key, never a real one.
const KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
// Pinned in eth-identity.test.ts too: Sign(utf8(ADDRESS_0)) with KEY_0.
const ORCH_REQ_SIG_0 =
  "0x47d66008c2c5b0671b8e7b43b62245ae9c4ba5f6ff7e94328b68eb45090cb1080815dec67a20bdec15ce794c9ce271fa8e6552d6b0976ab7a0b92d5516b32ef31c";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const header = (job: Record<string, unknown>): string => b64(JSON.stringify(job));
const VALID = { request: "{}", parameters: "{}", capability: "text-reversal", timeout_seconds: 30 };

function requestError(value: string | undefined): ByocRequestError {
  try {
    parseClientJobRequest(value);
  } catch (err) {
    if (err instanceof ByocRequestError) return err;
    throw new Error(`expected a ByocRequestError, got ${String(err)}`);
  }
  throw new Error("expected the header to be refused");
}

function tokenError(body: string): ByocTokenError {
  try {
    parseJobToken(body, "https://o1.example:8935");
  } catch (err) {
    if (err instanceof ByocTokenError) return err;
    throw new Error(`expected a ByocTokenError, got ${String(err)}`);
  }
  throw new Error("expected the token to be refused");
}

describe("base64 as Go's StdEncoding", () => {
  it("round-trips and requires the standard alphabet with padding", () => {
    for (const text of ["", "a", "ab", "abc", "abcd", "\u00ff\u00fe<>?"]) {
      expect(decodeStdBase64(encodeStdBase64(text))?.toString("utf8")).toBe(text);
    }
    expect(decodeStdBase64("YQ==")?.toString()).toBe("a");
    expect(decodeStdBase64("YQ")).toBeUndefined(); // unpadded
    expect(decodeStdBase64("YQ=")).toBeUndefined();
    expect(decodeStdBase64("w7_Dv8O_")).toBeUndefined(); // URL-safe
    expect(decodeStdBase64("w7/Dv8O/")?.toString("utf8")).toBe("\u00ff\u00ff\u00ff");
    expect(decodeStdBase64("YW Jj")).toBeUndefined();
    expect(decodeStdBase64("YWJj\r\nZGVm")?.toString()).toBe("abcdef"); // Go skips CR and LF
  });
});

describe("parseClientJobRequest", () => {
  it("decodes a minimal request", () => {
    const job = parseClientJobRequest(header(VALID));
    expect(job).toEqual<ClientJobRequest>({
      id: "",
      request: "{}",
      parameters: "{}",
      capability: "text-reversal",
      timeoutSeconds: 30,
      streamId: undefined,
      orchestrators: { include: [], exclude: [] },
      enableVideoIngress: false,
      enableVideoEgress: false,
      enableDataOutput: false,
    });
  });

  it("keeps request and parameters as the exact decoded strings and reads their fields", () => {
    const request = '{ "stream_id" : "s-1", "prompt": "<b>&\u2028😀" }';
    const parameters = JSON.stringify({
      orchestrators: { include: ["https://o1:8935", "https://o2:8935"], exclude: ["https://o3:8935"] },
      enable_video_ingress: true,
      enable_data_output: true,
      extra: { nested: [1, 2, 3] },
    });
    const job = parseClientJobRequest(
      header({ id: "job-7", request, parameters, capability: "cap", timeout_seconds: 600, sender: 5, sig: [], capability_url: {} }),
    );
    expect(job.request).toBe(request);
    expect(job.parameters).toBe(parameters);
    expect(job.id).toBe("job-7");
    expect(job.streamId).toBe("s-1");
    expect(job.timeoutSeconds).toBe(600);
    expect(job.orchestrators).toEqual({ include: ["https://o1:8935", "https://o2:8935"], exclude: ["https://o3:8935"] });
    expect([job.enableVideoIngress, job.enableVideoEgress, job.enableDataOutput]).toEqual([true, false, true]);
  });

  it("accepts null for optional values, as Go's decoder does", () => {
    const job = parseClientJobRequest(
      header({ ...VALID, id: null, parameters: '{"orchestrators":{"include":null,"exclude":null},"enable_video_egress":null}' }),
    );
    expect(job.id).toBe("");
    expect(job.orchestrators).toEqual({ include: [], exclude: [] });
    expect(parseClientJobRequest(header({ ...VALID, parameters: '{"orchestrators":null}' })).orchestrators.include).toEqual([]);
  });

  it("accepts the largest timeout", () => {
    expect(parseClientJobRequest(header({ ...VALID, timeout_seconds: MAX_TIMEOUT_SECONDS })).timeoutSeconds).toBe(86_400);
  });

  it("refuses a missing or malformed header, naming the problem", () => {
    for (const value of [undefined, ""]) {
      const err = requestError(value);
      expect(err.field).toBe("header");
      expect(err.message).toBe(
        'Livepeer header: missing; send base64(JSON) of {"request":"{}","parameters":"{}","capability":"<name>","timeout_seconds":<n>}',
      );
    }
    const base64Message =
      "Livepeer header: not standard base64 with padding (alphabet A-Z a-z 0-9 + /, length a multiple of 4 with = padding; URL-safe or unpadded base64 is not accepted)";
    // A header whose base64 holds "+" or "/", sent in the URL-safe alphabet.
    const standard = [0, 1, 2, 3, 4, 5]
      .map((pad) => header({ ...VALID, id: `${"x".repeat(pad)}\u00ff\u00ff\u00ff\u00ff\u00fb` }))
      .find((value) => /[+/]/.test(value));
    expect(standard).toBeDefined();
    expect(parseClientJobRequest(standard).capability).toBe("text-reversal");
    const urlSafe = (standard as string).replace(/\+/g, "-").replace(/\//g, "_");
    expect(requestError(urlSafe)).toMatchObject({ field: "base64", message: base64Message });
    // Unpadded.
    const padded = [0, 1, 2].map((pad) => header({ ...VALID, id: "y".repeat(pad) })).find((value) => value.endsWith("="));
    expect(requestError((padded as string).replace(/=+$/, ""))).toMatchObject({ field: "base64", message: base64Message });
    expect(requestError("not base64!")).toMatchObject({ field: "base64" });
    expect(requestError("A".repeat(1024 * 1024 + 4))).toMatchObject({
      field: "header",
      message: "Livepeer header: too long: 1048580 characters, at most 1048576",
    });
  });

  it("refuses a header that is not a JSON object", () => {
    expect(requestError(b64("{not json"))).toMatchObject({ field: "json" });
    expect(requestError(b64("{not json")).message).toMatch(/^Livepeer header: the decoded header is not valid JSON: .+ at line 1 column 2$/);
    expect(requestError(b64("[1,2]")).message).toBe(
      "Livepeer header: the decoded header must be a JSON object (a JobRequest), got an array",
    );
    expect(requestError(b64('{"capability":"a","capability":"b"}')).message).toMatch(/duplicate key "capability"/);
    expect(requestError(b64(`\ufeff${JSON.stringify(VALID)}`)).field).toBe("json");
  });

  it("validates capability", () => {
    const { capability: _omitted, ...withoutCapability } = VALID;
    expect(requestError(header(withoutCapability))).toMatchObject({
      field: "capability",
      message: "Livepeer header: capability is required: the name the worker registered with the orchestrator",
    });
    expect(requestError(header({ ...VALID, capability: "" })).field).toBe("capability");
    expect(requestError(header({ ...VALID, capability: 37 })).message).toBe(
      "Livepeer header: capability must be a string, got number 37",
    );
    expect(requestError(header({ ...VALID, capability: "x".repeat(257) })).message).toBe(
      "Livepeer header: capability is 257 characters long, at most 256",
    );
    for (const capability of ["naïve", "a\nb", " padded", "padded "]) {
      expect(requestError(header({ ...VALID, capability })).message).toBe(
        `Livepeer header: capability must be printable ASCII without leading or trailing spaces (it is sent in the Livepeer-Capability header), got ${JSON.stringify(capability)}`,
      );
    }
    expect(parseClientJobRequest(header({ ...VALID, capability: "a b" })).capability).toBe("a b");
  });

  it("validates timeout_seconds", () => {
    const { timeout_seconds: _omitted, ...withoutTimeout } = VALID;
    expect(requestError(header(withoutTimeout))).toMatchObject({
      field: "timeout_seconds",
      message: "Livepeer header: timeout_seconds is required: a positive integer number of seconds",
    });
    const cases: [string, string][] = [
      ["0", "timeout_seconds must be a positive integer, got 0"],
      ["-5", "timeout_seconds must be a positive integer, got -5"],
      ["30.5", "timeout_seconds must be a positive integer, got number 30.5"],
      ["30.0", "timeout_seconds must be a positive integer, got number 30.0"],
      ["3e1", "timeout_seconds must be a positive integer, got number 3e1"],
      ['"30"', 'timeout_seconds must be a positive integer, got string "30"'],
      ["true", "timeout_seconds must be a positive integer, got true"],
      ["86401", "timeout_seconds must be at most 86400 (24 h), got 86401"],
      ["99999999999999999999999", "timeout_seconds must be at most 86400 (24 h), got 99999999999999999999999"],
    ];
    for (const [value, message] of cases) {
      const text = `{"request":"{}","parameters":"{}","capability":"c","timeout_seconds":${value}}`;
      expect(requestError(b64(text))).toMatchObject({ field: "timeout_seconds", message: `Livepeer header: ${message}` });
    }
  });

  it("validates request and parameters as strings holding JSON objects", () => {
    for (const key of ["request", "parameters"] as const) {
      const { [key]: _omitted, ...without } = VALID;
      const required = `Livepeer header: ${key} is required: a string holding a JSON object ("{}" will do)`;
      expect(requestError(header(without))).toMatchObject({ field: key, message: required });
      expect(requestError(header({ ...VALID, [key]: "" })).message).toBe(required);
      expect(requestError(header({ ...VALID, [key]: { a: 1 } })).message).toBe(
        `Livepeer header: ${key} must be a string holding JSON (e.g. "{}"), got an object; encode the object as a JSON string`,
      );
      const invalid = requestError(header({ ...VALID, [key]: "{oops" }));
      expect(invalid.field).toBe(key);
      expect(invalid.message).toMatch(new RegExp(`^Livepeer header: ${key} is not valid JSON: .+`));
      expect(requestError(header({ ...VALID, [key]: "[1]" })).message).toBe(`Livepeer header: ${key} must hold a JSON object, got an array`);
      expect(requestError(header({ ...VALID, [key]: '"text"' })).message).toBe(
        `Livepeer header: ${key} must hold a JSON object, got string "text"`,
      );
      expect(requestError(header({ ...VALID, [key]: "null" })).message).toBe(`Livepeer header: ${key} must hold a JSON object, got null`);
    }
  });

  it("validates the fields of request and parameters it uses", () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ id: 7 }, "id", "id must be a string, got number 7"],
      [{ request: '{"stream_id":5}' }, "request.stream_id", "request.stream_id must be a string, got number 5"],
      [
        { parameters: '{"orchestrators":["https://o1"]}' },
        "parameters.orchestrators",
        'parameters.orchestrators must be an object like {"include":[…],"exclude":[…]}, got an array',
      ],
      [
        { parameters: '{"orchestrators":{"include":"https://o1"}}' },
        "parameters.orchestrators.include",
        'parameters.orchestrators.include must be an array of URL strings, got string "https://o1"',
      ],
      [
        { parameters: '{"orchestrators":{"exclude":["https://o1", 2]}}' },
        "parameters.orchestrators.exclude",
        "parameters.orchestrators.exclude[1] must be a URL string, got number 2",
      ],
      [
        { parameters: '{"enable_video_ingress":"yes"}' },
        "parameters.enable_video_ingress",
        'parameters.enable_video_ingress must be true or false, got string "yes"',
      ],
    ];
    for (const [change, field, message] of cases) {
      expect(requestError(header({ ...VALID, ...change }))).toMatchObject({ field, message: `Livepeer header: ${message}` });
    }
  });

  it("never lets a raw JSON or base64 error escape", () => {
    const inputs = ["", "====", "e30=", b64("null"), b64("1"), b64('{"request":1}'), b64("\u0000"), "%%%%", b64('{"a":"\\x"}')];
    for (const input of inputs) expect(() => parseClientJobRequest(input)).toThrow(ByocRequestError);
  });
});

describe("the orchestrator-bound Livepeer header", () => {
  const job: OrchestratorJob = {
    id: "job<1>&",
    request: '{"stream_id":"s<1>","x":"a&b"}',
    parameters: '{"orchestrators":{"include":["https://o1:8935"]}}',
    capability: "text-reversal",
    timeoutSeconds: 30,
  };

  it("is Go's json.Marshal(JobRequest): field order, HTML escaping, no omitempty, durations in ns", async () => {
    const credentials = await signJobRequest(job, jobSignerOf(offchainIdentity()));
    expect(credentials).toEqual({ sender: ZeroAddress, sig: "" });
    const expected = String.raw`{"id":"job\u003c1\u003e\u0026","request":"{\"stream_id\":\"s\u003c1\u003e\",\"x\":\"a\u0026b\"}","parameters":"{\"orchestrators\":{\"include\":[\"https://o1:8935\"]}}","capability":"text-reversal","capability_url":"","sender":"0x0000000000000000000000000000000000000000","sig":"","timeout_seconds":30,"OrchSearchTimeout":1000000000,"OrchSearchRespTimeout":500000000}`;
    expect(orchestratorJobHeaderJson(job, credentials)).toBe(expected);
    expect(orchestratorJobHeader(job, credentials)).toBe(Buffer.from(expected, "utf8").toString("base64"));
    expect(await encodeOrchestratorJobHeader(job, { address: ZeroAddress })).toBe(Buffer.from(expected).toString("base64"));
  });

  it("escapes as Go does: controls, U+2028/U+2029, lone surrogates; keeps / and non-ASCII literal", () => {
    const credentials = { sender: ZeroAddress, sig: "0x" };
    const odd: OrchestratorJob = {
      request: '{"t":"a/b\u2028\u2029\u0001\u007f😀é\ud800"}',
      parameters: "{}",
      capability: "c",
      timeoutSeconds: 1,
    };
    const json = orchestratorJobHeaderJson(odd, credentials, { orchSearchTimeoutNs: 2n, orchSearchRespTimeoutNs: 3n });
    expect(json).toBe(
      `{"id":"","request":"{\\"t\\":\\"a/b\\u2028\\u2029\\u0001\u007f😀é\\ufffd\\"}","parameters":"{}","capability":"c","capability_url":"","sender":"${ZeroAddress}","sig":"0x","timeout_seconds":1,"OrchSearchTimeout":2,"OrchSearchRespTimeout":3}`,
    );
  });

  it("is signed by the gateway over utf8(request + parameters), verifiably", async () => {
    const identity = await walletIdentity(new Wallet(KEY_0));
    const signer = jobSignerOf(identity);
    const credentials = await signJobRequest(job, signer);
    expect(credentials.sender).toBe(ADDRESS_0);
    expect(credentials.sig).toMatch(/^0x[0-9a-f]{130}$/);
    verifyLivepeerSignature(ADDRESS_0, Buffer.from(job.request + job.parameters, "utf8"), getBytes(credentials.sig));
    expect(Buffer.from(jobSignedMessage(job)).toString("utf8")).toBe(job.request + job.parameters);

    // What the orchestrator decodes: the same strings, our sender and sig.
    const value = await encodeOrchestratorJobHeader(job, signer);
    const decoded = JSON.parse(Buffer.from(value, "base64").toString("utf8")) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual([
      "id",
      "request",
      "parameters",
      "capability",
      "capability_url",
      "sender",
      "sig",
      "timeout_seconds",
      "OrchSearchTimeout",
      "OrchSearchRespTimeout",
    ]);
    expect(decoded).toMatchObject({ request: job.request, parameters: job.parameters, sender: ADDRESS_0, sig: credentials.sig });
    verifyLivepeerSignature(
      decoded["sender"] as string,
      Buffer.from(`${decoded["request"] as string}${decoded["parameters"] as string}`, "utf8"),
      getBytes(decoded["sig"] as string),
    );
    // Signing is deterministic (RFC 6979), and the header does not depend on the orchestrator: one per job.
    expect(orchestratorJobHeader(job, credentials)).toBe(value);
  });

  it("round-trips a client header through the gateway unchanged, whatever the characters", async () => {
    const identity = await walletIdentity(new Wallet(KEY_0));
    const request = JSON.stringify({ prompt: "<script>&amp; \u2028 😀 \u0007 \\ \"q\"", n: 1 });
    const client = parseClientJobRequest(header({ id: "i", request, parameters: '{"k":"<>"}', capability: "cap", timeout_seconds: 9 }));
    const forwarded = await encodeOrchestratorJobHeader(client, jobSignerOf(identity));
    const again = parseClientJobRequest(forwarded);
    expect(again).toEqual(client);
    const decoded = JSON.parse(Buffer.from(forwarded, "base64").toString("utf8")) as { sig: string };
    verifyLivepeerSignature(ADDRESS_0, jobSignedMessage(again), getBytes(decoded.sig));
  });

  it("refuses an unsigned job from a non-zero address", async () => {
    await expect(signJobRequest(job, { address: ADDRESS_0 })).rejects.toThrow(
      `an unsigned BYOC job must come from the zero address, not ${ADDRESS_0}; pass a signer`,
    );
  });
});

describe("ethAddressHeader", () => {
  it("carries the EIP-55 address and the OrchestratorRequest signature", async () => {
    const identity = await walletIdentity(new Wallet(KEY_0));
    const value = ethAddressHeader(identity);
    expect(Buffer.from(value, "base64").toString("utf8")).toBe(`{"addr":"${ADDRESS_0}","sig":"${ORCH_REQ_SIG_0}"}`);
    expect(ethAddressHeader(identity)).toBe(value);
    // What an orchestrator checks: Sign over the exact addr string sent.
    verifyLivepeerSignature(ADDRESS_0, Buffer.from(ADDRESS_0, "utf8"), getBytes(ORCH_REQ_SIG_0));
  });

  it('off-chain is the zero address with an empty sig (go-livepeer\'s "0x" fails its own orchestrators\' hex decoding)', () => {
    expect(Buffer.from(ethAddressHeader(offchainIdentity()), "base64").toString("utf8")).toBe(
      '{"addr":"0x0000000000000000000000000000000000000000","sig":""}',
    );
  });
});

describe("parseJobToken", () => {
  const hex = (text: string): string => Buffer.from(text, "hex").toString("base64");
  const RECIPIENT = "70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const RAND_HASH = "5c3e7a0f4f6d9b2e1a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a";
  const SEED = "00ff112233445566778899aabbccddeeff00112233445566778899aabbccddee";
  const BLOCK_HASH = "a1".repeat(32);
  const WIN_PROB = "10c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9";
  const onChainToken = (overrides: Record<string, unknown> = {}): string =>
    `${JSON.stringify({
      sender_address: { addr: ADDRESS_0, sig: ORCH_REQ_SIG_0 },
      ticket_params: {
        recipient: hex(RECIPIENT),
        face_value: hex("0de0b6b3a7640000"),
        win_prob: hex(WIN_PROB),
        recipient_rand_hash: hex(RAND_HASH),
        seed: hex(SEED),
        expiration_block: hex("01312d00"),
        expiration_params: { creation_round: 3456, creation_round_block_hash: hex(BLOCK_HASH) },
      },
      balance: 12345,
      price: { pricePerUnit: 10, pixelsPerUnit: 4 },
      service_addr: "https://o1.example:8935",
      available_capacity: 2,
      LastNonce: 0,
      ...overrides,
    })}\n`;

  it("reads an on-chain token as go-livepeer writes it", () => {
    const token = parseJobToken(onChainToken(), "https://o1.example:8935");
    expect(token.senderAddress).toEqual({ addr: ADDRESS_0, sig: ORCH_REQ_SIG_0 });
    expect(token.balance).toBe(12345n);
    expect(token.price).toEqual({ num: 5n, den: 2n });
    expect(token.priceInfo).toMatchObject({ pricePerUnit: 10n, pixelsPerUnit: 4n, capability: 0, constraint: "" });
    expect(token.serviceAddr).toBe("https://o1.example:8935");
    expect(token.availableCapacity).toBe(2);
    const params = token.ticketParams;
    expect(params).toBeDefined();
    expect(params?.recipient).toBe(getAddress(`0x${RECIPIENT}`));
    expect(params?.faceValue).toBe(10n ** 18n);
    expect(params?.winProb).toBe(BigInt(`0x${WIN_PROB}`));
    expect(params?.seed).toBe(BigInt(`0x${SEED}`));
    expect(params?.expirationBlock).toBe(20_000_000n);
    expect(params?.creationRound).toBe(3456n);
    // The protobuf message keeps the bytes exactly, for net.Payment.
    expect(Buffer.from(params?.message.recipientRandHash ?? []).toString("hex")).toBe(RAND_HASH);
    expect(Buffer.from(params?.message.faceValue ?? []).toString("hex")).toBe("0de0b6b3a7640000");
    expect(Buffer.from(params?.message.seed ?? []).toString("hex")).toBe(SEED);
    expect(params?.message.expirationParams?.creationRound).toBe(3456n);
    expect(Buffer.from(params?.message.expirationParams?.creationRoundBlockHash ?? []).toString("hex")).toBe(BLOCK_HASH);
  });

  it("applies omitempty defaults: an off-chain orchestrator's token", () => {
    const token = parseJobToken('{"price":{"pixelsPerUnit":1},"service_addr":"https://127.0.0.1:8935","LastNonce":0}\n', "o");
    expect(token.ticketParams).toBeUndefined();
    expect(token.balance).toBe(0n);
    expect(token.price).toEqual({ num: 0n, den: 1n });
    expect(token.priceInfo).toMatchObject({ pricePerUnit: 0n, pixelsPerUnit: 1n });
    expect(token.availableCapacity).toBe(0);
    expect(token.senderAddress).toBeUndefined();
    const bare = parseJobToken('{"price":{},"service_addr":"http://o:1","ticket_params":null}', "o");
    expect(bare.price).toEqual({ num: 0n, den: 1n });
    expect(bare.ticketParams).toBeUndefined();
    expect(parseJobToken('{"service_addr":"http://o:1"}', "o").priceInfo).toBeUndefined();
  });

  it("keeps int64 balances exact beyond 2^53", () => {
    expect(parseJobToken(onChainToken({ balance: 0 }).replace('"balance":0', '"balance":9223372036854775807'), "o").balance).toBe(
      9223372036854775807n,
    );
    expect(parseJobToken(onChainToken().replace('"balance":12345', '"balance":9007199254740993'), "o").balance).toBe(
      9007199254740993n,
    );
    expect(parseJobToken(onChainToken().replace('"balance":12345', '"balance":-42'), "o").balance).toBe(-42n);
  });

  it("accepts missing zero-valued ticket fields and creation_round as a decimal string", () => {
    const token = parseJobToken(
      JSON.stringify({
        ticket_params: {
          recipient: hex(RECIPIENT),
          recipient_rand_hash: hex(RAND_HASH),
          expiration_params: { creation_round: "9007199254740993" },
        },
        service_addr: "https://o:1",
      }),
      "o",
    );
    expect(token.ticketParams).toMatchObject({ faceValue: 0n, winProb: 0n, seed: 0n, expirationBlock: 0n, creationRound: 9007199254740993n });
  });

  it("refuses bad fields, naming the orchestrator and the field", () => {
    const ticket = (change: Record<string, unknown>): string =>
      onChainToken({
        ticket_params: {
          recipient: hex(RECIPIENT),
          recipient_rand_hash: hex(RAND_HASH),
          ...change,
        },
      });
    const cases: [string, string, string][] = [
      ["<html>", "json", "not valid JSON: unexpected \"<\" at line 1 column 1"],
      ["[]", "json", "must be a JSON object, got an array"],
      [ticket({ recipient: hex("0102") }), "ticket_params.recipient", "ticket_params.recipient must be 20 bytes, got 2"],
      [ticket({ recipient: null }), "ticket_params.recipient", "ticket_params.recipient must be 20 bytes, got 0"],
      [
        ticket({ recipient_rand_hash: hex("00") }),
        "ticket_params.recipient_rand_hash",
        "ticket_params.recipient_rand_hash must be 32 bytes, got 1",
      ],
      [ticket({ face_value: hex("01".repeat(33)) }), "ticket_params.face_value", "ticket_params.face_value must be at most 32 bytes (a uint256), got 33"],
      [ticket({ face_value: "_-8=" }), "ticket_params.face_value", "ticket_params.face_value is not standard base64 with padding"],
      [ticket({ seed: "AQ" }), "ticket_params.seed", "ticket_params.seed is not standard base64 with padding"],
      [ticket({ win_prob: 5 }), "ticket_params.win_prob", "ticket_params.win_prob must be a base64 string, got number 5"],
      [
        ticket({ expiration_params: { creation_round_block_hash: hex("00".repeat(31)) } }),
        "ticket_params.expiration_params.creation_round_block_hash",
        "ticket_params.expiration_params.creation_round_block_hash must be 32 bytes, got 31",
      ],
      [
        ticket({ expiration_params: { creation_round: 1.5 } }),
        "ticket_params.expiration_params.creation_round",
        "ticket_params.expiration_params.creation_round must be an integer, got number 1.5",
      ],
      [ticket({ expiration_params: [] }), "ticket_params.expiration_params", "ticket_params.expiration_params must be an object, got an array"],
      [onChainToken({ ticket_params: "x" }), "ticket_params", 'ticket_params must be an object, got string "x"'],
      [onChainToken({ balance: 1.5 }), "balance", "balance must be an integer, got number 1.5"],
      [onChainToken({ balance: "5" }), "balance", 'balance must be an integer, got string "5"'],
      [
        onChainToken().replace('"balance":12345', '"balance":9223372036854775808'),
        "balance",
        "balance is out of range [-9223372036854775808, 9223372036854775807]: 9223372036854775808",
      ],
      [onChainToken({ price: { pricePerUnit: -1, pixelsPerUnit: 1 } }), "price.pricePerUnit", "price.pricePerUnit must not be negative, got -1"],
      [onChainToken({ price: { pricePerUnit: 5 } }), "price.pixelsPerUnit", "price.pixelsPerUnit must be positive, got 0"],
      [onChainToken({ price: { pixelsPerUnit: -1 } }), "price.pixelsPerUnit", "price.pixelsPerUnit must not be negative, got -1"],
      [onChainToken({ price: { pricePerUnit: "10" } }), "price.pricePerUnit", 'price.pricePerUnit must be an integer, got string "10"'],
      [onChainToken({ price: 10 }), "price", "price must be an object, got number 10"],
      [onChainToken({ service_addr: undefined }), "service_addr", "service_addr is missing: the token does not say where to send jobs"],
      [onChainToken({ service_addr: "" }), "service_addr", "service_addr is missing: the token does not say where to send jobs"],
      [onChainToken({ service_addr: "o1.example:8935" }), "service_addr", 'service_addr must be an http(s) URL, got "o1.example:8935"'],
      [onChainToken({ service_addr: "not a url" }), "service_addr", 'service_addr is not a URL: "not a url"'],
      [onChainToken({ service_addr: "ftp://o1:21" }), "service_addr", 'service_addr must be an http(s) URL, got "ftp://o1:21"'],
      [onChainToken({ service_addr: "https://u:p@o1:1" }), "service_addr", "service_addr must not carry credentials"],
      [onChainToken({ service_addr: 8935 }), "service_addr", "service_addr must be a string, got number 8935"],
      [onChainToken({ available_capacity: -1 }), "available_capacity", "available_capacity must not be negative, got -1"],
      [onChainToken({ sender_address: { addr: 1 } }), "sender_address.addr", "sender_address.addr must be a string, got number 1"],
    ];
    for (const [body, field, message] of cases) {
      const err = tokenError(body);
      expect({ field: err.field, message: err.message, orchestrator: err.orchestrator }).toEqual({
        field,
        message: `job token from https://o1.example:8935: ${message}`,
        orchestrator: "https://o1.example:8935",
      });
    }
  });
});

// go-livepeer's discovery webhook, served by a real HTTP server on loopback.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookSource, redactUrl } from "../src/discovery/sources.js";
import { silentLogger } from "../src/log.js";

let server: http.Server;
let url: string;
let answer: { status: number; body: string } = { status: 200, body: "[]" };
let requests = 0;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    requests += 1;
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orchestrators?token=secret`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("WebhookSource", () => {
  it("reads go-livepeer's format, skips bad entries, refetches at most once a minute and keeps the last good list", async () => {
    let clock = 0;
    const source = new WebhookSource(url, { logger: silentLogger(), now: () => clock });
    answer = {
      status: 200,
      body: JSON.stringify([
        { address: "https://orch-a.example.com:8935", score: 1 },
        { address: "https://10.4.4.3:8935" },
        { address: "" },
        { address: 42 },
        { address: "ftp://bad:1" },
        { address: "https://orch-c.example.com:8935", score: 0.5, capabilities: ["x"], runners: [] },
      ]),
    };
    const before = requests;
    expect(await source.uris()).toEqual(["https://orch-a.example.com:8935", "https://10.4.4.3:8935", "https://orch-c.example.com:8935"]);
    clock += 30_000;
    answer = { status: 200, body: JSON.stringify([{ address: "https://new.example.com:8935" }]) };
    expect(await source.uris()).toHaveLength(3);
    expect(requests - before).toBe(1);
    clock += 31_000;
    expect(await source.uris()).toEqual(["https://new.example.com:8935"]);
    // Failures keep the last good list and are retried only after the interval, not on every call.
    answer = { status: 500, body: "oops" };
    clock += 60_000;
    expect(await source.uris()).toEqual(["https://new.example.com:8935"]);
    expect(await source.uris()).toEqual(["https://new.example.com:8935"]);
    answer = { status: 200, body: "{not json" };
    clock += 60_000;
    expect(await source.uris()).toEqual(["https://new.example.com:8935"]);
    answer = { status: 200, body: JSON.stringify({ address: "x" }) };
    clock += 60_000;
    expect(await source.uris()).toEqual(["https://new.example.com:8935"]);
    expect(requests - before).toBe(5);
  });

  it("keeps tokens out of its description", () => {
    expect(new WebhookSource(url, { logger: silentLogger() }).description).not.toContain("secret");
    expect(redactUrl("https://user:pw@h.example/x?k=v")).toBe("https://***@h.example/x?***");
  });
});

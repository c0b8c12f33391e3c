// The context the unary fast paths give implementations: its signal is made only when asked for, and then tells
// whatever already happened (the deadline, the client's reset, the call's end), first reason first.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StreamCallContext } from "../src/api/stream-call-context.js";
import { GatewayService } from "../src/gen/livepeer/gateway/v1/gateway_pb.js";

function context(timeoutMs?: number): StreamCallContext {
  return new StreamCallContext({
    service: GatewayService,
    method: GatewayService.method.ping,
    url: "http://127.0.0.1/livepeer.gateway.v1.GatewayService/Ping",
    requestMethod: "POST",
    protocolName: "grpc",
    headers: { ":path": "/x", "x-echo": ["a", "b"] },
    timeoutMs,
    values: undefined,
  });
}

const reasonCode = (signal: AbortSignal) => ConnectError.from(signal.reason).code;

afterEach(() => vi.useRealTimers());

describe("StreamCallContext", () => {
  it("aborts a signal handed out during the call when the call ends", () => {
    const call = context();
    const signal = call.signal;
    expect(signal.aborted).toBe(false);
    call.end();
    expect(signal.aborted).toBe(true);
    expect(reasonCode(signal)).toBe(Code.Canceled);
  });

  it("hands out an aborted signal when asked only after the end, the deadline or a reset", () => {
    vi.useFakeTimers();
    const timedOut = context(100);
    vi.advanceTimersByTime(101);
    timedOut.end(); // the deadline came first: it stays the reason
    expect(reasonCode(timedOut.signal)).toBe(Code.DeadlineExceeded);

    const reset = context();
    reset.reset();
    reset.end();
    expect(ConnectError.from(reset.signal.reason).rawMessage).toBe("the client reset the stream");

    const ended = context();
    ended.end();
    expect(ended.signal.aborted).toBe(true);
    expect(ConnectError.from(ended.signal.reason).rawMessage).toBe("the call is complete");
  });

  it("hands out the same signal every time, and request headers without pseudo-headers", () => {
    const call = context(60_000);
    expect(call.signal).toBe(call.signal);
    expect([...call.requestHeader]).toEqual([["x-echo", "a, b"]]);
    expect(call.timeoutMs()).toBeGreaterThan(59_000);
    call.end();
  });
});

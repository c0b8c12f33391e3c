// The HandlerContext of a unary call answered without connect-node (grpc-unary-streams.ts, connect-unary.ts). connect's
// createHandlerContext links three AbortControllers and copies three Headers for every call; here one controller
// serves the client's reset, the deadline and the call's end, and it and the header objects are made only when used.
import type { IncomingHttpHeaders } from "node:http";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** The call's signal is aborted with this when it ends: one shared reason, so no AbortError (and stack) per call. */
const CALL_COMPLETE = new ConnectError("the call is complete", Code.Canceled);
const STREAM_RESET = new ConnectError("the client reset the stream", Code.Canceled);

/** What a call's context is made from. */
export interface CallContextInit {
  service: DescService;
  method: DescMethod;
  url: string;
  requestMethod: "POST" | "GET";
  protocolName: "grpc" | "connect";
  headers: IncomingHttpHeaders;
  timeoutMs: number | undefined;
  values: ContextValues | undefined;
}

export class StreamCallContext implements HandlerContext {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly url: string;
  readonly requestMethod: "POST" | "GET";
  readonly protocolName: "grpc" | "connect";
  readonly values: ContextValues;
  private readonly rawHeaders: IncomingHttpHeaders;
  /**
   * Made when an implementation first asks for the signal: most never do (Route, Ping), and a controller made only to
   * be aborted at the end cost about 3% of a unary call. Until then, `abortedWith` keeps why the call ended.
   */
  private controller: AbortController | undefined;
  private abortedWith: unknown;
  private readonly deadline: number | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private requestHeaders: Headers | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;

  constructor(init: CallContextInit) {
    this.service = init.service;
    this.method = init.method;
    this.url = init.url;
    this.requestMethod = init.requestMethod;
    this.protocolName = init.protocolName;
    this.rawHeaders = init.headers;
    this.values = init.values ?? createContextValues();
    if (init.timeoutMs !== undefined) {
      this.deadline = Date.now() + init.timeoutMs;
      this.timer = setTimeout(() => this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)), init.timeoutMs);
    }
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith);
    }
    return this.controller.signal;
  }

  readonly timeoutMs = (): number | undefined => (this.deadline === undefined ? undefined : this.deadline - Date.now());

  /** Request headers as connect hands them to implementations: without HTTP/2 pseudo-headers. */
  get requestHeader(): Headers {
    if (this.requestHeaders === undefined) {
      const headers = new Headers();
      for (const name in this.rawHeaders) {
        const value = this.rawHeaders[name];
        if (name.startsWith(":") || value === undefined) continue;
        if (Array.isArray(value)) for (const item of value) headers.append(name, item);
        else headers.append(name, value);
      }
      this.requestHeaders = headers;
    }
    return this.requestHeaders;
  }

  get responseHeader(): Headers {
    return (this.responseHeaders ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.responseTrailers ??= new Headers());
  }

  /** Response headers set by the implementation, if any. */
  responseHeadersIfSet(): Headers | undefined {
    return this.responseHeaders;
  }

  /** Response trailers set by the implementation, if any. */
  responseTrailersIfSet(): Headers | undefined {
    return this.responseTrailers;
  }

  /** The client reset the stream (or closed the connection) before the answer. */
  reset(): void {
    this.abort(STREAM_RESET);
  }

  /** The call is over: stops the deadline and releases whatever listens to the signal. */
  end(): void {
    clearTimeout(this.timer);
    this.abort(CALL_COMPLETE);
  }

  /** The first reason wins, as with AbortController. */
  private abort(reason: unknown): void {
    if (this.controller !== undefined) this.controller.abort(reason);
    else this.abortedWith ??= reason;
  }
}

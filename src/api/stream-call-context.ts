// The HandlerContext of a unary call answered without connect-node (grpc-unary-streams.ts, connect-unary.ts). connect's
// createHandlerContext links three AbortControllers and copies three Headers for every call; here one controller
// serves the client's reset, the deadline and the call's end, and header objects are built only when used.
import type { IncomingHttpHeaders } from "node:http";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** The call's signal is aborted with this when it ends: one shared reason, so no AbortError (and stack) per call. */
const CALL_COMPLETE = new ConnectError("the call is complete", Code.Canceled);
const STREAM_RESET = new ConnectError("the client reset the stream", Code.Canceled);

export class StreamCallContext implements HandlerContext {
  readonly requestMethod = "POST";
  readonly values: ContextValues;
  private readonly controller = new AbortController();
  private readonly deadline: number | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private requestHeaders: Headers | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;

  constructor(
    readonly service: DescService,
    readonly method: DescMethod,
    readonly url: string,
    private readonly rawHeaders: IncomingHttpHeaders,
    timeoutMs: number | undefined,
    values: ContextValues | undefined,
    readonly protocolName: "grpc" | "connect" = "grpc",
  ) {
    this.values = values ?? createContextValues();
    if (timeoutMs !== undefined) {
      this.deadline = Date.now() + timeoutMs;
      this.timer = setTimeout(() => this.controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeoutMs);
    }
  }

  get signal(): AbortSignal {
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
    this.controller.abort(STREAM_RESET);
  }

  /** The call is over: stops the deadline and releases whatever listens to the signal. */
  end(): void {
    clearTimeout(this.timer);
    this.controller.abort(CALL_COMPLETE);
  }
}

// One port for everything: Connect (JSON and binary), gRPC and gRPC-Web, plus plain HTTP routes.
// With TLS, ALPN picks HTTP/2 or HTTP/1.1. Without TLS there is no ALPN, and Node's http2 server does not fall back
// to HTTP/1.1, so the first bytes of each connection decide: the HTTP/2 preface starts with "PRI".
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Takes an HTTP/2 stream and answers it, or returns false to leave it to the RequestHandler. */
export type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

export interface ListenOptions {
  host: string;
  port: number;
  /** Sees each HTTP/2 stream before Node's compatibility layer turns it into a request and a response. */
  streamHandler?: StreamHandler;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Connections that send nothing for this long before their first bytes are dropped. */
  firstBytesTimeoutMs?: number;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** "http://host:port" or "https://host:port". */
  readonly url: string;
  /** Stops accepting, lets open requests finish for up to graceMs, then drops what is left. */
  close(graceMs?: number): Promise<void>;
}

const HTTP2_PREFACE_START = "PRI";

/** What a graceful close needs: every socket, and every HTTP/2 session (to send GOAWAY) and HTTP/1 server. */
interface Connections {
  sockets: Set<net.Socket>;
  sessions: Set<http2.ServerHttp2Session>;
  http1Servers: http.Server[];
}

function trackConnections(server: net.Server | http2.Http2SecureServer, connections: Connections): void {
  server.on("connection", (socket: net.Socket) => {
    connections.sockets.add(socket);
    socket.once("close", () => connections.sockets.delete(socket));
  });
}

function trackSessions(server: http2.Http2Server | http2.Http2SecureServer, connections: Connections): void {
  server.on("session", (session: http2.ServerHttp2Session) => {
    connections.sessions.add(session);
    session.once("close", () => connections.sessions.delete(session));
  });
}

/**
 * Gives streamHandler the first look at each HTTP/2 stream. Node's compatibility layer is itself a "stream" listener
 * (added with the request handler): it now runs only for the streams streamHandler leaves.
 */
function preferStreamHandler(server: http2.Http2Server | http2.Http2SecureServer, streamHandler: StreamHandler | undefined): void {
  if (streamHandler === undefined) return;
  type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => void;
  const compat = server.listeners("stream") as StreamListener[];
  server.removeAllListeners("stream");
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
    if (streamHandler(stream, headers)) return;
    for (const listener of compat) listener.call(server, stream, headers, ...rest);
  });
}

function plaintextServer(handler: RequestHandler, options: ListenOptions, connections: Connections): net.Server {
  const firstBytesTimeoutMs = options.firstBytesTimeoutMs ?? 10_000;
  const h2c = http2.createServer({}, handler);
  preferStreamHandler(h2c, options.streamHandler);
  trackSessions(h2c, connections);
  const h1 = http.createServer(handler as http.RequestListener);
  h1.keepAliveTimeout = 65_000;
  connections.http1Servers.push(h1);
  return net.createServer((socket) => {
    socket.setTimeout(firstBytesTimeoutMs, () => socket.destroy());
    const received: Buffer[] = [];
    let length = 0;
    // Paused-mode reads: the bytes stay in the socket's buffer (unshifted back) for whichever server takes it.
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received.push(chunk);
        length += chunk.length;
      }
      if (length < HTTP2_PREFACE_START.length) return;
      socket.off("readable", onReadable);
      socket.setTimeout(0);
      const head = Buffer.concat(received);
      socket.unshift(head);
      const target = head.subarray(0, 3).toString("latin1") === HTTP2_PREFACE_START ? h2c : h1;
      target.emit("connection", socket);
    };
    socket.on("readable", onReadable);
    socket.on("error", () => socket.destroy());
  });
}

export function listen(handler: RequestHandler, options: ListenOptions): Promise<RunningServer> {
  const connections: Connections = { sockets: new Set(), sessions: new Set(), http1Servers: [] };
  let server: net.Server | http2.Http2SecureServer;
  if (options.tls) {
    const secure = http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true }, handler);
    preferStreamHandler(secure, options.streamHandler);
    trackSessions(secure, connections);
    server = secure;
  } else {
    server = plaintextServer(handler, options, connections);
  }
  trackConnections(server, connections);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      const scheme = options.tls ? "https" : "http";
      const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
      resolve({
        host: options.host,
        port,
        url: `${scheme}://${hostForUrl}:${port}`,
        close: (graceMs = 5_000) =>
          new Promise<void>((done) => {
            const force = setTimeout(() => {
              for (const socket of connections.sockets) socket.destroy();
            }, graceMs);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            // Idle connections would hold close() open: HTTP/2 sessions get GOAWAY (open streams finish),
            // idle HTTP/1.1 keep-alive connections are closed, busy ones close after their response.
            for (const session of connections.sessions) session.close();
            for (const h1 of connections.http1Servers) {
              h1.closeIdleConnections();
              h1.on("request", (_req, res) => res.setHeader("connection", "close"));
            }
          }),
      });
    });
  });
}

/** "host:port" as go-livepeer's -httpAddr takes it; a bare ":port" listens on 127.0.0.1 (never all interfaces by accident). */
export function parseListenAddress(value: string, flag: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not host:port (e.g. 127.0.0.1:9935)`);
  }
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" ? "127.0.0.1" : host, port };
}

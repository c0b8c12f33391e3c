// A misbehaving peer: completes a TLS handshake (offering h2 like a real orchestrator) and then answers with bytes
// that are not HTTP/2, so a gateway's client must fail the call cleanly instead of hanging or crashing.
import type { AddressInfo, Socket } from "node:net";
import * as tls from "node:tls";
import { selfSignedCertificate } from "./cert.js";

export interface GarbageServer {
  /** "https://127.0.0.1:<port>" */
  readonly uri: string;
  close(): Promise<void>;
}

const LOOPBACK = "127.0.0.1";

/** Read as an HTTP/2 frame header, this announces a frame far above the maximum size: a protocol error at once. */
const GARBAGE = Buffer.from("this is not an HTTP/2 server, and these bytes are not gRPC frames\r\n");

export async function startGarbageServer(options: { readonly port?: number } = {}): Promise<GarbageServer> {
  const { key, cert } = await selfSignedCertificate(LOOPBACK);
  const sockets = new Set<Socket>();
  const server = tls.createServer({ key, cert, ALPNProtocols: ["h2"] }, (socket) => {
    socket.on("error", () => undefined); // the client hanging up mid-write is expected
    socket.on("data", () => socket.write(GARBAGE));
    socket.write(GARBAGE);
  });
  // Track raw connections (not only completed handshakes) so close() can end every one of them.
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, LOOPBACK, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    uri: `https://${LOOPBACK}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

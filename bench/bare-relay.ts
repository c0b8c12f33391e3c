// The forwarding benchmark's floor: the least a Node process can do to put itself between the load generator and
// the orchestrator. Each request is sent on as it came (method, path, headers, body streamed) over a keep-alive HTTPS
// agent, and the answer streamed back: no routing, no payment, no header of its own, no health, no metrics. What
// it reaches against the direct path on the same cores bounds any Node gateway's forwarding ratio there.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/** Headers that belong to one hop, not to the request (RFC 9110 §7.6.1), plus host: the agent sets its own. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host"]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_HEADERS.has(name) && value !== undefined) out[name] = value;
  return out;
}

export async function startBareRelay(target: string): Promise<{ url: string; close(): Promise<void> }> {
  // The simulated orchestrators' certificates are self-signed; the connection is still TLS, set up once per socket.
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const upstream = https.request(new URL(req.url ?? "/", target), { method: req.method, headers: endToEnd(req.headers), agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`relay: ${err.message}\n`);
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

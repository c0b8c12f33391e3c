// Child process of the discovery benchmark: what the gateway's open channels to orchestrators cost in memory, which
// the 10,000-orchestrator index (discovery-memory.ts) leaves out. Discovery keeps one gRPC channel (a TLS connection
// and an HTTP/2 session) per orchestrator between refreshes, so that a refresh costs a call each and not a handshake
// each. Run with --expose-gc from the compiled build, as `channel-memory.js COUNT MODE`; prints one JSON line with the
// growth of RSS after full GCs, against this process before (gateway modules loaded, `count` real TLS orchestrators
// started in a child process of their own):
// - MODE "channels": a sweep and a refresh of the orchestrators by the gateway's Discovery and client pool, every
//   channel left open (the index of `count` orchestrators included);
// - MODE "bare-tls": one bare TLS connection per orchestrator (node:tls, no HTTP/2, nothing sent; one TLS context for
//   all, as the gateway's client pool has), the floor of a kept connection in Node.
// Each mode runs in a fresh process: memory freed by one phase stays resident and is reused by the next (glibc keeps
// freed blocks), so two phases in one process would not tell their costs apart.
import { connect as tlsConnect, createSecureContext, type TLSSocket } from "node:tls";
import "../src/gateway.js";
import { Discovery } from "../src/discovery/discovery.js";
import { StaticSource } from "../src/discovery/sources.js";
import { offchainIdentity } from "../src/eth/identity.js";
import { silentLogger } from "../src/log.js";
import { OrchestratorClientPool } from "../src/orchestrator/orchestrator-client.js";
import { forEachWithConcurrency } from "../src/util/concurrency.js";
import { startOrchestrators } from "./discovery.js";
import { canCollect, settledMemory } from "./settled-memory.js";

const count = Number(process.argv[2] ?? "1000");
if (!canCollect) throw new Error("run with --expose-gc");

const sharedContext = createSecureContext({});

function bareTlsConnection(uri: string): Promise<TLSSocket | undefined> {
  const { hostname, port } = new URL(uri);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), secureContext: sharedContext, rejectUnauthorized: false, ALPNProtocols: ["h2"] });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", () => resolve(undefined));
  });
}

const mode = process.argv[3];
if (mode !== "channels" && mode !== "bare-tls") throw new Error(`mode must be "channels" or "bare-tls", got ${JSON.stringify(mode)}`);
const orchestrators = await startOrchestrators(count);
const clients = new OrchestratorClientPool();
const discovery = new Discovery(
  { source: new StaticSource(orchestrators.uris), clients, signer: offchainIdentity(), logger: silentLogger() },
  { concurrency: 64 },
);
const sockets: TLSSocket[] = [];
try {
  const before = (await settledMemory()).rss;
  let connected = 0;
  if (mode === "channels") {
    await discovery.refreshNow();
    connected = (await discovery.refreshNow()).usableOrchestrators().length;
  } else {
    await forEachWithConcurrency(orchestrators.uris, 64, async (uri) => {
      const socket = await bareTlsConnection(uri);
      if (socket) sockets.push(socket);
    });
    connected = sockets.length;
  }
  const growth = (await settledMemory()).rss - before;
  process.stdout.write(`${JSON.stringify({ mode, orchestrators: count, connected, rssGrowth: growth })}\n`);
} finally {
  for (const socket of sockets) socket.destroy();
  await discovery.stop();
  clients.close();
  orchestrators.stop();
}

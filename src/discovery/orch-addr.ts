// Parsing of orchestrator addresses as go-livepeer's -orchAddr accepts them (starter.go parseOrchAddrs), but
// strict: a malformed entry is an error naming it instead of a log line and a silently shorter list.

const DEFAULT_ORCHESTRATOR_PORT = "8935";

/**
 * Normalises one orchestrator address: a bare host gets port 8935, ":port" means 127.0.0.1, a scheme-less entry
 * gets https://. Returns "scheme://host:port" without a path, or throws an Error naming the entry.
 */
export function normalizeOrchestratorUri(entry: string): string {
  const raw = entry.trim();
  if (raw === "") throw new Error("empty orchestrator address");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) && !/^https?:\/\//.test(raw)) {
    throw new Error(`orchestrator address ${JSON.stringify(entry)} must use https:// or http://`);
  }
  let withScheme = raw.startsWith("http://") || raw.startsWith("https://") ? raw : `https://${raw}`;
  if (/^https?:\/\/:/.test(withScheme)) withScheme = withScheme.replace("://:", "://127.0.0.1:");
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`orchestrator address ${JSON.stringify(entry)} is not a valid host:port or URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`orchestrator address ${JSON.stringify(entry)} must use https:// or http://`);
  }
  if (url.hostname === "") throw new Error(`orchestrator address ${JSON.stringify(entry)} has no host`);
  if (url.username || url.password) throw new Error(`orchestrator address ${JSON.stringify(entry)} must not carry credentials`);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new Error(`orchestrator address ${JSON.stringify(entry)} must be host:port without a path or query`);
  }
  // URL drops a scheme's default port (":443"), so read an explicit port from the entry itself.
  const port = url.port || /:(\d+)\/?$/.exec(raw)?.[1] || DEFAULT_ORCHESTRATOR_PORT;
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** A comma-separated -orchAddr list, normalised and without duplicates (go-livepeer queries duplicates twice). */
export function parseOrchAddrList(value: string): string[] {
  const entries = value.split(",").map((e) => e.trim()).filter((e) => e !== "");
  const uris: string[] = [];
  for (const entry of entries) {
    let uri: string;
    try {
      uri = normalizeOrchestratorUri(entry);
    } catch (err) {
      throw new Error(`-orchAddr: ${(err as Error).message}`);
    }
    if (!uris.includes(uri)) uris.push(uri);
  }
  return uris;
}

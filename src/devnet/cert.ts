// A fresh self-signed TLS certificate for a simulated orchestrator. go-livepeer orchestrators generate one at
// every start (ECDSA P-256, a CA certificate for server auth naming the service host), and gateways never verify
// it, so nothing is stored and nothing needs to be trusted.
import { isIP } from "node:net";
import { generate } from "selfsigned";

export interface PemKeyPair {
  /** PKCS#8 private key, PEM. */
  readonly key: string;
  /** X.509 certificate, PEM. */
  readonly cert: string;
}

const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** An ECDSA P-256 / SHA-256 self-signed certificate for `host` (a DNS name or an IP address), valid for a year. */
export async function selfSignedCertificate(host: string): Promise<PemKeyPair> {
  const notBeforeDate = new Date();
  const pems = await generate([{ name: "commonName", value: host }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256", // selfsigned defaults to sha1, which modern TLS stacks refuse
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + ONE_YEAR_MS),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

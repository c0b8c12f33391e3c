// The BYOC worker (W) behind a simulated orchestrator: a pure function of what O forwards to it (capability, worker
// path, Content-Type and body; O forwards no Livepeer headers, so parameters never reach W). Same input, same
// bytes out, so tests can compute the expected answer.
//
//  - A worker path whose last segment is "stream" (POST /process/request/stream, /process/request/x/stream)
//    answers Server-Sent Events: up to MAX_STREAM_EVENTS `data: {...}` events, then `data: [DONE]`.
//  - Any other path answers application/json:
//      {"capability":…,"path":…,"content_type":…,"input_bytes":n,"input_sha256":"<hex>","output":"<reversed text>"}
//    where output is the body as UTF-8 reversed by code point, or, for a body that is not UTF-8, the reversed bytes
//    in base64 with "output_encoding":"base64".
//  - A worker path whose last segment is "invalid" answers 400 {"detail":"…"}: the worker refusing the client's
//    input, which is the client's answer and not the orchestrator's fault.
//  - All carry X-Metadata: {"capability":…,"worker":"devnet","input_sha256":"<hex>"}.
import { createHash } from "node:crypto";

export interface WorkerRequest {
  readonly capability: string;
  /** The path after "/process/request/" (O's workerResourceRoute), "" for "/process/request/". */
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

export interface WorkerResponse {
  readonly status: number;
  /** W's Content-Type; "text/event-stream" makes O relay the body as SSE. */
  readonly contentType: string;
  /** W's X-Metadata header, if any. */
  readonly metadata?: string;
  /** The whole body (for SSE, the event text). */
  readonly body: Buffer;
}

export type ByocWorker = (request: WorkerRequest) => WorkerResponse;

export const MAX_STREAM_EVENTS = 5;
const STREAM_CHUNK_CHARS = 16;

/** True when the deterministic worker answers this worker path with SSE. */
export function isStreamPath(path: string): boolean {
  return path.split("/").pop() === "stream";
}

/** What the deterministic worker computes from a body. */
export function workerOutput(body: Buffer): { readonly output: string; readonly encoding: "utf8" | "base64" } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return { output: Buffer.from(body).reverse().toString("base64"), encoding: "base64" };
  }
  return { output: [...text].reverse().join(""), encoding: "utf8" };
}

export function sha256Hex(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The chunks of `output` the streaming answer sends, one per event (at least one, at most MAX_STREAM_EVENTS). */
export function streamChunks(output: string): string[] {
  const chars = [...output];
  const count = Math.min(MAX_STREAM_EVENTS, Math.max(1, Math.ceil(chars.length / STREAM_CHUNK_CHARS)));
  const size = Math.max(1, Math.ceil(chars.length / count));
  const chunks: string[] = [];
  for (let i = 0; i < count; i++) chunks.push(chars.slice(i * size, (i + 1) * size).join(""));
  return chunks;
}

export const deterministicWorker: ByocWorker = (request) => {
  const inputSha256 = sha256Hex(request.body);
  const metadata = JSON.stringify({ capability: request.capability, worker: "devnet", input_sha256: inputSha256 });
  const { output, encoding } = workerOutput(request.body);
  if (request.path.split("/").pop() === "invalid") {
    const detail = { detail: `the ${request.capability} worker cannot use this input` };
    return { status: 400, contentType: "application/json", metadata, body: Buffer.from(JSON.stringify(detail)) };
  }
  if (isStreamPath(request.path)) {
    const events = streamChunks(output).map(
      (chunk, index) => `data: ${JSON.stringify({ capability: request.capability, index, chunk })}\n\n`,
    );
    return {
      status: 200,
      contentType: "text/event-stream",
      metadata,
      body: Buffer.from(`${events.join("")}data: [DONE]\n\n`),
    };
  }
  const answer = {
    capability: request.capability,
    path: request.path,
    content_type: request.contentType,
    input_bytes: request.body.length,
    input_sha256: inputSha256,
    output,
    ...(encoding === "base64" ? { output_encoding: "base64" } : {}),
  };
  return { status: 200, contentType: "application/json", metadata, body: Buffer.from(JSON.stringify(answer)) };
};

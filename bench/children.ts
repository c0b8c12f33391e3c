// The benchmarks' child processes: scripts of this folder run with an IPC channel, and their answers; and commands
// run to the end. `npm run bench` runs the compiled build (tsconfig.bench.json, into dist-bench/), as `npm start` runs
// the gateway; the diagnostics run the TypeScript through tsx. A child runs the way its parent does.
import { fork, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** This module is the compiled build's (dist-bench/bench/*.js) rather than the TypeScript run by tsx. */
export const COMPILED = import.meta.url.endsWith(".js");

/** The repository's root, where bench/results.json and tsconfig.bench.json are, whichever way the bench runs. */
export const REPO_ROOT = fileURLToPath(new URL(COMPILED ? "../.." : "..", import.meta.url));

/** The path of a script of this folder named as its TypeScript source ("./rpc-load.ts"), and the node flags it needs. */
export function benchScript(file: string): { path: string; execArgv: string[] } {
  if (COMPILED) return { path: fileURLToPath(new URL(file.replace(/\.ts$/, ".js"), import.meta.url)), execArgv: [] };
  return { path: fileURLToPath(new URL(file, import.meta.url)), execArgv: ["--import", import.meta.resolve("tsx")] };
}

/**
 * Runs a script of this folder (named as its source, e.g. "./rpc-load.ts") in a child process; extra node flags
 * (e.g. --cpu-prof) optional; `advanced` IPC carries Uint8Arrays as they are.
 */
export function forkScript(
  file: string,
  args: readonly string[] = [],
  nodeFlags: readonly string[] = [],
  serialization: "json" | "advanced" = "json",
): ChildProcess {
  const script = benchScript(file);
  return fork(script.path, [...args], {
    execArgv: [...script.execArgv, ...nodeFlags],
    serialization,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** The next message from a child that satisfies `accept`, within a time limit. */
export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => message is T, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
  });
}


/**
 * Runs `command` in the repository root to its end and resolves with what it printed on stdout when `captureStdout`
 * (else stdout is passed through); rejects naming the command when it fails or outlasts `timeoutMs`.
 */
export async function runToEnd(command: string, args: readonly string[], timeoutMs: number, captureStdout = false): Promise<string> {
  const what = [command, ...args].join(" ");
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ["ignore", captureStdout ? "pipe" : "inherit", "inherit"] });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${what} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
  return output;
}

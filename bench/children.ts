// The benchmarks' child processes: TypeScript scripts run through tsx with an IPC channel, and their answers; and
// commands run to the end (the compiled build of the memory benchmark).
import { fork, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Runs a script of this folder (e.g. "./rpc-load.ts") in a child process; extra node flags (e.g. --cpu-prof) optional. */
export function forkScript(file: string, args: readonly string[] = [], nodeFlags: readonly string[] = []): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [...args], {
    execArgv: ["--import", import.meta.resolve("tsx"), ...nodeFlags],
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

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs `command` in the repository root to its end and resolves with what it printed on stdout when `captureStdout`
 * (else stdout is passed through); rejects naming the command when it fails or outlasts `timeoutMs`.
 */
export async function runToEnd(command: string, args: readonly string[], timeoutMs: number, captureStdout = false): Promise<string> {
  const what = [command, ...args].join(" ");
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", captureStdout ? "pipe" : "inherit", "inherit"] });
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

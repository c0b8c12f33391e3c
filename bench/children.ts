// The benchmarks' child processes: TypeScript scripts run through tsx with an IPC channel, and their answers.
import { fork, type ChildProcess } from "node:child_process";
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

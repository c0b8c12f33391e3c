// Structured logs with pino: JSON lines for machines, readable lines when a person watches a terminal.
import { pino, type Logger } from "pino";

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Pretty-print; defaults to whether stdout is a terminal. */
  pretty?: boolean;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    level: options.level ?? "info",
    // Belt and braces: these keys never carry secrets in this code base, but if one ever gets logged, hide it.
    redact: { paths: ["password", "*.password", "privateKey", "*.privateKey", "ethPassword", "*.ethPassword"], censor: "[redacted]" },
    ...(pretty
      ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } } }
      : {}),
  });
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

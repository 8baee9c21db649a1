import { fail } from "../engine/index.js";

/**
 * Server logs. They go to stderr only: on the stdio transport, stdout carries the MCP protocol and one
 * stray line there would corrupt it. Callers pass facts as `fields` (method, status, principal, ...),
 * never a header, a body or a credential.
 */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Structured facts attached to one log event. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** `text`: one `pigeonhole info: ...` line per event; `json`: one JSON object per line. */
export type LogFormat = "text" | "json";

/** PIGEONHOLE_LOG_FORMAT: `text` (default) or `json`; anything else is refused with the accepted values. */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const value = env.PIGEONHOLE_LOG_FORMAT ?? "text";
  if (value !== "text" && value !== "json") {
    throw fail.invalid(
      `PIGEONHOLE_LOG_FORMAT must be "text" (default) or "json"; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * A logger writing one line per event to stderr: `pigeonhole info: message key=value ...` in text
 * format, or `{"ts","level","msg",...fields}` in json format. Never give it a secret.
 */
export function stderrLogger(format: LogFormat = "text"): Logger {
  const write = (level: string, message: string, fields: LogFields = {}) => {
    process.stderr.write(
      `${format === "json" ? jsonLine(level, message, fields) : textLine(level, message, fields)}\n`,
    );
  };
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}

/** A logger that drops everything (tests, and embedding the server in another program). */
export function silentLogger(): Logger {
  const drop = () => {};
  return { info: drop, warn: drop, error: drop };
}

function jsonLine(level: string, message: string, fields: LogFields): string {
  // Fields come after the fixed keys, but cannot overwrite them.
  return JSON.stringify({ ...fields, ts: new Date().toISOString(), level, msg: message }, [
    "ts",
    "level",
    "msg",
    ...Object.keys(fields).filter((k) => fields[k] !== undefined && !["ts", "level", "msg"].includes(k)),
  ]);
}

function textLine(level: string, message: string, fields: LogFields): string {
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === "string" && /[\s="]/.test(value) ? JSON.stringify(value) : value}`,
    );
  return `pigeonhole ${level}: ${[message, ...pairs].join(" ")}`;
}

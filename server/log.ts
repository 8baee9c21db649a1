/**
 * Server logs. They go to stderr only: on the stdio transport, stdout carries the MCP protocol and one
 * stray line there would corrupt it.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger writing one `pigeonhole: ...` line per event to stderr. Never give it a secret. */
export function stderrLogger(): Logger {
  const write = (level: string, message: string) => {
    process.stderr.write(`pigeonhole ${level}: ${message}\n`);
  };
  return {
    info: (message) => write("info", message),
    warn: (message) => write("warn", message),
    error: (message) => write("error", message),
  };
}

/** A logger that drops everything (tests, and embedding the server in another program). */
export function silentLogger(): Logger {
  const drop = () => {};
  return { info: drop, warn: drop, error: drop };
}

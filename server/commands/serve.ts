import { Option } from "commander";
import { openMailbox } from "../../engine/index.js";
import { assertLoopbackBind, startHttpServer } from "../http.js";
import { type Logger, stderrLogger } from "../log.js";
import { startStdioServer } from "../stdio.js";
import type { CliCommand } from "./command.js";
import { addHomeOption, integerIn } from "./options.js";

interface ServeOptions {
  transport: "http" | "stdio";
  host: string;
  port: number;
  home?: string;
}

/** `pigeonhole serve`: the MCP server, over Streamable HTTP (default, as `npm start`) or stdio. */
export const serveCommand: CliCommand = {
  name: "serve",
  summary: "run the MCP server over Streamable HTTP (default: http://127.0.0.1:8765/mcp) or stdio",
  define(cmd) {
    cmd
      .addOption(
        new Option(
          "--transport <kind>",
          "http: Streamable HTTP at /mcp plus GET /health; stdio: one session on stdin/stdout",
        )
          .choices(["http", "stdio"])
          .default("http"),
      )
      .option("--host <address>", "HTTP bind address; only loopback addresses are accepted", "127.0.0.1")
      .option("--port <number>", "HTTP port (0 picks a free one)", integerIn(0, 65535), 8765);
    addHomeOption(cmd);
    cmd.action((options: ServeOptions) => serve(options));
  },
};

/** Serve until SIGINT/SIGTERM (or, on stdio, until the client closes stdin), then close everything. */
async function serve(options: ServeOptions): Promise<void> {
  const log = stderrLogger();
  // Checked before opening the mailbox, so a refused start leaves nothing behind on disk.
  if (options.transport === "http") assertLoopbackBind(options.host);
  const mailbox = openMailbox(options.home === undefined ? {} : { home: options.home });
  const stop = stopSignal(log);
  try {
    if (options.transport === "http") {
      const http = await startHttpServer({ host: options.host, port: options.port, mailbox, log });
      log.info(`MCP server at ${http.url}/mcp (health: ${http.url}/health), mailbox ${mailbox.paths.home}`);
      await stop.requested;
      await http.close();
    } else {
      const stdio = await startStdioServer(mailbox, log);
      log.info(`MCP server on stdio, mailbox ${mailbox.paths.home}`);
      await Promise.race([stop.requested, stdio.ended]);
      await stdio.close();
    }
  } finally {
    stop.dispose();
    await mailbox.close();
  }
  log.info("stopped");
}

/** The first SIGINT/SIGTERM asks for a graceful stop; a second one exits at once. */
function stopSignal(log: Logger): { requested: Promise<void>; dispose(): void } {
  let signalled = false;
  let resolve!: () => void;
  const requested = new Promise<void>((r) => {
    resolve = r;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn(`${signal} again: exiting without finishing shutdown`);
      process.exit(130);
    }
    signalled = true;
    log.info(`${signal}: shutting down`);
    resolve();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    requested,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

import { Option } from "commander";
import { fail, openMailbox } from "../../engine/index.js";
import { assertLoopbackBind, startHttpServer } from "../http.js";
import { type Logger, stderrLogger } from "../log.js";
import { PROFILES, type Profile } from "../mcp/catalog.js";
import { createRuntime } from "../mcp/runtime.js";
import type { IdentityMode } from "../mcp/session.js";
import { startStdioServer } from "../stdio.js";
import type { CliCommand } from "./command.js";
import { addHomeOption, integerIn } from "./options.js";

interface ServeOptions {
  transport: "http" | "stdio";
  host: string;
  port: number;
  home?: string;
  tools: Profile;
  agent?: string;
  unreadNotice: boolean;
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
      .option("--port <number>", "HTTP port (0 picks a free one)", integerIn(0, 65535), 8765)
      .addOption(
        new Option("--tools <profile>", "tool profile: core (day-to-day tools plus two meta-tools) or full")
          .choices([...PROFILES])
          .env("PIGEONHOLE_TOOLS")
          .default("full"),
      )
      .option(
        "--agent <name>",
        "default agent for tools that omit agent_name/sender_name (stdio; HTTP clients send X-Agent-Name)",
      )
      .option("--no-unread-notice", "do not add the one-line unread-mail notice to tool results");
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
  const runtime = createRuntime(mailbox, log, {
    profile: options.tools,
    identityMode: identityModeFromEnv(),
    unreadNotice: options.unreadNotice && process.env.PIGEONHOLE_UNREAD_NOTICE !== "off",
  });
  const stop = stopSignal(log);
  try {
    if (options.transport === "http") {
      const http = await startHttpServer({ host: options.host, port: options.port, runtime });
      log.info(`MCP server at ${http.url}/mcp (health: ${http.url}/health), mailbox ${mailbox.paths.home}`);
      await stop.requested;
      await http.close();
    } else {
      const stdio = await startStdioServer(runtime, options.agent ? { defaultAgent: options.agent } : {});
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

/** PIGEONHOLE_IDENTITY=open turns identity binding off for trusted single-user setups. */
function identityModeFromEnv(): IdentityMode {
  const value = process.env.PIGEONHOLE_IDENTITY ?? "strict";
  if (value !== "open" && value !== "strict") {
    throw fail.invalid(
      `PIGEONHOLE_IDENTITY must be "strict" (default) or "open"; got ${JSON.stringify(value)}`,
    );
  }
  return value;
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

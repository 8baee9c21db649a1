import { Option } from "commander";
import { fail, openMailbox } from "../../engine/index.js";
import { assertBindAllowed } from "../http/bind.js";
import { type HttpSecurity, httpSecurityFromEnv } from "../http/config.js";
import { DEFAULT_SESSION_LIMITS } from "../http/sessions.js";
import { startHttpServer } from "../http.js";
import { type Logger, logFormatFromEnv, stderrLogger } from "../log.js";
import { PROFILES, type Profile } from "../mcp/catalog.js";
import { createRuntime } from "../mcp/runtime.js";
import type { IdentityMode } from "../mcp/session.js";
import { restRoute } from "../rest/handler.js";
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
  allowHost: string[];
  sessionIdleMs: number;
  maxSessions: number;
}

/** Bounds of --session-idle-ms: 100 ms (tests) to 7 days. */
const IDLE_MS_RANGE = [100, 7 * 24 * 3_600_000] as const;

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
      .option(
        "--host <address>",
        "HTTP bind address; a non-loopback address (e.g. 0.0.0.0) requires auth (PIGEONHOLE_TOKEN or JWT)",
        "127.0.0.1",
      )
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
      .option("--no-unread-notice", "do not add the one-line unread-mail notice to tool results")
      .addOption(
        new Option(
          "--allow-host <name>",
          "also answer requests whose Host is this name (name or name:port; repeatable, comma-separated; adds to PIGEONHOLE_ALLOWED_HOSTS)",
        )
          .argParser((value: string, previous: string[] = []) => [...previous, value])
          .default([], "loopback names and the bind address"),
      )
      .addOption(
        new Option(
          "--session-idle-ms <ms>",
          "HTTP: close an MCP session after this long without a request (one with an open notification stream or a request in flight is never idle)",
        )
          .argParser(integerIn(...IDLE_MS_RANGE))
          .env("PIGEONHOLE_SESSION_IDLE_MS")
          .default(DEFAULT_SESSION_LIMITS.idleTimeoutMs, "1800000, 30 minutes"),
      )
      .addOption(
        new Option(
          "--max-sessions <number>",
          "HTTP: most live MCP sessions; when full the longest-idle one is closed, and if all are busy a new one is refused with 503",
        )
          .argParser(integerIn(1, 1_000_000))
          .env("PIGEONHOLE_MAX_SESSIONS")
          .default(DEFAULT_SESSION_LIMITS.maxSessions),
      )
      .addHelpText(
        "after",
        `
HTTP security (environment; see the README's "HTTP security"):
  PIGEONHOLE_TOKEN             shared bearer token (a writer); enables auth
  PIGEONHOLE_JWT_SECRET        HS256 secret for JWTs (role claim reader|writer, absent = reader)
  PIGEONHOLE_JWKS_URL          JWKS URL for asymmetric JWTs
  PIGEONHOLE_JWT_ISSUER        required iss; PIGEONHOLE_JWT_AUDIENCE: required aud
  PIGEONHOLE_ALLOWED_HOSTS     extra Host names; PIGEONHOLE_ALLOWED_ORIGINS: extra browser origins
  PIGEONHOLE_MAX_BODY_BYTES    request body limit (default 4194304)
  PIGEONHOLE_RATE_LIMIT        per-caller rate, e.g. 20/s (default 50/s; off disables)
  PIGEONHOLE_RATE_BURST        per-caller burst (default 100)
  PIGEONHOLE_LOG_FORMAT        text (default) or json
A non-loopback --host is refused unless PIGEONHOLE_TOKEN or a JWT variable is set.`,
      );
    addHomeOption(cmd);
    cmd.action((options: ServeOptions) => serve(options));
  },
};

/** Serve until SIGINT/SIGTERM (or, on stdio, until the client closes stdin), then close everything. */
async function serve(options: ServeOptions): Promise<void> {
  const log = stderrLogger(logFormatFromEnv());
  // Checked before opening the mailbox, so a refused start leaves nothing behind on disk.
  let security: HttpSecurity | undefined;
  if (options.transport === "http") {
    security = httpSecurityFromEnv(process.env, options.allowHost);
    assertBindAllowed(options.host, security.auth);
  }
  const mailbox = openMailbox(options.home === undefined ? {} : { home: options.home });
  const runtime = createRuntime(mailbox, log, {
    profile: options.tools,
    identityMode: identityModeFromEnv(),
    unreadNotice: options.unreadNotice && process.env.PIGEONHOLE_UNREAD_NOTICE !== "off",
  });
  const stop = stopSignal(log);
  try {
    if (options.transport === "http") {
      const http = await startHttpServer({
        host: options.host,
        port: options.port,
        runtime,
        security,
        routes: [restRoute(runtime)],
        sessions: { idleTimeoutMs: options.sessionIdleMs, maxSessions: options.maxSessions },
      });
      log.info(`MCP server at ${http.url}/mcp (health: ${http.url}/health), mailbox ${mailbox.paths.home}`, {
        auth: authSummary(security),
        session_idle_ms: options.sessionIdleMs,
        max_sessions: options.maxSessions,
      });
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

/** Which auth modes are on, for the start-up log line (never a credential). */
function authSummary(security: HttpSecurity | undefined): string {
  const auth = security?.auth ?? {};
  const modes = [auth.token && "token", auth.jwtSecret && "jwt-hs256", auth.jwksUrl && "jwks"].filter(
    Boolean,
  );
  return modes.length ? modes.join("+") : "none";
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

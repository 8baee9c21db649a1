import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { fail, PigeonholeError } from "../engine/index.js";
import { healthReport } from "./health.js";
import type { ServerRuntime } from "./mcp/runtime.js";
import { createMcpSession } from "./mcp/server.js";

/** Where and what the HTTP server serves. */
export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port; `RunningHttpServer.port` tells which. */
  port: number;
  runtime: ServerRuntime;
}

/** A listening HTTP server. */
export interface RunningHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:8765`; the MCP endpoint is `${url}/mcp`. */
  url: string;
  port: number;
  /** Close every MCP session, then stop listening and drop open connections. Idempotent. */
  close(): Promise<void>;
}

/** True for names and addresses that only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  if (isIP(name) === 6) return name === "::1" || /^::ffff:127\./.test(name);
  return false;
}

/**
 * Refuse a bind address other machines could reach. Nothing guards the server but the loopback interface
 * until authentication exists, so anything else is an error, not a warning.
 */
export function assertLoopbackBind(host: string): void {
  if (!isLoopbackHost(host)) {
    throw fail.invalid(
      `Refusing to listen on ${host}: it is not a loopback address, and serving other machines requires ` +
        "authentication support, which this release does not have yet. Use --host 127.0.0.1 (the default).",
      { host },
    );
  }
}

/**
 * Serve MCP over Streamable HTTP at `/mcp` (stateful sessions: one MCP server per session, all sharing
 * `mailbox`) and `GET /health`. Only loopback binds are accepted, and requests whose Host or Origin names
 * another machine are refused, so a web page cannot reach the server through DNS rebinding.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host } = options;
  const { mailbox, log } = options.runtime;
  assertLoopbackBind(host);
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId === "string") {
      const session = sessions.get(sessionId);
      if (!session) {
        return sendRpcError(
          res,
          404,
          -32001,
          "Session not found; start a new session with an initialize request",
        );
      }
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== "POST") {
      return sendRpcError(res, 400, -32000, "Mcp-Session-Id header required; initialize a session first");
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const agentHeader = req.headers["x-agent-name"];
    const { server } = createMcpSession(options.runtime, {
      defaultAgent: typeof agentHeader === "string" && agentHeader !== "" ? agentHeader : undefined,
      principal: "http",
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Not an initialize request: the transport answered with an error and no session exists to keep.
    if (!transport.sessionId) await server.close();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!requestIsLocal(req)) {
      return sendJson(res, 403, { error: "Host or Origin header names a non-local address" });
    }
    if (path === "/mcp") return handleMcp(req, res);
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "use GET" });
      return sendJson(res, 200, healthReport(mailbox));
    }
    return sendJson(res, 404, { error: `nothing at ${path}; the MCP endpoint is /mcp` });
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error(`HTTP ${req.method} ${req.url}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error; see the server log" });
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, host, options.port)));
    http.listen(options.port, host, () => resolve());
  });
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      for (const { server } of [...sessions.values()]) await server.close();
      sessions.clear();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    })();
    return closing;
  };
  return { url, port, close };
}

/** Host (and Origin, when a browser sends one) must name this machine. */
function requestIsLocal(req: IncomingMessage): boolean {
  const hostname = (value: string) => value.replace(/^(\[[^\]]*\]|[^:]*).*$/, "$1");
  const host = req.headers.host;
  if (host !== undefined && !isLoopbackHost(hostname(host))) return false;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    try {
      if (!isLoopbackHost(new URL(origin).hostname)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === "EADDRINUSE") {
    return fail.conflict(
      `Port ${port} on ${host} is already in use; stop the other server or choose --port.`,
    );
  }
  if (error.code === "EACCES") {
    return new PigeonholeError(
      "PERMISSION_DENIED",
      `Not allowed to listen on ${host}:${port}; choose --port above 1023.`,
    );
  }
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
    return fail.invalid(`Cannot listen on ${host}: no such address on this machine.`);
  }
  return error;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null });
}

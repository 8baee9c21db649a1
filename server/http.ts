import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { healthReport } from "./health.js";
import { createAuthenticator, type RequestIdentity } from "./http/auth.js";
import { assertBindAllowed, listenError } from "./http/bind.js";
import { isJsonMediaType, readJsonBody } from "./http/body.js";
import { defaultHttpSecurity, type HttpSecurity } from "./http/config.js";
import { applyCors } from "./http/cors.js";
import { createHostCheck } from "./http/hosts.js";
import { McpEndpoint } from "./http/mcp-endpoint.js";
import { describeRateLimit, RateLimiter } from "./http/rate-limit.js";
import { type HttpFailure, sendFailure, sendJson } from "./http/reply.js";
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./http/sessions.js";
import type { ServerRuntime } from "./mcp/runtime.js";

export type { RequestIdentity } from "./http/auth.js";

/**
 * A route mounted beside `/mcp` (the REST API). The server has already checked Host/Origin, the
 * credentials and the rate limit, and read the body; the handler only acts as `ctx.identity`.
 */
export interface HttpRoute {
  /** Path prefix such as `/v1/`; the first route whose prefix starts the path handles the request. */
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void>;
}

/** What a mounted route gets with each request. */
export interface RouteContext {
  /** Who is calling: a reader must not be allowed to change the mailbox. */
  identity: RequestIdentity;
  /** The request URL (path and query string). */
  url: URL;
  /** The parsed JSON body of a POST, PUT or PATCH (`undefined` when empty or another method). */
  body: unknown;
}

/** Where and what the HTTP server serves. */
export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port; `RunningHttpServer.port` tells which. */
  port: number;
  runtime: ServerRuntime;
  /** Auth, allow-lists and limits; default `defaultHttpSecurity()` (no auth, loopback only). */
  security?: HttpSecurity;
  /** Extra routes, e.g. the REST API under `/v1/`. */
  routes?: HttpRoute[];
  /** Idle timeout and cap of MCP sessions; default `DEFAULT_SESSION_LIMITS` (30 min, 1,000). */
  sessions?: Partial<SessionLimits>;
}

/** A listening HTTP server. */
export interface RunningHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:8765`; the MCP endpoint is `${url}/mcp`. */
  url: string;
  port: number;
  /** Close every MCP session, then stop listening and drop open connections. Idempotent. */
  close(): Promise<void>;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * Serve MCP over Streamable HTTP at `/mcp`, `GET /health` and any extra `routes`. Every request passes,
 * in order: the Host/Origin allow-list (403), then, except `GET /health`, credentials (401), the
 * caller's rate limit (429) and the body size limit (413) / a route's JSON content type (415) / JSON
 * parsing (400). A non-loopback `host` is refused unless auth is configured. Each request is logged
 * (method, path, status, ms, principal). MCP sessions idle past `sessions.idleTimeoutMs` are closed, and
 * at most `sessions.maxSessions` are live (see http/sessions.ts).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host } = options;
  const security = options.security ?? defaultHttpSecurity();
  const { mailbox, log, metrics } = options.runtime;
  assertBindAllowed(host, security.auth);
  const hostCheck = createHostCheck(security.allow, host);
  const authenticate = createAuthenticator(security.auth, log);
  const limiter = security.rateLimit ? new RateLimiter(security.rateLimit) : undefined;
  const mcp = new McpEndpoint(options.runtime, { ...DEFAULT_SESSION_LIMITS, ...options.sessions });
  const routes = options.routes ?? [];

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, who: { principal?: string }) {
    const path = url.pathname;
    const rpc = path === "/mcp";
    const refuse = (failure: HttpFailure) => sendFailure(res, failure, rpc);
    const hostFailure = hostCheck(req);
    if (hostFailure) return refuse(hostFailure);
    if (applyCors(req, res)) return;
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return refuse({ status: 405, type: "INVALID_ARGUMENT", message: "Use GET /health." });
      }
      return sendJson(res, 200, {
        ...healthReport(mailbox),
        metrics: metrics.report(),
        sessions: mcp.stats(),
      });
    }

    const auth = await authenticate(req.headers.authorization);
    if (auth.ok) who.principal = auth.identity.principal;
    if (limiter) {
      // Unauthenticated and anonymous callers are told apart by address, so failed guesses are limited too.
      const key =
        auth.ok && auth.identity.method !== "none"
          ? `principal:${auth.identity.principal}`
          : `address:${req.socket.remoteAddress ?? "unknown"}`;
      const decision = limiter.take(key);
      if (!decision.allowed) {
        return refuse({
          status: 429,
          type: "RATE_LIMITED",
          message: `Too many requests; retry in ${decision.retryAfterSeconds} s (limit ${describeRateLimit(limiter.limit)}; PIGEONHOLE_RATE_LIMIT).`,
          data: { status: 429, retry_after_seconds: decision.retryAfterSeconds },
          headers: { "retry-after": String(decision.retryAfterSeconds) },
        });
      }
    }
    if (!auth.ok) return refuse(auth.failure);

    const route = rpc ? undefined : routes.find((r) => path.startsWith(r.prefix));
    if (!rpc && !route) {
      return refuse({
        status: 404,
        type: "NOT_FOUND",
        message: `Nothing at ${path}; the MCP endpoint is /mcp.`,
      });
    }
    let body: unknown;
    if (BODY_METHODS.has(req.method ?? "")) {
      const read = await readJsonBody(req, security.maxBodyBytes);
      // Mounted routes take JSON only (checked after the size limit, before a parse error could hide it);
      // /mcp leaves the check to the MCP transport, which answers in JSON-RPC.
      const type = req.headers["content-type"];
      if (route && !isJsonMediaType(type) && (read.ok || read.failure.status !== 413)) {
        return refuse({
          status: 415,
          type: "INVALID_ARGUMENT",
          message: `The request body must be JSON: send Content-Type: application/json (got ${type ?? "none"}).`,
          data: { status: 415, content_type: type ?? null },
        });
      }
      if (!read.ok) return refuse(read.failure);
      body = read.value;
      if (rpc && body === undefined) {
        return refuse({
          status: 400,
          type: "INVALID_ARGUMENT",
          message: "Parse error: the request body is empty; send a JSON-RPC message.",
          rpcCode: -32700,
        });
      }
    }
    if (route) return route.handle(req, res, { identity: auth.identity, url, body });
    return mcp.handle(req, res, auth.identity, body);
  }

  const http = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const who: { principal?: string } = {};
    // Only the path: a query string or header could carry a credential.
    res.once("close", () => {
      log.info("http request", {
        method: req.method,
        path: url.pathname,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        principal: who.principal,
      });
    });
    handle(req, res, url, who).catch((error: unknown) => {
      log.error("http request failed", {
        method: req.method,
        path: url.pathname,
        reason: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) {
        sendFailure(
          res,
          { status: 500, type: "INTERNAL", message: "Internal error in the Pigeonhole server; see its log." },
          url.pathname === "/mcp",
        );
      } else res.end();
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
      await mcp.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    })();
    return closing;
  };
  return { url, port, close };
}

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { ServerRuntime } from "../mcp/runtime.js";
import { createMcpSession } from "../mcp/server.js";
import type { RequestIdentity } from "./auth.js";
import { type HttpFailure, sendFailure } from "./reply.js";
import { DEFAULT_SESSION_LIMITS, type SessionLimits, type SessionStats, SessionTable } from "./sessions.js";

/**
 * Streamable HTTP at `/mcp` with stateful sessions: one MCP server per session, all sharing the runtime.
 * A session keeps the identity (principal and role) it was initialized with; a request on it with any
 * other identity is refused, so a session id that leaks cannot be used with another credential.
 * Sessions idle too long, or evicted to make room under the session limit, are closed (see sessions.ts);
 * their id then gets the same 404 as any unknown session.
 */

interface McpHttpSession {
  transport: StreamableHTTPServerTransport;
  server: Server;
  identity: RequestIdentity;
}

/** The `/mcp` endpoint: its session table and request handling. */
export class McpEndpoint {
  private readonly sessions: SessionTable<McpHttpSession>;

  constructor(
    private readonly runtime: ServerRuntime,
    limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {
    // Closing the SDK server closes its transport (and its open streams), and its onclose releases the
    // session's subscriptions; the session's identity binding goes with the server.
    this.sessions = new SessionTable(limits, ({ server }) => server.close(), runtime.log);
  }

  /**
   * Serve one `/mcp` request from an authenticated caller. `body` is the already read and parsed JSON of
   * a POST (the transport never reads the request stream itself); `undefined` for GET and DELETE.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    identity: RequestIdentity,
    body: unknown,
  ): Promise<void> {
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId === "string") {
      const entry = this.sessions.get(sessionId);
      if (!entry) {
        return refuse(
          res,
          404,
          "NOT_FOUND",
          "Session not found; start a new session with an initialize request",
          -32001,
        );
      }
      const session = entry.value;
      if (session.identity.principal !== identity.principal || session.identity.role !== identity.role) {
        return refuse(
          res,
          403,
          "PERMISSION_DENIED",
          "This MCP session belongs to another credential; use the credential that initialized it, or initialize a new session.",
        );
      }
      this.sessions.track(entry.activity, res);
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== "POST") {
      return refuse(
        res,
        400,
        "INVALID_ARGUMENT",
        "Mcp-Session-Id header required; initialize a session first",
      );
    }
    const initialize = Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
    const slot = initialize ? await this.sessions.reserve() : undefined;
    if (initialize && !slot) {
      const { maxSessions } = this.sessions.limits;
      return refuse(
        res,
        503,
        "BUSY",
        `The server already holds its limit of ${maxSessions} MCP sessions and every one is busy; retry later, end unused sessions (DELETE /mcp), or raise the limit with --max-sessions or PIGEONHOLE_MAX_SESSIONS.`,
      );
    }
    try {
      await this.open(req, res, identity, body);
    } finally {
      slot?.release();
    }
  }

  /** Serve a POST without a session id: an initialize request opens a session, anything else is refused. */
  private async open(
    req: IncomingMessage,
    res: ServerResponse,
    identity: RequestIdentity,
    body: unknown,
  ): Promise<void> {
    const activity = this.sessions.newActivity();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.add(id, { transport, server, identity }, identity.principal, activity);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    const agentHeader = req.headers["x-agent-name"];
    const { server } = createMcpSession(this.runtime, {
      defaultAgent: typeof agentHeader === "string" && agentHeader !== "" ? agentHeader : undefined,
      principal: identity.principal,
      role: identity.role,
    });
    await server.connect(transport);
    this.sessions.track(activity, res);
    await transport.handleRequest(req, res, body);
    // Not an initialize request: the transport answered with an error and no session exists to keep.
    if (!transport.sessionId) await server.close();
  }

  /** Live session count, limits, and sessions expired, evicted and refused since start (for `/health`). */
  stats(): SessionStats {
    return this.sessions.stats();
  }

  /** Close every session. */
  async close(): Promise<void> {
    await this.sessions.closeAll();
  }
}

function refuse(
  res: ServerResponse,
  status: number,
  type: HttpFailure["type"],
  message: string,
  rpcCode?: number,
): void {
  sendFailure(res, { status, type, message, data: { status }, ...(rpcCode ? { rpcCode } : {}) }, true);
}

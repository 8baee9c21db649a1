import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { ServerRuntime } from "../mcp/runtime.js";
import { createMcpSession } from "../mcp/server.js";
import type { RequestIdentity } from "./auth.js";
import { type HttpFailure, sendFailure } from "./reply.js";

/**
 * Streamable HTTP at `/mcp` with stateful sessions: one MCP server per session, all sharing the runtime.
 * A session keeps the identity (principal and role) it was initialized with; a request on it with any
 * other identity is refused, so a session id that leaks cannot be used with another credential.
 */

interface McpHttpSession {
  transport: StreamableHTTPServerTransport;
  server: Server;
  identity: RequestIdentity;
}

/** The `/mcp` endpoint: its session table and request handling. */
export class McpEndpoint {
  private readonly sessions = new Map<string, McpHttpSession>();

  constructor(private readonly runtime: ServerRuntime) {}

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
      const session = this.sessions.get(sessionId);
      if (!session) {
        return refuse(
          res,
          404,
          "NOT_FOUND",
          "Session not found; start a new session with an initialize request",
          -32001,
        );
      }
      if (session.identity.principal !== identity.principal || session.identity.role !== identity.role) {
        return refuse(
          res,
          403,
          "PERMISSION_DENIED",
          "This MCP session belongs to another credential; use the credential that initialized it, or initialize a new session.",
        );
      }
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
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server, identity });
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
    await transport.handleRequest(req, res, body);
    // Not an initialize request: the transport answered with an error and no session exists to keep.
    if (!transport.sessionId) await server.close();
  }

  /** Close every session. */
  async close(): Promise<void> {
    for (const { server } of [...this.sessions.values()]) await server.close();
    this.sessions.clear();
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

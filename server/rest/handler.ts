import type { IncomingMessage, ServerResponse } from "node:http";
import { fail, isPigeonholeError, PigeonholeError } from "../../engine/index.js";
import { findTool, inputJsonSchema } from "../mcp/catalog.js";
import { dispatchTool } from "../mcp/dispatch.js";
import type { ServerRuntime } from "../mcp/runtime.js";
import { type Role, SessionContext } from "../mcp/session.js";
import type { ToolSpec } from "../mcp/tool-spec.js";
import { bodyArgs, DEFAULT_MAX_BODY_BYTES, queryArgs, readJsonBody } from "./args.js";
import { REST_ROUTES, routeAt } from "./routes.js";
import { HttpProblem, httpProblem, STATUS_BY_CODE } from "./status.js";

/**
 * The REST API under `/v1`: JSON in, JSON out, for scripts and hooks that do not speak MCP. Each endpoint
 * is one tool run through `dispatchTool`, so validation, identity, roles, errors and metrics are exactly
 * those of MCP. A request is a session of its own: nothing is remembered between requests.
 */

/** Who is calling, as established by the HTTP layer (authentication) before the request reaches REST. */
export interface RequestIdentity {
  /** `reader` may run read-only endpoints only; `writer` may run all. */
  role: Role;
  /** Stable label of the caller for logs and rate limits (token subject, "http", ...). */
  principal: string;
  /** Agent used when a request omits agent_name/sender_name, bound to the request (`X-Agent-Name`). */
  defaultAgent?: string;
}

/** What `handleRest` needs from the server. */
export interface RestContext {
  runtime: ServerRuntime;
  identity: RequestIdentity;
  /** Cap on a JSON request body in bytes (default `DEFAULT_MAX_BODY_BYTES`). */
  maxBodyBytes?: number;
}

/**
 * Answer one request whose path is `/v1` or below it. Never throws: every failure is answered with its
 * status and the canonical body `{error:{type, message, recoverable, data}}`.
 */
export async function handleRest(req: IncomingMessage, res: ServerResponse, ctx: RestContext): Promise<void> {
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/v1" || url.pathname === "/v1/") {
      allowMethod(req, "GET");
      return sendJson(res, 200, describeApi());
    }
    const route = routeAt(url.pathname);
    const tool = route && findTool(route.tool);
    if (!route || !tool) {
      throw fail.notFound(`No REST endpoint at ${url.pathname}; GET /v1 lists the endpoints.`, {
        path: url.pathname,
      });
    }
    allowMethod(req, route.method);
    let args: Record<string, unknown>;
    if (route.method === "GET") {
      args = queryArgs(tool, url.searchParams);
    } else {
      if ([...url.searchParams.keys()].length > 0) {
        throw fail.invalid(
          `${route.method} ${route.path} reads its arguments from the JSON body, not the query string.`,
        );
      }
      args = bodyArgs(tool, await readJsonBody(req, ctx.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
    }
    const headerToken = req.headers["x-agent-token"];
    if (typeof headerToken === "string" && headerToken !== "" && args.sender_token === undefined) {
      args.agent_token ??= headerToken;
    }
    const outcome = await runTool(ctx, tool, args);
    if (outcome.ok) return sendJson(res, 200, outcome.value);
    const { error } = outcome.value as { error: { type: keyof typeof STATUS_BY_CODE } };
    const status = STATUS_BY_CODE[error.type] ?? 500;
    return sendJson(res, status, outcome.value, status === 503 ? { "retry-after": "1" } : {});
  } catch (error) {
    if (error instanceof HttpProblem) {
      return sendJson(res, error.status, error.error.toJSON(), error.headers);
    }
    if (isPigeonholeError(error)) return sendJson(res, STATUS_BY_CODE[error.code], error.toJSON());
    // Reading the request failed (the client hung up, ...): log it, answer if the socket still can.
    ctx.runtime.log.error(
      `REST ${req.method} ${req.url}: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (res.headersSent) return void res.end();
    const internal = new PigeonholeError("INTERNAL", "Internal error in the Pigeonhole server; see its log.");
    return sendJson(res, 500, internal.toJSON());
  }
}

/** One tool call with a fresh, stateless session carrying the request's identity. */
function runTool(ctx: RestContext, tool: ToolSpec, args: Record<string, unknown>) {
  const { runtime, identity } = ctx;
  const session = new SessionContext({
    role: identity.role,
    principal: identity.principal,
    identityMode: runtime.identityMode,
    // A REST answer is the tool's result alone; a hook that wants counts asks /v1/peek.
    unreadNotice: false,
    ...(identity.defaultAgent ? { defaultAgent: identity.defaultAgent } : {}),
  });
  return dispatchTool(tool, args, { mailbox: runtime.mailbox, session, log: runtime.log }, runtime.metrics);
}

function allowMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) {
    throw httpProblem(
      405,
      `${req.method} is not allowed here; use ${method}.`,
      { method: req.method, allow: [method] },
      { allow: method },
    );
  }
}

/** `GET /v1`: every endpoint with its tool and the JSON Schema of its parameters. */
function describeApi(): unknown {
  return {
    endpoints: REST_ROUTES.map((route) => {
      const tool = findTool(route.tool);
      return {
        method: route.method,
        path: route.path,
        tool: route.tool,
        description: tool?.description ?? "",
        access: tool?.access,
        parameters: tool ? inputJsonSchema(tool) : {},
      };
    }),
    identity:
      "Act as an agent by passing its registration_token as sender_token/agent_token, or in an X-Agent-Token header.",
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

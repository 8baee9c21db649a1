import type { IncomingMessage, ServerResponse } from "node:http";
import { fail, isPigeonholeError, PigeonholeError } from "../../engine/index.js";
import { sendFailure, sendJson } from "../http/reply.js";
import type { HttpRoute, RouteContext } from "../http.js";
import { findTool, inputJsonSchema } from "../mcp/catalog.js";
import { dispatchTool } from "../mcp/dispatch.js";
import type { ServerRuntime } from "../mcp/runtime.js";
import { SessionContext } from "../mcp/session.js";
import type { ToolSpec } from "../mcp/tool-spec.js";
import { bodyArgs, queryArgs } from "./args.js";
import { REST_ROUTES, routeAt } from "./routes.js";
import { STATUS_BY_CODE } from "./status.js";

/**
 * The REST API under `/v1`: JSON in, JSON out, for scripts and hooks that do not speak MCP. Each endpoint
 * is one tool run through `dispatchTool`, so validation, identity, roles, errors and metrics are exactly
 * those of MCP. A request is a session of its own: nothing is remembered between requests.
 */

/** What `handleRest` works with: the server's runtime plus what the HTTP layer established. */
export interface RestContext extends RouteContext {
  runtime: ServerRuntime;
}

/**
 * The REST API as a route of the HTTP server (`startHttpServer({routes})`). The server has already checked
 * Host/Origin, credentials, the rate limit and the JSON content type, and read the body.
 */
export function restRoute(runtime: ServerRuntime): HttpRoute {
  return { prefix: "/v1", handle: (req, res, ctx) => handleRest(req, res, { ...ctx, runtime }) };
}

/**
 * Answer one request whose path starts with `/v1`. Never throws: every failure is answered with its
 * status and the canonical body `{error:{type, message, recoverable, data}}`.
 */
export async function handleRest(req: IncomingMessage, res: ServerResponse, ctx: RestContext): Promise<void> {
  const path = ctx.url.pathname;
  try {
    if (path === "/v1" || path === "/v1/") {
      if (req.method !== "GET") return wrongMethod(req, res, "GET");
      return sendJson(res, 200, describeApi());
    }
    const route = routeAt(path);
    const tool = route && findTool(route.tool);
    if (!route || !tool) {
      throw fail.notFound(`No REST endpoint at ${path}; GET /v1 lists the endpoints.`, { path });
    }
    if (req.method !== route.method) return wrongMethod(req, res, route.method);
    let args: Record<string, unknown>;
    if (route.method === "GET") {
      args = queryArgs(tool, ctx.url.searchParams);
    } else {
      if ([...ctx.url.searchParams.keys()].length > 0) {
        throw fail.invalid(
          `${route.method} ${route.path} reads its arguments from the JSON body, not the query string.`,
        );
      }
      args = bodyArgs(tool, ctx.body);
    }
    const headerToken = req.headers["x-agent-token"];
    if (typeof headerToken === "string" && headerToken !== "" && args.sender_token === undefined) {
      args.agent_token ??= headerToken;
    }
    const outcome = await runTool(req, ctx, tool, args);
    if (outcome.ok) return sendJson(res, 200, outcome.value);
    const { error } = outcome.value as { error: { type: keyof typeof STATUS_BY_CODE } };
    const status = STATUS_BY_CODE[error.type] ?? 500;
    return sendJson(res, status, outcome.value, status === 503 ? { "retry-after": "1" } : {});
  } catch (error) {
    if (isPigeonholeError(error)) return sendJson(res, STATUS_BY_CODE[error.code], error.toJSON());
    ctx.runtime.log.error("REST request failed", {
      method: req.method,
      path,
      reason: error instanceof Error ? error.message : String(error),
    });
    if (res.headersSent) return void res.end();
    const internal = new PigeonholeError("INTERNAL", "Internal error in the Pigeonhole server; see its log.");
    return sendJson(res, 500, internal.toJSON());
  }
}

/**
 * One tool call with a fresh, stateless session carrying the caller's role and principal. `X-Agent-Name`
 * names the default agent, as on `/mcp`; it does not vouch for it, so acting as it still needs its token.
 */
function runTool(req: IncomingMessage, ctx: RestContext, tool: ToolSpec, args: Record<string, unknown>) {
  const { runtime, identity } = ctx;
  const agent = req.headers["x-agent-name"];
  const session = new SessionContext({
    role: identity.role,
    principal: identity.principal,
    identityMode: runtime.identityMode,
    // A REST answer is the tool's result alone; a hook that wants counts asks /v1/peek.
    unreadNotice: false,
    ...(typeof agent === "string" && agent !== "" ? { defaultAgent: agent } : {}),
  });
  return dispatchTool(tool, args, { mailbox: runtime.mailbox, session, log: runtime.log }, runtime.metrics);
}

function wrongMethod(req: IncomingMessage, res: ServerResponse, allowed: string): void {
  sendFailure(
    res,
    {
      status: 405,
      type: "INVALID_ARGUMENT",
      message: `${req.method} is not allowed here; use ${allowed}.`,
      data: { method: req.method, allow: [allowed] },
      headers: { allow: allowed },
    },
    false,
  );
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
      "Act as an agent by passing its registration_token in an X-Agent-Token header, or as sender_token/agent_token.",
  };
}

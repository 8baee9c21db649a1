import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * CORS for origins that passed the allow-list (`hosts.ts`): browser-based MCP clients (an inspector on
 * localhost, a page listed in PIGEONHOLE_ALLOWED_ORIGINS) can call the server directly. Only an origin
 * already allowed is ever echoed, so CORS opens nothing the allow-list does not.
 */

const ALLOWED_HEADERS =
  "authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id, x-agent-name";
const EXPOSED_HEADERS = "mcp-session-id, mcp-protocol-version, www-authenticate, retry-after";

/**
 * Add CORS headers to `res` when `req` carries an (allowed) Origin. Returns true when the request was a
 * preflight and has been answered (204), so the caller must not handle it further.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "origin");
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined) return false;
  res.writeHead(204, {
    "access-control-allow-methods": "GET, POST, DELETE",
    "access-control-allow-headers": ALLOWED_HEADERS,
    "access-control-max-age": "600",
  });
  res.end();
  return true;
}

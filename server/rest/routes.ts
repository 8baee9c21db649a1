/**
 * The REST endpoints under `/v1`: each is one MCP tool, reached by one method. The server routes with this
 * table and the CLI client builds its requests from it, so the two cannot disagree on a path or a method.
 */

/** One REST endpoint: `method path` runs `tool` with the query string (GET) or JSON body (POST) as arguments. */
export interface RestRoute {
  method: "GET" | "POST";
  path: string;
  tool: string;
}

/** Every `/v1` endpoint, in the order `GET /v1` lists them. */
export const REST_ROUTES: readonly RestRoute[] = [
  { method: "POST", path: "/v1/send", tool: "send_message" },
  { method: "GET", path: "/v1/inbox", tool: "fetch_inbox" },
  { method: "GET", path: "/v1/peek", tool: "peek_inbox" },
  { method: "GET", path: "/v1/agents", tool: "list_agents" },
  { method: "POST", path: "/v1/read", tool: "mark_message_read" },
  { method: "POST", path: "/v1/ack", tool: "acknowledge_message" },
];

/** The endpoint at `path` (a trailing slash is ignored), if any. */
export function routeAt(path: string): RestRoute | undefined {
  const normalized = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return REST_ROUTES.find((route) => route.path === normalized);
}

/** The endpoint that runs `tool`; throws for a tool the REST API does not offer (a programming error). */
export function routeFor(tool: string): RestRoute {
  const route = REST_ROUTES.find((r) => r.tool === tool);
  if (!route) throw new Error(`no REST endpoint runs ${tool}`);
  return route;
}

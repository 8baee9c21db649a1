import type { ServerResponse } from "node:http";
import { type ErrorCode, PigeonholeError } from "../../engine/index.js";

/**
 * How the HTTP layer answers with an error. Two envelopes, one content: on `/mcp` a JSON-RPC error
 * (`{jsonrpc, id: null, error: {code, message, data: {type, ...}}}`), because MCP clients parse that;
 * everywhere else the shape tool errors, REST and the CLI share (`{error: {type, message, recoverable,
 * data}}`). Either way the message says what to do next.
 */

/** One HTTP-level refusal: the status, the stable error type and a message saying how to fix it. */
export interface HttpFailure {
  status: number;
  type: ErrorCode;
  message: string;
  data?: Record<string, unknown>;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`, ...). */
  headers?: Record<string, string>;
  /** JSON-RPC error code on `/mcp`; -32000 (server error) unless set, -32700 for a parse error. */
  rpcCode?: number;
}

/** Write `body` as JSON with `status`; the response is finished afterwards. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Answer with `failure` in the envelope the endpoint's clients expect (`rpc` for `/mcp`). */
export function sendFailure(res: ServerResponse, failure: HttpFailure, rpc: boolean): void {
  const error = new PigeonholeError(failure.type, failure.message, failure.data ?? {});
  const body = rpc
    ? {
        jsonrpc: "2.0",
        id: null,
        error: {
          code: failure.rpcCode ?? -32000,
          message: failure.message,
          data: { type: failure.type, ...failure.data },
        },
      }
    : error.toJSON();
  sendJson(res, failure.status, body, failure.headers);
}

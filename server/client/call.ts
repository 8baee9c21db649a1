import { ERROR_CODES, type ErrorCode, openMailbox, PigeonholeError } from "../../engine/index.js";
import { stderrLogger } from "../log.js";
import { findTool } from "../mcp/catalog.js";
import { dispatchTool, type ToolOutcome } from "../mcp/dispatch.js";
import { ToolMetrics } from "../mcp/metrics.js";
import { SessionContext } from "../mcp/session.js";
import { routeFor } from "../rest/routes.js";

/**
 * The one way the CLI client commands run a tool: against a running server through the REST API, or
 * straight against a local mailbox through the same dispatcher the server uses. Both give back the
 * tool's JSON result, or throw the tool's `PigeonholeError`, so a command never knows which it talked to.
 */

/** Where a client command runs its tool. */
export type ClientTarget =
  | {
      kind: "remote";
      /** Base URL of `pigeonhole serve`, e.g. `http://127.0.0.1:8765`. */
      url: string;
      /** Sent as `Authorization: Bearer` (PIGEONHOLE_TOKEN). */
      token?: string;
      /** The acting agent's registration token, sent as `X-Agent-Token`. */
      agentToken?: string;
    }
  | {
      kind: "local";
      /** Mailbox directory (default: PIGEONHOLE_HOME or ~/.pigeonhole). */
      home?: string;
      agentToken?: string;
    };

/** Run `tool` with `args` at `target` and return its result; a tool failure is thrown as `PigeonholeError`. */
export async function runClientTool(
  target: ClientTarget,
  tool: string,
  args: Record<string, unknown>,
): Promise<unknown> {
  return target.kind === "local" ? runLocal(target, tool, args) : runRemote(target, tool, args);
}

/**
 * The local user owns the mailbox file, so the session uses `open` identity: acting as any agent needs no
 * token (a token still given is checked and reported as `verified_sender`).
 */
async function runLocal(
  target: Extract<ClientTarget, { kind: "local" }>,
  tool: string,
  args: Record<string, unknown>,
): Promise<unknown> {
  const spec = findTool(tool);
  if (!spec) throw new Error(`unknown tool ${tool}`);
  const mailbox = openMailbox(target.home === undefined ? {} : { home: target.home });
  try {
    const session = new SessionContext({ identityMode: "open", principal: "cli", unreadNotice: false });
    const outcome = await dispatchTool(
      spec,
      target.agentToken ? { ...args, agent_token: target.agentToken } : args,
      { mailbox, session, log: stderrLogger() },
      new ToolMetrics(),
    );
    return resultOf(outcome);
  } finally {
    await mailbox.close();
  }
}

function resultOf(outcome: ToolOutcome): unknown {
  if (outcome.ok) return outcome.value;
  const { error } = outcome.value as {
    error: { type: ErrorCode; message: string; data: Record<string, unknown> };
  };
  throw new PigeonholeError(error.type, error.message, error.data);
}

async function runRemote(
  target: Extract<ClientTarget, { kind: "remote" }>,
  tool: string,
  args: Record<string, unknown>,
): Promise<unknown> {
  const route = routeFor(tool);
  const url = new URL(`${target.url.replace(/\/+$/, "")}${route.path}`);
  const headers: Record<string, string> = { accept: "application/json" };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  // A header, not a query parameter: tokens in URLs end up in proxy and server logs.
  if (target.agentToken) headers["x-agent-token"] = target.agentToken;
  let body: string | undefined;
  if (route.method === "GET") {
    for (const [name, value] of Object.entries(args)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
    }
  } else {
    headers["content-type"] = "application/json";
    body = JSON.stringify(args);
  }
  let res: Response;
  try {
    res = await fetch(url, { method: route.method, headers, ...(body === undefined ? {} : { body }) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new PigeonholeError(
      "BUSY",
      `Cannot reach the Pigeonhole server at ${target.url} (${cause?.code ?? cause?.message ?? String(error)}); is \`pigeonhole serve\` running there?`,
      { url: target.url },
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.ok && parsed !== undefined) return parsed;
  throw remoteFailure(res.status, parsed, text);
}

/**
 * The server's error as a `PigeonholeError`: its canonical body when it sent one, else (a proxy, an
 * authentication layer) a code chosen from the HTTP status and whatever message came with it.
 */
function remoteFailure(status: number, parsed: unknown, text: string): PigeonholeError {
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (error && typeof error === "object") {
    const { type, message, data } = error as {
      type?: string;
      message?: string;
      data?: Record<string, unknown>;
    };
    if (type && type in ERROR_CODES && typeof message === "string") {
      return new PigeonholeError(type as ErrorCode, message, data ?? {});
    }
  }
  const detail = typeof error === "string" ? error : text.trim().slice(0, 200) || "no details";
  return new PigeonholeError(codeForStatus(status), `The server answered HTTP ${status}: ${detail}`, {
    status,
  });
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "PERMISSION_DENIED";
  if (status === 404) return "NOT_FOUND";
  if (status === 409) return "CONFLICT";
  if (status === 413) return "TOO_LARGE";
  if (status === 429) return "RATE_LIMITED";
  if (status === 503) return "BUSY";
  if (status >= 400 && status < 500) return "INVALID_ARGUMENT";
  return "INTERNAL";
}

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  fetchInbox,
  isPigeonholeError,
  type Mailbox,
  openMailbox,
  peekInbox,
  searchMessages,
  sendMessage,
} from "../../engine/index.js";
import type { AgentCredential, Channel } from "./protocol.js";

/**
 * One way of calling a tool as an agent, for the stress workers: MCP over Streamable HTTP (the SDK's
 * client), the REST API, or the engine in-process. Every outcome is classified the same way, so the
 * runner can tell a stored message from a refused one and from one whose fate the caller cannot know.
 */

/** The outcome of one call. */
export type CallOutcome =
  | { ok: true; value: unknown }
  /**
   * `code` is the engine's error code, a transport failure (see `classifyTransportError`), `PROTOCOL`
   * for an MCP error, or `EXCEPTION` for anything else thrown in-process. `inDoubt` is true when the request may have reached the server and been
   * carried out before the connection died.
   */
  | { ok: false; code: string; inDoubt: boolean };

/** Calls tools as one agent. */
export interface ToolCaller {
  call(tool: string, args: Record<string, unknown>): Promise<CallOutcome>;
  close(): Promise<void>;
}

/** A backstop only: a server kill breaks the connection long before this. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Build the caller for `channel` acting as `agent` (its token goes with every call). */
export function createCaller(
  channel: Channel,
  agent: AgentCredential,
  target: { url: string; home: string },
): ToolCaller {
  if (channel === "mcp") return new McpCaller(target.url, agent);
  if (channel === "rest") return new RestCaller(target.url, agent);
  return new EngineCaller(target.home);
}

/** The engine's error code carried by a tool error body, if any. */
function errorType(body: unknown): string | undefined {
  const type = (body as { error?: { type?: unknown } } | null)?.error?.type;
  return typeof type === "string" ? type : undefined;
}

/** Was the connection refused outright (nothing reached the server), per undici's error cause chain? */
function refused(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "ECONNREFUSED") return true;
    if (e instanceof AggregateError && e.errors.some(refused)) return true;
  }
  return false;
}

/**
 * MCP over Streamable HTTP with one SDK client session. A transport failure drops the session; the next
 * call opens a new one (the token re-binds the agent), which is how an agent survives a server restart.
 */
class McpCaller implements ToolCaller {
  private session?: { client: Client; broken: Promise<never> };

  constructor(
    private readonly url: string,
    private readonly agent: AgentCredential,
  ) {}

  private async connect(): Promise<{ client: Client; broken: Promise<never> }> {
    const transport = new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), {
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 100,
        maxReconnectionDelay: 100,
        reconnectionDelayGrowFactor: 1,
      },
    });
    // A response stream cut by a server kill is reported here, not to the pending request, which would
    // otherwise wait for its timeout: the broken promise fails it at once.
    let fail!: (error: Error) => void;
    const broken = new Promise<never>((_, reject) => {
      fail = reject;
    });
    broken.catch(() => {});
    transport.onerror = (error) => fail(error);
    const client = new Client({ name: `stress-${this.agent.name}`, version: "1.0.0" });
    await client.connect(transport);
    return { client, broken };
  }

  async call(tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
    let sent = false;
    try {
      this.session ??= await this.connect();
      const { client, broken } = this.session;
      sent = true;
      const result = (await Promise.race([
        client.callTool({ name: tool, arguments: { ...args, sender_token: this.agent.token } }, undefined, {
          timeout: REQUEST_TIMEOUT_MS,
        }),
        broken,
      ])) as CallToolResult;
      const first = result.content[0];
      const value: unknown = first?.type === "text" ? JSON.parse(first.text) : undefined;
      if (result.isError) return { ok: false, code: errorType(value) ?? "PROTOCOL", inDoubt: false };
      return { ok: true, value };
    } catch (error) {
      await this.drop();
      return { ok: false, ...classifyTransportError(error, sent) };
    }
  }

  private async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.client.close().catch(() => {});
  }

  close(): Promise<void> {
    return this.drop();
  }
}

/**
 * Name a failure outside the tool: `SERVER_DOWN` (connection refused: nothing reached a server),
 * `SESSION_GONE` (a restarted server does not know the session), `TIMEOUT`, or `CONNECTION_LOST` (the
 * connection died after the request may have been carried out).
 */
function classifyTransportError(error: unknown, sent: boolean): { code: string; inDoubt: boolean } {
  const status = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (status === 404 || /session not found/i.test(message)) return { code: "SESSION_GONE", inDoubt: false };
  if (refused(error)) return { code: "SERVER_DOWN", inDoubt: false };
  if (/timed out|timeout/i.test(message)) return { code: "TIMEOUT", inDoubt: sent };
  return { code: "CONNECTION_LOST", inDoubt: sent };
}

/** The REST API: `POST /v1/send` and friends, the token in `X-Agent-Token`. */
class RestCaller implements ToolCaller {
  constructor(
    private readonly url: string,
    private readonly agent: AgentCredential,
  ) {}

  async call(tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const route = REST_PATHS[tool];
    if (!route) throw new Error(`the REST API has no endpoint for ${tool}`);
    const headers = { "x-agent-token": this.agent.token, "content-type": "application/json" };
    let response: Response;
    try {
      const query = new URLSearchParams(
        Object.entries(args).map(([k, v]) => [k, String(v)] as [string, string]),
      ).toString();
      response = await fetch(
        route.method === "GET" ? `${this.url}${route.path}?${query}` : this.url + route.path,
        {
          method: route.method,
          headers,
          body: route.method === "POST" ? JSON.stringify(args) : undefined,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        },
      );
    } catch (error) {
      return { ok: false, ...classifyTransportError(error, true) };
    }
    let value: unknown;
    try {
      value = await response.json();
    } catch (error) {
      // Headers arrived, the body did not: the server died while answering.
      return { ok: false, ...classifyTransportError(error, true) };
    }
    if (response.ok) return { ok: true, value };
    return { ok: false, code: errorType(value) ?? `HTTP_${response.status}`, inDoubt: false };
  }

  async close(): Promise<void> {}
}

const REST_PATHS: Record<string, { method: "GET" | "POST"; path: string }> = {
  send_message: { method: "POST", path: "/v1/send" },
  fetch_inbox: { method: "GET", path: "/v1/inbox" },
  peek_inbox: { method: "GET", path: "/v1/peek" },
};

/** Direct engine access on the same home, as a CLI or a second server process has it. */
class EngineCaller implements ToolCaller {
  private readonly mailbox: Mailbox;

  constructor(home: string) {
    this.mailbox = openMailbox({ home });
  }

  async call(tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const operation = ENGINE_OPERATIONS[tool];
    if (!operation) throw new Error(`no engine operation for ${tool}`);
    try {
      return { ok: true, value: await operation(this.mailbox, args) };
    } catch (error) {
      return { ok: false, code: isPigeonholeError(error) ? error.code : "EXCEPTION", inDoubt: false };
    }
  }

  close(): Promise<void> {
    return this.mailbox.close();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: arguments are checked by each operation's own schema.
const ENGINE_OPERATIONS: Record<string, (mb: Mailbox, args: any) => unknown> = {
  send_message: sendMessage,
  fetch_inbox: fetchInbox,
  peek_inbox: peekInbox,
  search_messages: searchMessages,
};

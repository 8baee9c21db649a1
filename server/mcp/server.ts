import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { parseInput } from "../../engine/index.js";
import { PACKAGE } from "../version.js";
import {
  CALL_EXTENDED_TOOL,
  CallExtendedToolInput,
  findTool,
  inputJsonSchema,
  toolsForProfile,
} from "./catalog.js";
import { installCompletionHandler } from "./completions.js";
import { dispatchTool, type ToolOutcome } from "./dispatch.js";
import { installPromptHandlers } from "./prompts.js";
import { installResourceHandlers } from "./resource-handlers.js";
import type { ServerRuntime } from "./runtime.js";
import { SessionContext, type SessionOptions } from "./session.js";
import type { ToolContext } from "./tool-spec.js";

/** One MCP session's server and its identity state. */
export interface McpSession {
  server: Server;
  context: SessionContext;
}

/**
 * Build the MCP server for one session (an SDK server holds one transport). All sessions share the
 * runtime (mailbox, metrics); identity binding is per session.
 */
export function createMcpSession(runtime: ServerRuntime, options: SessionOptions = {}): McpSession {
  const context = new SessionContext({
    identityMode: runtime.identityMode,
    unreadNotice: runtime.unreadNotice,
    ...options,
  });
  const server = new Server(
    { name: PACKAGE.name, version: PACKAGE.version },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { subscribe: true, listChanged: false },
        prompts: { listChanged: false },
        completions: {},
        // The SDK answers logging/setLevel itself and filters what sendLoggingMessage sends by that level.
        logging: {},
      },
      instructions:
        "Pigeonhole: mail for coding agents. Register (register_agent or macro_start_session), check your inbox, reserve files before editing, release them when done.",
    },
  );
  const toolContext: ToolContext = { mailbox: runtime.mailbox, session: context, log: runtime.log };
  const listed = toolsForProfile(runtime.profile);

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: listed.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: inputJsonSchema(tool) as { type: "object" },
      annotations: { title: tool.title, readOnlyHint: tool.access === "read", openWorldHint: false },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args } = request.params;
    const outcome = await callTool(runtime, toolContext, name, args);
    if (!outcome.ok && errorCode(outcome.value) === "INTERNAL") {
      // The client sees the generic INTERNAL result; its log view is told which tool failed.
      void server
        .sendLoggingMessage({
          level: "error",
          logger: "pigeonhole",
          data: `tool ${name} failed; see the server log`,
        })
        .catch(() => {});
    }
    return frame(outcome);
  });

  installResourceHandlers(server, runtime, { ...toolContext, metrics: runtime.metrics });
  installPromptHandlers(server);
  installCompletionHandler(server, runtime.mailbox);
  return { server, context };
}

/** Run a tool by name (also through call_extended_tool); unknown names are a protocol error. */
async function callTool(
  runtime: ServerRuntime,
  ctx: ToolContext,
  name: string,
  args: Record<string, unknown> | undefined,
): Promise<ToolOutcome> {
  if (name === CALL_EXTENDED_TOOL.name) {
    let inner: { tool_name: string; arguments: Record<string, unknown> };
    try {
      inner = parseInput(CallExtendedToolInput, args);
    } catch (error) {
      return { ok: false, value: (error as { toJSON(): unknown }).toJSON() };
    }
    if (inner.tool_name === CALL_EXTENDED_TOOL.name) {
      throw new McpError(ErrorCode.InvalidParams, "call_extended_tool cannot call itself");
    }
    return callTool(runtime, ctx, inner.tool_name, inner.arguments);
  }
  const tool = findTool(name);
  if (!tool) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Unknown tool ${JSON.stringify(name)}; tools/list (or list_extended_tools) names them.`,
    );
  }
  return dispatchTool(tool, args, ctx, runtime.metrics);
}

function errorCode(value: unknown): string | undefined {
  return (value as { error?: { type?: string } } | null)?.error?.type;
}

/**
 * Frame an outcome as an MCP result: JSON text plus `structuredContent` (an array result is wrapped as
 * `{result: [...]}` there, since structured content must be an object); the unread notice is a second
 * text block, so result shapes stay as TOOLS.md lists them.
 */
export function frame(outcome: ToolOutcome): CallToolResult {
  const structured = Array.isArray(outcome.value)
    ? { result: outcome.value }
    : (outcome.value as Record<string, unknown>);
  const content: CallToolResult["content"] = [{ type: "text", text: JSON.stringify(outcome.value) }];
  if (outcome.notice) content.push({ type: "text", text: outcome.notice });
  return outcome.ok
    ? { content, structuredContent: structured }
    : { isError: true, content, structuredContent: structured };
}

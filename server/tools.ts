import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { isPigeonholeError, type Mailbox, PigeonholeError } from "../engine/index.js";
import { healthReport } from "./health.js";
import type { Logger } from "./log.js";
import { PACKAGE } from "./version.js";

/**
 * Build one MCP server over `mailbox` with every tool registered. Each transport session gets its own
 * server (an SDK server holds one transport at a time); all of them share the one open mailbox.
 */
export function createMcpServer(mailbox: Mailbox, log: Logger): McpServer {
  const server = new McpServer({ name: PACKAGE.name, version: PACKAGE.version });
  const run = (fn: () => object) => toolResult(fn, log);

  server.registerTool(
    "health_check",
    {
      title: "Health check",
      description:
        "Server and mailbox status: schema version, numbers of projects, agents and messages, whether the Git archive is on and how many archive jobs are pending.",
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    () => run(() => healthReport(mailbox)),
  );

  return server;
}

/**
 * Run a tool body and shape its outcome: a value becomes JSON text plus `structuredContent`; a
 * `PigeonholeError` becomes an `isError` result with the `{error:{type, message, recoverable, data}}` body;
 * anything else is reported as INTERNAL without its stack (which goes to the log instead).
 */
export function toolResult(fn: () => object, log: Logger): CallToolResult {
  try {
    const value = fn() as Record<string, unknown>;
    return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
  } catch (error) {
    let failure: PigeonholeError;
    if (isPigeonholeError(error)) {
      failure = error;
    } else {
      log.error(`tool failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      failure = new PigeonholeError("INTERNAL", "Internal error in the Pigeonhole server; see its log.");
    }
    const body = failure.toJSON();
    return {
      isError: true,
      content: [{ type: "text", text: JSON.stringify(body) }],
      structuredContent: body,
    };
  }
}

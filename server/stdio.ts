import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { ServerRuntime } from "./mcp/runtime.js";
import { createMcpSession } from "./mcp/server.js";

/** An MCP server speaking over this process's stdin and stdout. */
export interface RunningStdioServer {
  /** Resolves when the client hangs up (stdin ends), which is how MCP clients stop a stdio server. */
  ended: Promise<void>;
  /** Close the session. Idempotent. */
  close(): Promise<void>;
}

/** Serve one MCP session over stdio. Nothing else may write to stdout while it runs. */
export async function startStdioServer(
  runtime: ServerRuntime,
  options: { defaultAgent?: string } = {},
): Promise<RunningStdioServer> {
  const { server } = createMcpSession(runtime, { ...options, trustDefaultAgent: true, principal: "stdio" });
  const ended = new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await server.connect(new StdioServerTransport());
  let closing: Promise<void> | undefined;
  return {
    ended,
    close: () => {
      closing ??= server.close();
      return closing;
    },
  };
}

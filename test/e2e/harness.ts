import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { CLI, cliEnv } from "../server/cli-process.js";

/**
 * Real MCP clients of real server processes: a stdio client spawns `pigeonhole serve --transport stdio`
 * (one process per session, as MCP clients do); an HTTP client opens a session on a running server.
 * `closeClients()` (for `afterEach`) closes every client, which ends its stdio server process.
 */

const open: Client[] = [];
const stdioLogs = new WeakMap<Client, () => string>();

/** Spawn `pigeonhole serve --transport stdio --home <home> ...args` and connect a client to it. */
export async function stdioClient(
  home: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "serve", "--transport", "stdio", "--home", home, ...args],
    env: cliEnv(env),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: "e2e", version: "1.0.0" });
  open.push(client);
  stdioLogs.set(client, () => stderr);
  await client.connect(transport);
  return client;
}

/** Open a new session on the Streamable HTTP server at `url` (base URL, without `/mcp`). */
export async function httpClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } });
  const client = new Client({ name: "e2e", version: "1.0.0" });
  open.push(client);
  await client.connect(transport);
  return client;
}

/** The stderr of a stdio client's server process so far ("" for HTTP clients). */
export function serverLog(client: Client): string {
  return stdioLogs.get(client)?.() ?? "";
}

/** Close every client opened here (a stdio server exits when its stdin ends). */
export async function closeClients(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => {})));
}

/** The canonical JSON body of a tool result (its first text block). */
export function body(result: CallToolResult): unknown {
  const first = result.content[0];
  if (first?.type !== "text") throw new Error(`tool result without a text block: ${JSON.stringify(result)}`);
  return JSON.parse(first.text);
}

/** Call a tool that must succeed; returns its JSON body and checks it is also the structured content. */
// biome-ignore lint/suspicious/noExplicitAny: results are checked field by field with expect.
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const value = body(result);
  expect(result.isError, `${name} failed: ${JSON.stringify(value)}`).toBeFalsy();
  expect(result.structuredContent).toEqual(Array.isArray(value) ? { result: value } : value);
  return value;
}

/** Call a tool that must fail with the error `code`; returns the error body's `error`. */
export async function err(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  code: string,
): Promise<{ type: string; message: string; recoverable: boolean; data: unknown }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError, `${name} should have failed with ${code}`).toBe(true);
  const value = body(result) as {
    error: { type: string; message: string; recoverable: boolean; data: unknown };
  };
  expect(value.error).toMatchObject({ type: code, message: expect.any(String) });
  return value.error;
}

/** Read a JSON resource. */
export async function readJson(client: Client, uri: string): Promise<unknown> {
  const result = await client.readResource({ uri });
  const first = result.contents[0] as { text?: string; mimeType?: string } | undefined;
  expect(first?.mimeType).toBe("application/json");
  return JSON.parse(first?.text ?? "null");
}

/** Poll `check` every 50 ms until it returns true; fails after `ms` with `what`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

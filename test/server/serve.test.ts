import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ensureProject,
  openMailbox,
  registerAgent,
  SCHEMA_VERSION,
  sendMessage,
} from "../../engine/index.js";
import { CLI, cliEnv, killAll, runCli, startServe } from "./cli-process.js";

let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "pigeonhole-serve-"));
});

afterEach(async () => {
  await killAll();
  await rm(home, { recursive: true, force: true });
});

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: "serve-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`));
  await client.connect(transport);
  return { client, transport };
}

/** GET `path` with a chosen Host header (fetch does not let a caller set Host). */
function getWithHost(url: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("pigeonhole serve over Streamable HTTP", () => {
  it("answers health_check through the SDK client, reporting the mailbox's real figures", async () => {
    const mb = openMailbox({ home, archive: false });
    const alpha = ensureProject(mb, { human_key: "/work/alpha" });
    ensureProject(mb, { human_key: "/work/beta" });
    const from = registerAgent(mb, { project_key: alpha.slug, program: "test", model: "none" });
    const to = registerAgent(mb, { project_key: alpha.slug, program: "test", model: "none" });
    await sendMessage(mb, {
      project_key: alpha.slug,
      sender_name: from.name,
      to: to.name,
      subject: "s",
      body_md: "b",
    });
    await mb.close();

    const server = await startServe(["--home", home], cliEnv({ PIGEONHOLE_ARCHIVE: "off" }));
    const { client, transport } = await connect(server.url);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain("health_check");

    const result = await client.callTool({ name: "health_check", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      status: "ok",
      schema_version: SCHEMA_VERSION,
      projects: 2,
      agents: 2,
      messages: 1,
      archive_enabled: false,
      archive_jobs_pending: 0,
      archive_ready: true,
    });
    const content = result.content as Array<{ type: string; text: string }>;
    expect(JSON.parse(content[0]?.text ?? "")).toEqual(result.structuredContent);
    await client.close();

    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain("stopped");
    expect(stopped.stdout).toBe("");
  });

  it("keeps one stateful session per client", async () => {
    const server = await startServe(["--home", home]);
    const a = await connect(server.url);
    const b = await connect(server.url);
    expect(a.transport.sessionId).toBeDefined();
    expect(b.transport.sessionId).not.toBe(a.transport.sessionId);
    const [ra, rb] = await Promise.all([
      a.client.callTool({ name: "health_check", arguments: {} }),
      b.client.callTool({ name: "health_check", arguments: {} }),
    ]);
    expect(ra.structuredContent).toMatchObject({ status: "ok", archive_enabled: true });
    expect(rb.structuredContent).toMatchObject({ status: "ok" });

    // A session the client ended is gone: its id is no longer accepted.
    const endedId = a.transport.sessionId as string;
    await a.transport.terminateSession();
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": endedId,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(404);
    await a.client.close();

    // Shutdown does not wait for a client that is still connected.
    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    await b.client.close();
  });

  it("serves GET /health as JSON and refuses foreign Host headers", async () => {
    const server = await startServe(["--home", home]);
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toMatchObject({ status: "ok", schema_version: SCHEMA_VERSION, projects: 0 });

    expect(await getWithHost(server.url, "/health", "attacker.example")).toBe(403);
    expect(await getWithHost(server.url, "/health", "localhost:1234")).toBe(200);
    expect((await fetch(`${server.url}/nothing-here`)).status).toBe(404);
    const noSession = await fetch(`${server.url}/mcp`);
    expect(noSession.status).toBe(400);
  });

  it("refuses a non-loopback --host before touching the mailbox", async () => {
    const run = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--home", home]);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/0\.0\.0\.0.*not a loopback address.*authentication/);
    expect(existsSync(join(home, "mailbox.sqlite3"))).toBe(false);
  });

  it("reports a port already in use as one line", async () => {
    const first = await startServe(["--home", home]);
    const port = new URL(first.url).port;
    const run = await runCli(["serve", "--port", port, "--home", home]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: Port ${port} on 127.0.0.1 is already in use`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("pigeonhole serve --transport stdio", () => {
  it("answers health_check through the SDK client and exits when the client closes", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "serve", "--transport", "stdio", "--home", home],
      env: cliEnv(),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const client = new Client({ name: "serve-test", version: "1.0.0" });
    await client.connect(transport);
    const result = await client.callTool({ name: "health_check", arguments: {} });
    expect(result.structuredContent).toMatchObject({ status: "ok", schema_version: SCHEMA_VERSION });
    const pid = transport.pid;
    expect(pid).toBeTypeOf("number");

    await client.close();
    // The server stops by itself on end of stdin, before the SDK would resort to SIGTERM.
    expect(stderr).toContain("stopped");
    expect(stderr).not.toContain("SIGTERM");
    expect(() => process.kill(pid as number, 0)).toThrow();
  });
});

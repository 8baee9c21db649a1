import { mkdtemp, rm } from "node:fs/promises";
import { type ClientRequest, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { type Mailbox, openMailbox } from "../../engine/index.js";
import { defaultHttpSecurity } from "../../server/http/config.js";
import type { SessionLimits, SessionStats } from "../../server/http/sessions.js";
import { type RunningHttpServer, startHttpServer } from "../../server/http.js";
import type { LogFields, Logger } from "../../server/log.js";
import { createRuntime, type RuntimeOptions, type ServerRuntime } from "../../server/mcp/runtime.js";
import { cliEnv, killAll, runCli, startServe } from "./cli-process.js";
import { connectMcp, INITIALIZE, RPC_HEADERS, rawRequest, seedMailbox } from "./http-fixtures.js";

/**
 * The MCP session lifecycle over real HTTP with the SDK's real client: abandoned sessions expire after the
 * idle timeout, busy ones (an open notification stream) never do, the session cap evicts the longest-idle
 * session or refuses with 503, and an expired id gets the unknown-session 404. Timing is observed only by
 * polling the live count in `GET /health`; no test asserts a duration.
 */

interface Harness {
  url: string;
  mailbox: Mailbox;
  runtime: ServerRuntime;
  logs: Array<{ level: string; message: string; fields?: LogFields }>;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAll();
});

/** A server on a fresh mailbox with these session limits, rate limiting off, and a log kept in memory. */
async function start(sessions: Partial<SessionLimits>, options: RuntimeOptions = {}): Promise<Harness> {
  const home = await mkdtemp(join(tmpdir(), "pigeonhole-sessions-"));
  await seedMailbox(home);
  const mailbox = openMailbox({ home, archive: false });
  const logs: Harness["logs"] = [];
  const keep =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      logs.push({ level, message, fields });
    };
  const log: Logger = { info: keep("info"), warn: keep("warn"), error: keep("error") };
  const runtime = createRuntime(mailbox, log, options);
  const server: RunningHttpServer = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    runtime,
    security: { ...defaultHttpSecurity(), rateLimit: undefined },
    sessions,
  });
  cleanups.push(async () => {
    await server.close();
    runtime.watcher.stop();
    await mailbox.close();
    await rm(home, { recursive: true, force: true });
  });
  return { url: server.url, mailbox, runtime, logs };
}

async function sessionStats(url: string): Promise<SessionStats> {
  const res = await fetch(`${url}/health`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { sessions: SessionStats }).sessions;
}

/** Poll until `check` holds; a generous bound only so a broken build fails instead of hanging. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

async function waitForLive(url: string, live: number): Promise<void> {
  await waitUntil(`${live} sessions are live`, async () => (await sessionStats(url)).live === live);
}

/** Initialize a session with a raw request; returns its id. */
async function initialize(url: string): Promise<string> {
  const res = await rawRequest(`${url}/mcp`, { method: "POST", headers: RPC_HEADERS, body: INITIALIZE });
  expect(res.status).toBe(200);
  const id = res.headers["mcp-session-id"];
  expect(typeof id).toBe("string");
  return id as string;
}

/** A tools/list request on session `id` (or another `method`, without a body). */
function onSession(url: string, id: string, method = "POST") {
  return rawRequest(`${url}/mcp`, {
    method,
    headers: { ...RPC_HEADERS, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
    body:
      method === "POST"
        ? JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} })
        : undefined,
  });
}

/** Open the GET notification stream of session `id`; resolves once the server has answered its headers. */
function openStream(url: string, id: string): Promise<{ status: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(
      `${url}/mcp`,
      {
        headers: { accept: "text/event-stream", "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      },
      (res) => {
        res.on("error", () => {});
        resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function sessionIdOf(client: Client): string {
  const id = (client.transport as StreamableHTTPClientTransport | undefined)?.sessionId;
  expect(typeof id).toBe("string");
  return id as string;
}

function expectUnknownSession(res: { status: number; text: string }): void {
  expect(res.status).toBe(404);
  const body = JSON.parse(res.text) as { jsonrpc: string; error: { code: number; message: string } };
  expect(body.jsonrpc).toBe("2.0");
  expect(body.error.code).toBe(-32001);
  expect(body.error.message).toMatch(/start a new session with an initialize request/);
}

describe("idle MCP sessions", () => {
  it("expire after the idle timeout when the client disappears without DELETE, and are logged without their id", async () => {
    const h = await start({ idleTimeoutMs: 200 });
    const client = await connectMcp(h.url);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const id = sessionIdOf(client);
    expect((await sessionStats(h.url)).live).toBe(1);
    // close() drops the client's connections but sends no DELETE: an abandoned session.
    await client.close();
    await waitForLive(h.url, 0);
    const stats = await sessionStats(h.url);
    expect(stats).toMatchObject({ live: 0, expired: 1, evicted: 0, idle_timeout_ms: 200 });
    const expired = h.logs.filter((l) => l.message === "mcp session expired");
    expect(expired).toHaveLength(1);
    expect(expired[0]?.level).toBe("info");
    expect(expired[0]?.fields).toMatchObject({ principal: "anonymous", live: 0 });
    expect(JSON.stringify(h.logs)).not.toContain(id);
  });

  it("answer a later request with the expired id with the unknown-session 404, never a 500", async () => {
    const h = await start({ idleTimeoutMs: 200 });
    const id = await initialize(h.url);
    await waitForLive(h.url, 0);
    for (const method of ["POST", "GET", "DELETE"]) expectUnknownSession(await onSession(h.url, id, method));
    // The server keeps serving: a new session works.
    const fresh = await initialize(h.url);
    expect((await onSession(h.url, fresh)).status).toBe(200);
  });

  it("never expire while a notification stream is open, however many sweeps pass", async () => {
    const h = await start({ idleTimeoutMs: 200 });
    const watched = await initialize(h.url);
    const stream = await openStream(h.url, watched);
    expect(stream.status).toBe(200);
    // A canary opened later expires only after sweeps that would have closed the watched session too.
    await initialize(h.url);
    await waitUntil("the canary expired", async () => (await sessionStats(h.url)).expired === 1);
    expect((await sessionStats(h.url)).live).toBe(1);
    expect((await onSession(h.url, watched)).status).toBe(200);
    // Once the stream closes the session is idle like any other.
    stream.close();
    await waitForLive(h.url, 0);
    expectUnknownSession(await onSession(h.url, watched));
  });

  it("are all freed when many clients abandon them, subscriptions included", async () => {
    const h = await start({ idleTimeoutMs: 200 }, { identityMode: "open" });
    const [agent] = (h.mailbox.db.prepare("SELECT name FROM agents").all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
    const clients: Client[] = [];
    for (let i = 0; i < 30; i++) clients.push(await connectMcp(h.url));
    await clients[0]?.subscribeResource({ uri: `resource://inbox/${agent}` });
    expect(h.runtime.watcher.listenerCount).toBe(1);
    expect((await sessionStats(h.url)).live).toBe(30);
    for (const client of clients) await client.close();
    await waitForLive(h.url, 0);
    expect((await sessionStats(h.url)).expired).toBe(30);
    expect(h.runtime.watcher.listenerCount).toBe(0);
  });
});

describe("the session limit", () => {
  it("evicts the longest-idle session to admit a new one", async () => {
    const h = await start({ maxSessions: 2 });
    const older = await initialize(h.url);
    const oldest = await initialize(h.url);
    // Using `older` again makes `oldest` the one idle longest.
    expect((await onSession(h.url, older)).status).toBe(200);
    const newer = await initialize(h.url);
    expect(await sessionStats(h.url)).toMatchObject({ live: 2, max: 2, evicted: 1, expired: 0 });
    expectUnknownSession(await onSession(h.url, oldest));
    expect((await onSession(h.url, older)).status).toBe(200);
    expect((await onSession(h.url, newer)).status).toBe(200);
    expect(h.logs.filter((l) => l.message === "mcp session evicted")).toHaveLength(1);
  });

  it("refuses a new session with 503 and how to raise the limit when every session is busy", async () => {
    const h = await start({ maxSessions: 2 });
    const streams = [];
    for (let i = 0; i < 2; i++) streams.push(await openStream(h.url, await initialize(h.url)));
    const refused = await rawRequest(`${h.url}/mcp`, {
      method: "POST",
      headers: RPC_HEADERS,
      body: INITIALIZE,
    });
    expect(refused.status).toBe(503);
    const body = JSON.parse(refused.text) as {
      error: { code: number; message: string; data: { type: string } };
    };
    expect(body.error.code).toBe(-32000);
    expect(body.error.data.type).toBe("BUSY");
    expect(body.error.message).toMatch(/limit of 2 MCP sessions/);
    expect(body.error.message).toMatch(/--max-sessions or PIGEONHOLE_MAX_SESSIONS/);
    expect(await sessionStats(h.url)).toMatchObject({ live: 2, refused: 1, evicted: 0 });
    expect(h.logs.some((l) => l.level === "warn" && /session limit reached/.test(l.message))).toBe(true);
    // The SDK client is refused the same way, and nothing already live was dropped.
    await expect(connectMcp(h.url)).rejects.toThrow(/503|limit of 2/);
    expect((await sessionStats(h.url)).live).toBe(2);
    // A stream that closes frees its session for eviction, and the next initialize succeeds.
    streams[0]?.close();
    await waitUntil("an initialize is admitted", async () => {
      const res = await rawRequest(`${h.url}/mcp`, {
        method: "POST",
        headers: RPC_HEADERS,
        body: INITIALIZE,
      });
      return res.status === 200;
    });
    expect(await sessionStats(h.url)).toMatchObject({ live: 2, evicted: 1 });
    streams[1]?.close();
  });
});

describe("pigeonhole serve session options", () => {
  it("takes the idle timeout from PIGEONHOLE_SESSION_IDLE_MS and the cap from --max-sessions", async () => {
    const home = await mkdtemp(join(tmpdir(), "pigeonhole-sessions-cli-"));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const serve = await startServe(
      ["--home", home, "--max-sessions", "5"],
      cliEnv({ PIGEONHOLE_SESSION_IDLE_MS: "200" }),
    );
    expect(await sessionStats(serve.url)).toMatchObject({ live: 0, max: 5, idle_timeout_ms: 200 });
    const client = await connectMcp(serve.url);
    await client.listTools();
    await client.close();
    await waitForLive(serve.url, 0);
    await serve.stop();
    expect(serve.stderr()).toMatch(/mcp session expired principal=anonymous/);
  });

  it("refuses invalid values as one line naming the option or variable", async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [["--session-idle-ms", "5"], {}, /--session-idle-ms .*expected a whole number from 100 to 604800000/],
      [["--session-idle-ms", "30m"], {}, /--session-idle-ms/],
      [["--max-sessions", "0"], {}, /--max-sessions .*expected a whole number from 1 to 1000000/],
      [[], { PIGEONHOLE_MAX_SESSIONS: "lots" }, /env 'PIGEONHOLE_MAX_SESSIONS' is invalid/],
      [[], { PIGEONHOLE_SESSION_IDLE_MS: "-1" }, /env 'PIGEONHOLE_SESSION_IDLE_MS' is invalid/],
    ];
    for (const [args, env, message] of cases) {
      const run = await runCli(["serve", "--port", "0", ...args], cliEnv(env));
      expect(run.code, args.join(" ")).not.toBe(0);
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(run.stderr).toMatch(/^error: /);
      expect(run.stderr).toMatch(message);
    }
  });
});

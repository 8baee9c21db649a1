import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, killAll, type ServeProcess, startServe } from "./cli-process.js";
import { bearer, connectMcp, hs256, INITIALIZE, RPC_HEADERS, rawRequest } from "./http-fixtures.js";

/**
 * The request guards over real HTTP against the built CLI: rate limits, the body limit, malformed JSON and
 * the Host/Origin allow-list. After every refusal the server must still serve a good request.
 */

const TOKEN = "guard-token-0b9d2f7e4a1c";
const SECRET = "guard-jwt-secret-3c8a1f6e9d2b";
const MAX_BODY = 2048;

let home: string;
let server: ServeProcess;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "pigeonhole-guards-"));
  server = await startServe(
    ["--home", home, "--allow-host", "mail.internal,other.internal:1"],
    cliEnv({
      PIGEONHOLE_ARCHIVE: "off",
      PIGEONHOLE_MAX_BODY_BYTES: String(MAX_BODY),
      PIGEONHOLE_ALLOWED_ORIGINS: "https://dash.example",
    }),
  );
});

afterAll(async () => {
  await killAll();
  await rm(home, { recursive: true, force: true });
});

/** A good request still works: a fresh MCP session calls a tool. */
async function stillServes(url: string, headers: Record<string, string> = {}): Promise<void> {
  const client = await connectMcp(url, headers);
  const result = await client.callTool({ name: "health_check", arguments: {} });
  expect(result.structuredContent).toMatchObject({ status: "ok" });
  await client.close();
}

describe("request body", () => {
  it("over the limit by Content-Length: 413 with a JSON-RPC error naming the limit", async () => {
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: RPC_HEADERS,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(MAX_BODY) } }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as {
      error: { message: string; data: { type: string; max_bytes: number } };
    };
    expect(body.error.data).toMatchObject({ type: "TOO_LARGE", max_bytes: MAX_BODY });
    expect(body.error.message).toContain("PIGEONHOLE_MAX_BODY_BYTES");
    await stillServes(server.url);
  });

  it("over the limit while streaming (chunked, no Content-Length): 413", async () => {
    const chunk = "x".repeat(512);
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { ...RPC_HEADERS, "transfer-encoding": "chunked" },
      chunks: [`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"`, ...Array(8).fill(chunk), `"}}`],
    });
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toContain("application/json");
    await stillServes(server.url);
  });

  it("malformed JSON: 400 with JSON-RPC parse error -32700", async () => {
    for (const body of ['{"jsonrpc":"2.0",', ""]) {
      const res = await fetch(`${server.url}/mcp`, { method: "POST", headers: RPC_HEADERS, body });
      expect(res.status).toBe(400);
      const json = (await res.json()) as { jsonrpc: string; id: null; error: { code: number } };
      expect(json).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
    }
    // Valid JSON that is no JSON-RPC message is a parse error too (the SDK's own check, same code).
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: RPC_HEADERS,
      body: '{"hello":1}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
    await stillServes(server.url);
  });
});

describe("Host and Origin allow-list", () => {
  const port = () => new URL(server.url).port;

  it("refuses a foreign Host with 403 naming --allow-host, and accepts allowed names", async () => {
    const refused = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { ...RPC_HEADERS, host: `attacker.example:${port()}` },
      body: INITIALIZE,
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error.message).toContain("--allow-host");

    // `mail.internal` was allowed on any port; `other.internal` only on port 1.
    expect(
      (await rawRequest(`${server.url}/health`, { headers: { host: `mail.internal:${port()}` } })).status,
    ).toBe(200);
    expect((await rawRequest(`${server.url}/health`, { headers: { host: "other.internal:1" } })).status).toBe(
      200,
    );
    expect(
      (await rawRequest(`${server.url}/health`, { headers: { host: `other.internal:${port()}` } })).status,
    ).toBe(403);
    expect(
      (await rawRequest(`${server.url}/health`, { headers: { host: `localhost:${port()}` } })).status,
    ).toBe(200);
    await stillServes(server.url);
  });

  it("refuses a foreign Origin with 403, and answers allowed origins with CORS", async () => {
    for (const origin of ["https://evil.example", "null"]) {
      const res = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: { ...RPC_HEADERS, origin },
        body: INITIALIZE,
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        "PIGEONHOLE_ALLOWED_ORIGINS",
      );
    }
    for (const origin of [
      "https://dash.example",
      `http://mail.internal:${port()}`,
      "http://localhost:6274",
    ]) {
      const preflight = await fetch(`${server.url}/mcp`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
      expect(preflight.headers.get("access-control-allow-headers")).toContain("mcp-session-id");

      const res = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: { ...RPC_HEADERS, origin },
        body: INITIALIZE,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("access-control-expose-headers")).toContain("mcp-session-id");
      await res.body?.cancel();
    }
    await stillServes(server.url);
  });
});

describe("rate limit", () => {
  it("answers the request over the burst with 429 and Retry-After, per caller, and keeps serving others", async () => {
    const limited = await startServe(
      ["--home", home],
      cliEnv({
        PIGEONHOLE_ARCHIVE: "off",
        PIGEONHOLE_TOKEN: TOKEN,
        PIGEONHOLE_JWT_SECRET: SECRET,
        // Two per minute: no refill can happen between the quick requests below, however slow the machine.
        PIGEONHOLE_RATE_LIMIT: "2/m",
        PIGEONHOLE_RATE_BURST: "2",
      }),
    );
    const get = (headers: Record<string, string>) => fetch(`${limited.url}/mcp`, { headers });
    const first = await get(bearer(TOKEN));
    const second = await get(bearer(TOKEN));
    // Authenticated but without a session: 400, after the rate limit let them through.
    expect([first.status, second.status]).toEqual([400, 400]);
    const third = await get(bearer(TOKEN));
    expect(third.status).toBe(429);
    const retryAfter = third.headers.get("retry-after") ?? "";
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    const body = (await third.json()) as {
      error: { message: string; data: { type: string; retry_after_seconds: number } };
    };
    expect(body.error.data).toMatchObject({ type: "RATE_LIMITED", retry_after_seconds: Number(retryAfter) });
    expect(body.error.message).toContain("2/m, burst 2; PIGEONHOLE_RATE_LIMIT");

    // Health is never limited; another principal has its own bucket and is served.
    expect((await fetch(`${limited.url}/health`)).status).toBe(200);
    const other = bearer(await hs256(SECRET, { sub: "other", role: "writer" }));
    expect((await get(other)).status).toBe(400);

    // Failed credentials are limited by address: guessing does not get unlimited tries.
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push((await get(bearer(`guess-${i}`))).status);
    expect(guesses).toEqual([401, 401, 429]);
  });

  it("can be turned off", async () => {
    const unlimited = await startServe(
      ["--home", home],
      cliEnv({ PIGEONHOLE_ARCHIVE: "off", PIGEONHOLE_RATE_LIMIT: "off", PIGEONHOLE_RATE_BURST: "1" }),
    );
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${unlimited.url}/mcp`)).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
  });
});

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, freePort, killAll, runCli, type ServeProcess, startServe } from "./cli-process.js";
import {
  AUDIENCE,
  bearer,
  connectMcp,
  hs256,
  INITIALIZE,
  ISSUER,
  type JwksServer,
  RPC_HEADERS,
  type Seeded,
  seedMailbox,
  startJwksServer,
} from "./http-fixtures.js";

/**
 * Authentication over real HTTP against the built CLI: every credential kind against a read tool and a
 * write tool, credentials that must fail, session binding to the credential, the non-loopback rule,
 * and that no credential reaches the log.
 */

const TOKEN = "test-token-5f1c0a9e2b7d4c3a";
const SECRET = "test-jwt-secret-8e3b6f1d9c2a4e7b0f5d";

let home: string;
let seeded: Seeded;
let jwks: JwksServer;
let open: ServeProcess;
let secured: ServeProcess;
const clients: Client[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "pigeonhole-httpauth-"));
  seeded = await seedMailbox(home);
  jwks = await startJwksServer();
  open = await startServe(["--home", home], cliEnv({ PIGEONHOLE_ARCHIVE: "off" }));
  secured = await startServe(
    ["--home", home],
    cliEnv({
      PIGEONHOLE_ARCHIVE: "off",
      PIGEONHOLE_LOG_FORMAT: "json",
      PIGEONHOLE_TOKEN: TOKEN,
      PIGEONHOLE_JWT_SECRET: SECRET,
      PIGEONHOLE_JWKS_URL: jwks.url,
      PIGEONHOLE_JWT_ISSUER: ISSUER,
      PIGEONHOLE_JWT_AUDIENCE: AUDIENCE,
    }),
  );
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

afterAll(async () => {
  await killAll();
  await jwks.close();
  await rm(home, { recursive: true, force: true });
});

const claims = (sub: string, role?: string) => ({
  sub,
  iss: ISSUER,
  aud: AUDIENCE,
  ...(role ? { role } : {}),
});

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = await connectMcp(url, headers);
  clients.push(client);
  return client;
}

/** The read tool of the matrix: list_agents of the seeded project. */
async function readTool(client: Client) {
  return client.callTool({ name: "list_agents", arguments: { project_key: seeded.project } });
}

/** The write tool of the matrix: send_message as the seeded sender (its token proves the identity). */
async function writeTool(client: Client) {
  return client.callTool({
    name: "send_message",
    arguments: {
      project_key: seeded.project,
      sender_name: seeded.sender,
      sender_token: seeded.senderToken,
      to: seeded.recipient,
      subject: "matrix",
      body_md: "hello",
    },
  });
}

function errorType(result: Awaited<ReturnType<Client["callTool"]>>): unknown {
  return (result.structuredContent as { error?: { type?: string } } | undefined)?.error?.type;
}

type Credential = () => Promise<Record<string, string>>;

describe("auth matrix: credential x read tool / write tool", () => {
  const allowed: Array<[string, () => ServeProcess, Credential, "writer" | "reader"]> = [
    ["no auth configured, no credential", () => open, async () => ({}), "writer"],
    ["bearer token", () => secured, async () => bearer(TOKEN), "writer"],
    [
      "HS256 JWT, role writer",
      () => secured,
      async () => bearer(await hs256(SECRET, claims("w", "writer"))),
      "writer",
    ],
    [
      "HS256 JWT, role reader",
      () => secured,
      async () => bearer(await hs256(SECRET, claims("r", "reader"))),
      "reader",
    ],
    [
      "JWKS (ES256) JWT, role writer",
      () => secured,
      async () => bearer(await jwks.sign(claims("k", "writer"))),
      "writer",
    ],
    [
      "JWKS (ES256) JWT without a role claim",
      () => secured,
      async () => bearer(await jwks.sign(claims("n"))),
      "reader",
    ],
  ];

  it.each(allowed)(
    "%s: read tool works; write tool per role (%#)",
    async (_name, server, credential, role) => {
      const client = await connect(server().url, await credential());
      const read = await readTool(client);
      expect(read.isError).toBeFalsy();
      expect(JSON.stringify(read.structuredContent)).toContain(seeded.recipient);

      const write = await writeTool(client);
      if (role === "writer") {
        expect(write.isError).toBeFalsy();
        expect(write.structuredContent).toMatchObject({ count: 1 });
      } else {
        expect(write.isError).toBe(true);
        expect(errorType(write)).toBe("PERMISSION_DENIED");
        expect(JSON.stringify(write.content)).toContain("writer role");
      }
    },
  );

  const refused: Array<[string, Credential, RegExp]> = [
    ["no credential", async () => ({}), /Authentication required/],
    ["a wrong bearer token", async () => bearer("not-the-token"), /not valid/],
    ["a non-Bearer scheme", async () => ({ authorization: `Basic ${btoa(`x:${TOKEN}`)}` }), /Malformed/],
    [
      "a JWT signed with another secret",
      async () => bearer(await hs256("another-secret-entirely", claims("x", "writer"))),
      /JWT is not valid/,
    ],
    [
      "an expired JWT",
      async () =>
        bearer(await hs256(SECRET, { ...claims("x", "writer"), exp: Math.floor(Date.now() / 1000) - 3600 })),
      /expired/,
    ],
    [
      "a JWT for another audience",
      async () => bearer(await hs256(SECRET, { ...claims("x", "writer"), aud: "someone-else" })),
      /audience/,
    ],
    [
      "a JWT from another issuer",
      async () => bearer(await jwks.sign({ ...claims("x", "writer"), iss: "https://evil.example" })),
      /issuer/,
    ],
    [
      "a JWT with an unknown role",
      async () => bearer(await hs256(SECRET, claims("x", "admin"))),
      /role claim/,
    ],
  ];

  it.each(refused)(
    "%s: 401 at connect, for the read tool and the write tool alike",
    async (_name, credential, reason) => {
      const headers = await credential();
      await expect(connect(secured.url, headers)).rejects.toMatchObject({
        code: 401,
        message: expect.stringMatching(reason),
      });

      const res = await fetch(`${secured.url}/mcp`, {
        method: "POST",
        headers: { ...RPC_HEADERS, ...headers },
        body: INITIALIZE,
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="pigeonhole"/);
      const body = (await res.json()) as { error: { message: string; data: { type: string } } };
      expect(body.error.message).toMatch(reason);
      expect(body.error.data.type).toBe("UNAUTHENTICATED");
    },
  );

  it("leaves GET /health open, with the tool metrics", async () => {
    const res = await fetch(`${secured.url}/health`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as { status: string; metrics: { tools: Array<{ tool: string }> } };
    expect(health.status).toBe("ok");
    expect(health.metrics.tools.map((t) => t.tool)).toContain("list_agents");
    expect(health.metrics.tools.find((t) => t.tool === "send_message")).toMatchObject({
      calls: expect.any(Number),
      errors: { PERMISSION_DENIED: expect.any(Number) },
      p50_ms: expect.any(Number),
      p99_ms: expect.any(Number),
    });
  });

  it("refuses a request on a session initialized with another credential (403), and keeps serving its owner", async () => {
    const owner = await connect(secured.url, bearer(TOKEN));
    const initialized = await fetch(`${secured.url}/mcp`, {
      method: "POST",
      headers: { ...RPC_HEADERS, ...bearer(TOKEN) },
      body: INITIALIZE,
    });
    const sessionId = initialized.headers.get("mcp-session-id") as string;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await initialized.body?.cancel();

    const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    const session = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" };
    for (const other of [
      bearer(await hs256(SECRET, claims("mallory", "writer"))),
      bearer(await jwks.sign(claims("mallory", "reader"))),
    ]) {
      const hijack = await fetch(`${secured.url}/mcp`, {
        method: "POST",
        headers: { ...RPC_HEADERS, ...session, ...other },
        body: list,
      });
      expect(hijack.status).toBe(403);
      expect(((await hijack.json()) as { error: { message: string } }).error.message).toMatch(
        /another credential/,
      );
    }
    // The same credential may still use its session.
    const own = await fetch(`${secured.url}/mcp`, {
      method: "POST",
      headers: { ...RPC_HEADERS, ...session, ...bearer(TOKEN) },
      body: list,
    });
    expect(own.status).toBe(200);
    await own.body?.cancel();
    expect((await readTool(owner)).isError).toBeFalsy();
  });
});

describe("binding a non-loopback address", () => {
  it("is refused without auth, with the way to configure it, before the mailbox is created", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "pigeonhole-bind-"));
    try {
      const run = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--home", fresh]);
      expect(run.code).not.toBe(0);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toContain("PIGEONHOLE_TOKEN=");
      expect(run.stderr).toContain("PIGEONHOLE_JWT_SECRET");
      expect(existsSync(join(fresh, "mailbox.sqlite3"))).toBe(false);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it("is accepted with a token, and then every request needs it", async () => {
    const server = await startServe(
      ["--host", "0.0.0.0", "--home", home],
      cliEnv({ PIGEONHOLE_ARCHIVE: "off", PIGEONHOLE_TOKEN: TOKEN }),
    );
    // Only ever connect through loopback, whatever the bind address.
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    await expect(connect(server.url)).rejects.toMatchObject({ code: 401 });
    const client = await connect(server.url, bearer(TOKEN));
    expect((await readTool(client)).isError).toBeFalsy();
  });

  it("refuses a bad security setting at start, naming the variable", async () => {
    const port = String(await freePort());
    const run = await runCli(
      ["serve", "--port", port, "--home", home],
      cliEnv({ PIGEONHOLE_RATE_LIMIT: "fast" }),
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/PIGEONHOLE_RATE_LIMIT must look like 20\/s/);
  });
});

describe("logs", () => {
  it("are one JSON object per line, log each request with its principal, and never contain a credential", async () => {
    const env = cliEnv({
      PIGEONHOLE_ARCHIVE: "off",
      PIGEONHOLE_LOG_FORMAT: "json",
      PIGEONHOLE_TOKEN: TOKEN,
      PIGEONHOLE_JWT_SECRET: SECRET,
    });
    const server = await startServe(["--home", home], env);
    const jwt = await hs256(SECRET, { sub: "logger", role: "writer" });
    const expired = await hs256(SECRET, { sub: "old", exp: Math.floor(Date.now() / 1000) - 60 });
    for (const credential of [TOKEN, jwt]) {
      const client = await connect(server.url, bearer(credential));
      await readTool(client);
      await writeTool(client);
    }
    for (const credential of [expired, `${TOKEN}x`, SECRET]) {
      await expect(connect(server.url, bearer(credential))).rejects.toMatchObject({ code: 401 });
    }
    await fetch(`${server.url}/mcp?token=${TOKEN}`, { headers: bearer(TOKEN) });
    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);

    for (const secret of [TOKEN, SECRET, jwt, expired, seeded.senderToken]) {
      expect(stopped.stderr).not.toContain(secret);
    }
    const lines = stopped.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) expect(Object.keys(line).slice(0, 3)).toEqual(["ts", "level", "msg"]);
    const requests = lines.filter((line) => line.msg === "http request");
    expect(requests).toContainEqual(
      expect.objectContaining({ method: "POST", path: "/mcp", status: 200, principal: "token" }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ status: 200, principal: "jwt:logger" }));
    expect(requests).toContainEqual(expect.objectContaining({ status: 401 }));
    for (const line of requests) expect(line.ms).toEqual(expect.any(Number));
  });
});

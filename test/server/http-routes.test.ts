import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Mailbox, openMailbox } from "../../engine/index.js";
import { defaultHttpSecurity } from "../../server/http/config.js";
import { type RouteContext, type RunningHttpServer, startHttpServer } from "../../server/http.js";
import { silentLogger } from "../../server/log.js";
import { createRuntime } from "../../server/mcp/runtime.js";
import { bearer, hs256 } from "./http-fixtures.js";

/**
 * The contract mounted routes (the REST API) rely on, in process over real HTTP: they see only requests
 * that passed every guard, with the caller's identity and the parsed body; refusals use the shared
 * `{error:{type, message, recoverable, data}}` shape, not JSON-RPC.
 */

const SECRET = "routes-jwt-secret-1d4f7a0c";

let home: string;
let mailbox: Mailbox;
let server: RunningHttpServer;
const seen: RouteContext[] = [];

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "pigeonhole-routes-"));
  mailbox = openMailbox({ home, archive: false });
  const runtime = createRuntime(mailbox, silentLogger());
  server = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    runtime,
    security: { ...defaultHttpSecurity(), auth: { jwtSecret: SECRET }, maxBodyBytes: 1024 },
    routes: [
      {
        prefix: "/v1/",
        handle: async (_req, res, ctx) => {
          seen.push(ctx);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ role: ctx.identity.role, principal: ctx.identity.principal }));
        },
      },
    ],
  });
});

afterEach(async () => {
  seen.length = 0;
  await server.close();
  await mailbox.close();
  await rm(home, { recursive: true, force: true });
});

describe("mounted routes", () => {
  it("get the caller's identity, the URL and the parsed JSON body", async () => {
    const reader = bearer(await hs256(SECRET, { sub: "script", role: "reader" }));
    const res = await fetch(`${server.url}/v1/send?project_key=alpha`, {
      method: "POST",
      headers: { ...reader, "content-type": "application/json" },
      body: JSON.stringify({ subject: "s" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ role: "reader", principal: "jwt:script" });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url.searchParams.get("project_key")).toBe("alpha");
    expect(seen[0]?.body).toEqual({ subject: "s" });
    expect(seen[0]?.identity.method).toBe("jwt");

    const get = await fetch(`${server.url}/v1/agents`, { headers: reader });
    expect(get.status).toBe(200);
    expect(seen[1]?.body).toBeUndefined();
  });

  it("never see a refused request, and refusals use the shared error shape", async () => {
    const writer = bearer(await hs256(SECRET, { sub: "w", role: "writer" }));
    const cases: Array<[RequestInit, number, string]> = [
      [{ method: "GET" }, 401, "UNAUTHENTICATED"],
      [
        { method: "POST", headers: { ...writer, "content-type": "application/json" }, body: "{oops" },
        400,
        "INVALID_ARGUMENT",
      ],
      [
        { method: "POST", headers: writer, body: JSON.stringify({ pad: "x".repeat(2048) }) },
        413,
        "TOO_LARGE",
      ],
    ];
    for (const [init, status, type] of cases) {
      const res = await fetch(`${server.url}/v1/send`, init);
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { type: string; message: string; recoverable: boolean } };
      expect(body.error).toMatchObject({
        type,
        message: expect.any(String),
        recoverable: expect.any(Boolean),
      });
      expect(body).not.toHaveProperty("jsonrpc");
    }
    expect(seen).toHaveLength(0);
    const unknown = await fetch(`${server.url}/v2/nothing`, { headers: writer });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { type: string } }).error.type).toBe("NOT_FOUND");
  });
});

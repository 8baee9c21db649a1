import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureProject, type Mailbox, openMailbox, registerAgent } from "../../engine/index.js";
import { defaultHttpSecurity } from "../../server/http/config.js";
import { type RunningHttpServer, startHttpServer } from "../../server/http.js";
import { silentLogger } from "../../server/log.js";
import { findTool } from "../../server/mcp/catalog.js";
import { createRuntime } from "../../server/mcp/runtime.js";
import { queryArgs } from "../../server/rest/args.js";
import { restRoute } from "../../server/rest/handler.js";
import { REST_ROUTES } from "../../server/rest/routes.js";
import { cliEnv, killAll, type ServeProcess, startServe } from "./cli-process.js";
import { bearer, hs256 } from "./http-fixtures.js";

/**
 * The REST API over real HTTP against a spawned `pigeonhole serve` sharing a real mailbox, plus the
 * REST route mounted on an in-process HTTP server with JWT authentication (reader and writer roles).
 */

let home: string;
let server: ServeProcess;
const tokens: Record<string, string> = {};
const PROJECT = "/work/rest-alpha";
let slug: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "pigeonhole-rest-"));
  const mb = openMailbox({ home, archive: false });
  slug = ensureProject(mb, { human_key: PROJECT }).slug;
  for (const name of ["Alice", "Bob", "Carol"]) {
    tokens[name] = registerAgent(mb, {
      project_key: slug,
      program: "test",
      model: "m",
      name,
    }).registration_token;
  }
  await mb.close();
  server = await startServe(["--home", home], cliEnv({ PIGEONHOLE_ARCHIVE: "off" }));
});

afterAll(async () => {
  await killAll();
  await rm(home, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are inspected field by field.
  body: any;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    headers["content-type"] = options.contentType ?? "application/json";
    body = options.raw ?? JSON.stringify(options.body);
  }
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
}

const as = (name: string) => ({ "x-agent-token": tokens[name] as string });

async function send(
  from: string,
  to: string | string[],
  subject: string,
  extra: Record<string, unknown> = {},
) {
  const answer = await call("POST", "/v1/send", {
    body: { project_key: slug, sender_name: from, to, subject, body_md: `body of ${subject}`, ...extra },
    headers: as(from),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.deliveries[0].payload.id as number;
}

function expectError(answer: Answer, status: number, type: string, mentions?: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.headers.get("content-type")).toContain("application/json");
  expect(answer.body.error).toMatchObject({
    type,
    recoverable: expect.any(Boolean),
    data: expect.any(Object),
  });
  expect(answer.body.error.message).toEqual(expect.any(String));
  if (mentions) expect(answer.body.error.message).toMatch(mentions);
}

describe("REST API: endpoints", () => {
  it("GET /v1 lists every endpoint with its method, tool and parameter schema", async () => {
    const answer = await call("GET", "/v1");
    expect(answer.status).toBe(200);
    const endpoints = answer.body.endpoints as Array<Record<string, unknown>>;
    expect(endpoints.map((e) => `${e.method} ${e.path} ${e.tool}`)).toEqual([
      "POST /v1/send send_message",
      "GET /v1/inbox fetch_inbox",
      "GET /v1/peek peek_inbox",
      "GET /v1/agents list_agents",
      "POST /v1/read mark_message_read",
      "POST /v1/ack acknowledge_message",
    ]);
    const inbox = endpoints.find((e) => e.path === "/v1/inbox") as { parameters: { properties: object } };
    expect(Object.keys(inbox.parameters.properties)).toEqual(
      expect.arrayContaining(["project_key", "agent_name", "limit", "unread_only"]),
    );
  });

  it("sends, peeks, lists, reads and acknowledges, each as its tool would", async () => {
    const sent = await call("POST", "/v1/send", {
      body: {
        project_key: PROJECT,
        sender_name: "Alice",
        to: ["Bob"],
        cc: "Carol",
        subject: "Deploy window",
        body_md: "Tonight at **9**.",
        importance: "urgent",
        ack_required: true,
      },
      headers: as("Alice"),
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ count: 1, verified_sender: true });
    const message = sent.body.deliveries[0].payload;
    expect(message).toMatchObject({ subject: "Deploy window", from: "Alice", to: ["Bob"], cc: ["Carol"] });

    const peek = await call("GET", `/v1/peek?project_key=${slug}&agent_name=Bob`, { headers: as("Bob") });
    expect(peek.status).toBe(200);
    expect(peek.body).toMatchObject({ urgent_unread: expect.any(Number), verified_sender: true });
    expect(peek.body.unread).toBeGreaterThanOrEqual(1);
    expect(peek.body.ack_pending).toBeGreaterThanOrEqual(1);

    const inbox = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Bob&include_bodies=true`, {
      headers: as("Bob"),
    });
    expect(inbox.status).toBe(200);
    expect(Array.isArray(inbox.body)).toBe(true);
    expect(inbox.body[0]).toMatchObject({
      id: message.id,
      subject: "Deploy window",
      body_md: "Tonight at **9**.",
      importance: "urgent",
      ack_required: true,
      from: "Alice",
      kind: "to",
    });

    const agents = await call("GET", `/v1/agents?project_key=${encodeURIComponent(PROJECT)}`);
    expect(agents.status).toBe(200);
    expect(agents.body.map((a: { name: string }) => a.name)).toEqual(["Alice", "Bob", "Carol"]);
    expect(agents.body.find((a: { name: string }) => a.name === "Carol").unread_count).toBeGreaterThanOrEqual(
      1,
    );
    expect(JSON.stringify(agents.body)).not.toContain("registration_token");

    const read = await call("POST", "/v1/read", {
      body: { project_key: slug, agent_name: "Carol", message_id: message.id },
      headers: as("Carol"),
    });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ message_id: message.id, read: true, read_at: expect.any(String) });

    // The token may also travel in the body, under the tool's own parameter name.
    const ack = await call("POST", "/v1/ack", {
      body: { project_key: slug, agent_name: "Bob", message_id: message.id, agent_token: tokens.Bob },
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ message_id: message.id, acknowledged: true, verified_sender: true });
    const again = await call("POST", "/v1/ack", {
      body: { project_key: slug, agent_name: "Bob", message_id: message.id },
      headers: as("Bob"),
    });
    expect(again.body.acknowledged_at).toBe(ack.body.acknowledged_at);
  });

  it("coerces query strings by the tool's schema: numbers and booleans", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push(await send("Carol", "Alice", `coerce ${i}`));
    const five = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Alice&limit=5`, {
      headers: as("Alice"),
    });
    expect(five.status).toBe(200);
    expect(five.body).toHaveLength(5);
    expect(five.body[0].body_md).toBeUndefined();

    const newest = ids[6] as number;
    await call("POST", "/v1/read", {
      body: { project_key: slug, agent_name: "Alice", message_id: newest },
      headers: as("Alice"),
    });
    const unread = await call(
      "GET",
      `/v1/inbox?project_key=${slug}&agent_name=Alice&unread_only=true&limit=100`,
      {
        headers: as("Alice"),
      },
    );
    expect(unread.status).toBe(200);
    const unreadIds = unread.body.map((m: { id: number }) => m.id);
    expect(unreadIds).not.toContain(newest);
    expect(unreadIds).toContain(ids[5]);
    const all = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Alice&unread_only=0&limit=100`, {
      headers: as("Alice"),
    });
    expect(all.body.map((m: { id: number }) => m.id)).toContain(newest);
    // The bare name means true.
    const bare = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Alice&unread_only&limit=100`, {
      headers: as("Alice"),
    });
    expect(bare.body).toHaveLength(unread.body.length);
  });

  it("takes X-Agent-Name as the default agent, which still needs its token (it names, it does not vouch)", async () => {
    const named = await call("GET", `/v1/peek?project_key=${slug}`, { headers: { "x-agent-name": "Carol" } });
    expectError(named, 403, "PERMISSION_DENIED", /Carol/);
    const peek = await call("GET", `/v1/peek?project_key=${slug}`, {
      headers: { "x-agent-name": "Carol", ...as("Carol") },
    });
    expect(peek.status).toBe(200);
    expect(peek.body).toMatchObject({ unread: expect.any(Number), verified_sender: true });
  });
});

describe("REST API: errors", () => {
  it("400 for bad arguments, naming the field", async () => {
    const limit = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Bob&limit=0`, {
      headers: as("Bob"),
    });
    expectError(limit, 400, "INVALID_ARGUMENT", /limit/);
    const word = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Bob&limit=five`, {
      headers: as("Bob"),
    });
    expectError(word, 400, "INVALID_ARGUMENT", /limit/);
    const flag = await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Bob&unread_only=maybe`, {
      headers: as("Bob"),
    });
    expectError(flag, 400, "INVALID_ARGUMENT", /unread_only/);
    const noSubject = await call("POST", "/v1/send", {
      body: { project_key: slug, sender_name: "Alice", to: "Bob", body_md: "b" },
      headers: as("Alice"),
    });
    expectError(noSubject, 400, "INVALID_ARGUMENT", /subject/);
    const typo = await call("GET", `/v1/agents?project_key=${slug}&actve_only=true`);
    expectError(typo, 400, "INVALID_ARGUMENT", /actve_only/);
    expect(typo.body.error.data.parameters).toContain("active_only");
    const twice = await call("GET", `/v1/agents?project_key=${slug}&project_key=other`);
    expectError(twice, 400, "INVALID_ARGUMENT", /project_key is given 2 times/);
  });

  it("404 for an unknown agent, project or path", async () => {
    expectError(
      await call("GET", `/v1/peek?project_key=${slug}&agent_name=Nobody`),
      404,
      "NOT_FOUND",
      /Nobody/,
    );
    expectError(
      await call("GET", "/v1/agents?project_key=no-such-project"),
      404,
      "NOT_FOUND",
      /no-such-project/,
    );
    expectError(await call("GET", "/v1/nothing-here"), 404, "NOT_FOUND", /GET \/v1 lists/);
  });

  it("405 with Allow for the wrong method", async () => {
    const post = await call("POST", `/v1/inbox`, { body: { project_key: slug, agent_name: "Bob" } });
    expectError(post, 405, "INVALID_ARGUMENT", /use GET/);
    expect(post.headers.get("allow")).toBe("GET");
    const get = await call("GET", "/v1/send");
    expectError(get, 405, "INVALID_ARGUMENT", /use POST/);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await call("DELETE", "/v1")).headers.get("allow")).toBe("GET");
  });

  it("415 for a non-JSON body, 400 for malformed JSON, a non-object body or a query string on POST", async () => {
    const form = await call("POST", "/v1/send", {
      raw: "subject=hi",
      contentType: "application/x-www-form-urlencoded",
    });
    expectError(form, 415, "INVALID_ARGUMENT", /application\/json/);
    expectError(
      await call("POST", "/v1/send", { raw: "{not json" }),
      400,
      "INVALID_ARGUMENT",
      /not valid JSON/,
    );
    expectError(await call("POST", "/v1/send", { raw: "[1,2]" }), 400, "INVALID_ARGUMENT", /JSON object/);
    expectError(await call("POST", "/v1/send", { raw: "" }), 400, "INVALID_ARGUMENT", /empty/);
    const query = await call("POST", `/v1/read?project_key=${slug}`, {
      body: { agent_name: "Bob", message_id: 1 },
    });
    expectError(query, 400, "INVALID_ARGUMENT", /JSON body, not the query string/);
  });

  it("403 acting as another agent without its token; 200 with it", async () => {
    const body = {
      project_key: slug,
      sender_name: "Alice",
      to: "Bob",
      subject: "impersonation",
      body_md: "b",
    };
    expectError(await call("POST", "/v1/send", { body }), 403, "PERMISSION_DENIED", /Alice/);
    expectError(
      await call("POST", "/v1/send", { body, headers: as("Carol") }),
      403,
      "PERMISSION_DENIED",
      /registration_token/,
    );
    expectError(
      await call("GET", `/v1/inbox?project_key=${slug}&agent_name=Bob`, { headers: as("Alice") }),
      403,
      "PERMISSION_DENIED",
    );
    const ok = await call("POST", "/v1/send", { body: { ...body, sender_token: tokens.Alice } });
    expect(ok.status).toBe(200);
    expect(ok.body.verified_sender).toBe(true);
    // Nothing carries over: the next request without a token is refused again.
    expectError(await call("POST", "/v1/send", { body }), 403, "PERMISSION_DENIED");
  });

  it("413 for a field over its limit", async () => {
    const big = await call("POST", "/v1/send", {
      body: {
        project_key: slug,
        sender_name: "Alice",
        to: "Bob",
        subject: "big",
        body_md: "x".repeat(1024 * 1024 + 1),
      },
      headers: as("Alice"),
    });
    expectError(big, 413, "TOO_LARGE", /body_md/);
    // The server keeps serving on.
    expect((await call("GET", "/v1")).status).toBe(200);
  });
});

describe("queryArgs", () => {
  const sendTool = findTool("send_message");
  if (!sendTool) throw new Error("send_message missing");

  it("reads lists from repeated keys, comma lists, or both", () => {
    expect(queryArgs(sendTool, new URLSearchParams("to=A&to=B")).to).toEqual(["A", "B"]);
    expect(queryArgs(sendTool, new URLSearchParams("to=A,B")).to).toEqual(["A", "B"]);
    expect(queryArgs(sendTool, new URLSearchParams("to=A,%20B&to=C&cc=D")).to).toEqual(["A", "B", "C"]);
    expect(queryArgs(sendTool, new URLSearchParams("cc=D")).cc).toEqual(["D"]);
  });

  it("coerces numbers and booleans and leaves what does not fit for the schema to name", () => {
    const args = queryArgs(
      sendTool,
      new URLSearchParams("ttl_seconds=60&ack_required=true&must_read=0&subject=42"),
    );
    expect(args).toEqual({ ttl_seconds: 60, ack_required: true, must_read: false, subject: "42" });
    expect(queryArgs(sendTool, new URLSearchParams("ttl_seconds=soon&broadcast=maybe"))).toEqual({
      ttl_seconds: "soon",
      broadcast: "maybe",
    });
  });

  it("refuses unknown names and a scalar given twice, but accepts the token parameters", () => {
    expect(() => queryArgs(sendTool, new URLSearchParams("too=A"))).toThrow(/Unknown parameter too/);
    expect(() => queryArgs(sendTool, new URLSearchParams("subject=a&subject=b"))).toThrow(/given 2 times/);
    expect(queryArgs(sendTool, new URLSearchParams("sender_token=t"))).toEqual({ sender_token: "t" });
  });

  it("exists for every route's tool", () => {
    for (const route of REST_ROUTES) expect(findTool(route.tool), route.tool).toBeDefined();
  });
});

describe("REST behind the HTTP server's authentication", () => {
  const SECRET = "rest-jwt-secret-5b2e91d7";
  let mb: Mailbox;
  let http: RunningHttpServer;
  let dir: string;
  let readerToken: string;
  let runtime: ReturnType<typeof createRuntime>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pigeonhole-rest-auth-"));
    mb = openMailbox({ home: dir, archive: false });
    ensureProject(mb, { human_key: "/work/identity" });
    readerToken = registerAgent(mb, {
      project_key: "/work/identity",
      program: "t",
      model: "m",
      name: "Reader",
    }).registration_token;
    registerAgent(mb, { project_key: "/work/identity", program: "t", model: "m", name: "Writer" });
    runtime = createRuntime(mb, silentLogger());
    http = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      runtime,
      security: { ...defaultHttpSecurity(), auth: { jwtSecret: SECRET }, maxBodyBytes: 2048 },
      routes: [restRoute(runtime)],
    });
  });

  afterAll(async () => {
    await http.close();
    await mb.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sendBody = JSON.stringify({
    project_key: "/work/identity",
    to: "Writer",
    subject: "s",
    body_md: "b",
  });

  it("needs credentials (401), lets a reader read but not write (403), and a writer write", async () => {
    const anonymous = await fetch(`${http.url}/v1/agents?project_key=/work/identity`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe("UNAUTHENTICATED");

    const reader = bearer(await hs256(SECRET, { sub: "script", role: "reader" }));
    const peek = await fetch(`${http.url}/v1/peek?project_key=/work/identity`, {
      headers: { ...reader, "x-agent-name": "Reader", "x-agent-token": readerToken },
    });
    expect(peek.status).toBe(200);
    expect(await peek.json()).toMatchObject({ unread: 0, verified_sender: true });

    const refused = await fetch(`${http.url}/v1/send`, {
      method: "POST",
      headers: {
        ...reader,
        "content-type": "application/json",
        "x-agent-token": readerToken,
        "x-agent-name": "Reader",
      },
      body: sendBody,
    });
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("PERMISSION_DENIED");
    expect(body.error.message).toMatch(/writer role/);

    const writer = bearer(await hs256(SECRET, { sub: "bot", role: "writer" }));
    const sent = await fetch(`${http.url}/v1/send`, {
      method: "POST",
      headers: { ...writer, "content-type": "application/json", "x-agent-token": readerToken },
      body: JSON.stringify({ ...JSON.parse(sendBody), sender_name: "Reader" }),
    });
    expect(sent.status).toBe(200);
    expect(await sent.json()).toMatchObject({ count: 1, verified_sender: true });

    // Every call went through the shared dispatcher: counted in the runtime's tool metrics.
    const tools = runtime.metrics.report().tools;
    expect(tools.find((t) => t.tool === "peek_inbox")).toMatchObject({ calls: 1, errors: {} });
    expect(tools.find((t) => t.tool === "send_message")).toMatchObject({
      calls: 2,
      errors: { PERMISSION_DENIED: 1 },
    });
  });

  it("refuses a body over the server's limit with 413", async () => {
    const writer = bearer(await hs256(SECRET, { sub: "bot", role: "writer" }));
    const res = await fetch(`${http.url}/v1/read`, {
      method: "POST",
      headers: { ...writer, "content-type": "application/json" },
      body: JSON.stringify({ project_key: "x".repeat(4096) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("TOO_LARGE");
  });
});

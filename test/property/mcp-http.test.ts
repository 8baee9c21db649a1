import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureProject, openMailbox, registerAgent } from "../../engine/index.js";
import { TOOLS } from "../../server/mcp/catalog.js";
import { cliEnv, killAll, type ServeProcess, startServe } from "../server/cli-process.js";
import { anyValue } from "./arbitraries.js";
import { watchUnhandledRejections } from "./harness.js";
import { type RawAnswer, rawRequest } from "./raw-http.js";

/**
 * The MCP endpoint of a real `pigeonhole serve` process with random JSON-RPC over real HTTP: unknown and
 * known methods with random params and ids, batches, broken JSON, wrong headers, unknown sessions, and
 * tool calls with random arguments on a live session. The server never answers 500, never reports a tool
 * failure as INTERNAL, logs no error, and keeps serving.
 */

let home: string;
let server: ServeProcess;
let slug: string;
let token: string;
let session: string;
const rejections = watchUnhandledRejections();

const RPC_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const PROTOCOL_VERSION = "2025-06-18";

function post(body: string, headers: Record<string, string>): Promise<RawAnswer> {
  return rawRequest(server.url, { method: "POST", path: "/mcp", headers, body });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "ph-prop-mcp-"));
  const mb = openMailbox({ home, archive: false });
  slug = ensureProject(mb, { human_key: "/work/prop-mcp" }).slug;
  token = registerAgent(mb, {
    project_key: slug,
    program: "p",
    model: "m",
    name: "Alice",
  }).registration_token;
  registerAgent(mb, { project_key: slug, program: "p", model: "m", name: "Bob" });
  await mb.close();
  server = await startServe(
    ["--home", home],
    cliEnv({ PIGEONHOLE_ARCHIVE: "off", PIGEONHOLE_RATE_LIMIT: "off" }),
  );
  const init = await post(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "fuzz", version: "1" },
      },
    }),
    RPC_HEADERS,
  );
  session = String(init.headers["mcp-session-id"]);
  await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), {
    ...RPC_HEADERS,
    "mcp-session-id": session,
    "mcp-protocol-version": PROTOCOL_VERSION,
  });
});

afterEach(() => {
  expect(rejections.drain()).toEqual([]);
});

afterAll(async () => {
  rejections.stop();
  await killAll();
  await rm(home, { recursive: true, force: true });
});

const METHODS = [
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "notifications/initialized",
  "notifications/cancelled",
  "no/such/method",
];

/** Params for a method: plausible (tool calls with random arguments, real URIs) or anything at all. */
function params(): fc.Arbitrary<unknown> {
  const toolCall = fc.record({
    name: fc.constantFrom(...TOOLS.map((t) => t.name), "no_such_tool"),
    arguments: fc.oneof(
      fc.record(
        {
          project_key: fc.constantFrom(slug, "nope"),
          agent_name: fc.constantFrom("Alice", "Bob"),
          sender_name: fc.constantFrom("Alice", "Bob"),
          to: fc.constantFrom("Bob", "Alice"),
          subject: fc.lorem({ maxCount: 4 }),
          body_md: fc.lorem(),
          sender_token: fc.constant(token),
          x: anyValue,
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
  });
  const uri = fc.record({
    uri: fc.oneof(
      fc.constantFrom(
        `resource://inbox/Alice?project=${slug}`,
        "resource://projects",
        `resource://agents/${slug}`,
        "resource://message/1",
        "resource://thread/x",
        "resource://nope",
        "not a uri",
        "",
      ),
      anyValue,
    ),
  });
  return fc.oneof(
    { weight: 6, arbitrary: toolCall },
    { weight: 1, arbitrary: uri },
    {
      weight: 1,
      arbitrary: fc.record({
        name: fc.constantFrom("start_session", "check_mail", "x"),
        arguments: anyValue,
      }),
    },
    { weight: 1, arbitrary: fc.record({ level: fc.constantFrom("debug", "error", "nope") }) },
    { weight: 2, arbitrary: anyValue },
  );
}

const message = () =>
  fc.record(
    {
      jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant("2.0") }, { weight: 1, arbitrary: anyValue }),
      id: fc.oneof(
        { weight: 4, arbitrary: fc.nat() },
        fc.string({ maxLength: 8 }),
        fc.constant(null),
        anyValue,
      ),
      method: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...METHODS) },
        { weight: 1, arbitrary: anyValue },
      ),
      params: params(),
    },
    { requiredKeys: ["jsonrpc", "id", "method"] },
  );

/** JSON text of `value`; a value nested too deeply for JSON.stringify becomes deeply nested text instead. */
function json(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
  }
}

const bodies = () =>
  fc.oneof(
    { weight: 6, arbitrary: message().map(json) },
    { weight: 1, arbitrary: fc.array(message(), { maxLength: 3 }).map(json) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        "{",
        "null",
        "[]",
        "1",
        '"x"',
        "{}",
        `${"[".repeat(5000)}${"]".repeat(5000)}`,
      ),
    },
  );

/** Mostly what a client sends, sometimes something else. */
const usually = <T>(value: T, ...others: T[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(value) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
  );

const requests = () =>
  fc.record({
    method: usually("POST", "GET", "DELETE", "PUT"),
    session: usually("live", "none", "unknown"),
    accept: usually("application/json, text/event-stream", "application/json", "text/event-stream", ""),
    contentType: usually("application/json", "text/plain", ""),
    version: usually(PROTOCOL_VERSION, "1999-01-01", ""),
    body: bodies(),
  });

/** The JSON-RPC messages in an answer: a JSON body, or the `data:` lines of an event stream. */
function messages(answer: RawAnswer): unknown[] {
  if (answer.contentType.includes("text/event-stream")) {
    return answer.text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)));
  }
  if (answer.contentType.includes("application/json") && answer.text) return [JSON.parse(answer.text)].flat();
  return [];
}

describe("MCP over Streamable HTTP, random JSON-RPC", () => {
  it("never answers 500 and never reports a tool failure as INTERNAL", async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async (r) => {
        // On the live session, a GET would open the long-lived notification stream and a DELETE would end
        // the session: those two are only sent without one (or with an unknown one).
        if (r.method !== "POST" && r.session === "live") return;
        const headers: Record<string, string> = {};
        if (r.accept) headers.accept = r.accept;
        if (r.contentType) headers["content-type"] = r.contentType;
        if (r.version) headers["mcp-protocol-version"] = r.version;
        if (r.session === "live") headers["mcp-session-id"] = session;
        if (r.session === "unknown") headers["mcp-session-id"] = "00000000-0000-0000-0000-000000000000";
        const answer = await rawRequest(server.url, {
          method: r.method,
          path: "/mcp",
          headers,
          body: r.method === "POST" ? r.body : undefined,
        });
        const what = `${r.method} ${JSON.stringify(headers)} ${r.body.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, what).toBeGreaterThanOrEqual(200);
        expect(answer.status, what).toBeLessThan(500);
        for (const m of messages(answer) as {
          result?: { isError?: boolean; content?: { text?: string }[] };
        }[]) {
          const text = m.result?.isError ? m.result.content?.[0]?.text : undefined;
          if (text) expect(JSON.parse(text).error.type, what).not.toBe("INTERNAL");
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 120) },
    );
  });

  it("keeps the session working and logs no error", async () => {
    const answer = await post(JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/list" }), {
      ...RPC_HEADERS,
      "mcp-session-id": session,
      "mcp-protocol-version": PROTOCOL_VERSION,
    });
    expect(answer.status).toBe(200);
    const list = messages(answer)[0] as { result: { tools: unknown[] } };
    expect(list.result.tools).toHaveLength(TOOLS.length);
    const errors = server
      .stderr()
      .split("\n")
      .filter((line) => line.startsWith("pigeonhole error:"));
    expect(errors).toEqual([]);
  });
});

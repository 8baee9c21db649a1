import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, ensureProject, openMailbox, registerAgent, sendMessage } from "../../engine/index.js";
import { findTool, inputJsonSchema } from "../../server/mcp/catalog.js";
import { REST_ROUTES } from "../../server/rest/routes.js";
import { cliEnv, killAll, type ServeProcess, startServe } from "../server/cli-process.js";
import { anyValue } from "./arbitraries.js";
import { watchUnhandledRejections } from "./harness.js";
import { type RawAnswer, rawRequest } from "./raw-http.js";

/**
 * The REST API of a real `pigeonhole serve` process, over real HTTP, with random methods, paths, query
 * strings, headers and bodies (valid JSON, broken JSON, deeply nested JSON, the wrong content type):
 * the server never answers 500, every error carries the canonical typed body, nothing is logged as an
 * error, and the server still answers afterwards.
 */

let home: string;
let server: ServeProcess;
let slug: string;
const tokens: string[] = [];
const rejections = watchUnhandledRejections();

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "ph-prop-rest-"));
  const mb = openMailbox({ home, archive: false });
  slug = ensureProject(mb, { human_key: "/work/prop-rest" }).slug;
  for (const name of ["Alice", "Bob"]) {
    tokens.push(registerAgent(mb, { project_key: slug, program: "p", model: "m", name }).registration_token);
  }
  await sendMessage(mb, {
    project_key: slug,
    sender_name: "Alice",
    to: "Bob",
    subject: "hi",
    body_md: "hello",
  });
  await mb.close();
  server = await startServe(
    ["--home", home],
    cliEnv({ PIGEONHOLE_ARCHIVE: "off", PIGEONHOLE_RATE_LIMIT: "off", PIGEONHOLE_MAX_BODY_BYTES: "65536" }),
  );
});

afterEach(() => {
  expect(rejections.drain()).toEqual([]);
});

afterAll(async () => {
  rejections.stop();
  await killAll();
  await rm(home, { recursive: true, force: true });
});

/** One raw request to the server under test. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawAnswer> {
  return rawRequest(server.url, { method, path, headers, body });
}

/** Text for a URL component: anything, percent-encoded, or a raw odd sequence that is still legal in a URL. */
const component = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom(
    "",
    "%",
    "%00",
    "%ff",
    "%2e%2e",
    "..",
    "a,b,,c",
    "true",
    "1",
    "-1",
    "1e3",
    "%E2%80%AE",
    "+",
  ),
  fc.constantFrom("Alice", "Bob", "alice", "NoSuchAgent"),
);

const paths = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...REST_ROUTES.map((r) => r.path)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("/v1", "/v1/", "/v1//send", "/v1/send/", "/v1/../v1/send", "/v1/%2e%2e/send"),
  },
  { weight: 1, arbitrary: component.map((c) => `/v1/${c}`) },
);

/** Query strings over the endpoint's own parameter names (and some others), values of any kind. */
function queryFor(path: string): fc.Arbitrary<string> {
  const route = REST_ROUTES.find((r) => r.path === path);
  const tool = route && findTool(route.tool);
  const names = tool ? Object.keys(inputJsonSchema(tool).properties ?? {}) : [];
  const key = fc.oneof(
    ...(names.length ? [{ weight: 4, arbitrary: fc.constantFrom(...names) }] : []),
    { weight: 1, arbitrary: fc.constantFrom("sender_token", "agent_token", "__proto__", "constructor") },
    { weight: 1, arbitrary: component },
  );
  const value = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(slug, "Alice", "Bob", "1", "20") },
    { weight: 3, arbitrary: component },
  );
  return fc
    .array(fc.tuple(key, fc.option(value, { nil: undefined })), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join("&"));
}

/** A request body: JSON arguments (often plausible), broken or hostile JSON, or nothing. */
function bodies(): fc.Arbitrary<string | undefined> {
  const args = fc.record(
    {
      project_key: fc.oneof(fc.constant(slug), anyValue),
      sender_name: fc.oneof(fc.constantFrom("Alice", "Bob"), anyValue),
      agent_name: fc.oneof(fc.constantFrom("Alice", "Bob"), anyValue),
      to: fc.oneof(fc.constantFrom("Bob", ["Alice", "Bob"]), anyValue),
      subject: fc.oneof(fc.lorem({ maxCount: 5 }), anyValue),
      body_md: fc.oneof(fc.lorem(), anyValue),
      message_id: fc.oneof(fc.constantFrom(1, 2), anyValue),
      payload: anyValue,
      extra: anyValue,
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    {
      weight: 5,
      arbitrary: args.map((value) => {
        try {
          return JSON.stringify(value);
        } catch {
          // Nested too deeply for JSON.stringify: the same shape, written out by hand.
          return `{"project_key":${JSON.stringify(slug)},"payload":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
        }
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom("", "{", "null", "[]", '"text"', "1", '{"a":}', "\u0000", "{}") },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 30_000).map((d) => `${"[".repeat(d)}${"]".repeat(d)}`) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(1_000, 10_000)
        .map(
          (d) => `{"project_key":${JSON.stringify(slug)},"payload":${'{"k":'.repeat(d)}1${"}".repeat(d)}}`,
        ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Header values: tokens, wrong ones, random visible ASCII (anything else never leaves the client). */
function headerValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...tokens, "wrong", ""),
    fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
  );
}

/** Random requests: method, path with query string, headers and body. */
function requests() {
  return fc
    .tuple(
      fc.constantFrom("GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
      paths,
      fc.record(
        {
          "content-type": fc.constantFrom(
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
          ),
          "x-agent-token": headerValue(),
          "x-agent-name": headerValue(),
          origin: fc.constantFrom("http://127.0.0.1", "http://evil.example", "null"),
          "access-control-request-method": fc.constantFrom("POST", "GET"),
        },
        { requiredKeys: [] },
      ),
      bodies(),
    )
    .chain(([method, path, headers, body]) =>
      queryFor(path).map((query) => ({ method, path: query ? `${path}?${query}` : path, headers, body })),
    );
}

describe("REST API over HTTP, random requests", () => {
  it("never answers 500, and every error is the canonical typed body", async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async ({ method, path, headers, body }) => {
        const sentBody = method === "GET" || method === "HEAD" ? undefined : body;
        const answer = await send(method, path, headers, sentBody).catch((error: unknown) => {
          throw new Error(
            `${method} ${path.slice(0, 200)} with ${String(sentBody?.length ?? 0)} body bytes: ${String(error)}`,
          );
        });
        const what = `${method} ${path.slice(0, 200)} ${JSON.stringify(headers)} body ${String(body).slice(0, 120)} → ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, what).toBeGreaterThanOrEqual(200);
        expect(answer.status, what).toBeLessThan(500);
        if (answer.status < 400 || method === "HEAD") return;
        expect(answer.contentType, what).toContain("application/json");
        const error = (JSON.parse(answer.text) as { error?: Record<string, unknown> }).error;
        expect(Object.keys(ERROR_CODES), what).toContain(error?.type);
        expect(error?.message, what).toEqual(expect.any(String));
        expect(error?.recoverable, what).toEqual(expect.any(Boolean));
        expect(error?.data, what).toEqual(expect.any(Object));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
  });

  it("answers a valid send with a payload nested too deeply to store with 413 TOO_LARGE", async () => {
    const depth = 20_000;
    const body = `{"project_key":${JSON.stringify(slug)},"sender_name":"Alice","to":"Bob","subject":"deep","body_md":"b","payload":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const answer = await send(
      "POST",
      "/v1/send",
      { "content-type": "application/json", "x-agent-token": tokens[0]! },
      body,
    );
    expect(answer.status, answer.text).toBe(413);
    expect(JSON.parse(answer.text).error).toMatchObject({ type: "TOO_LARGE", data: { field: "payload" } });
  });

  it("leaves a healthy server that logged no error", async () => {
    const health = await send("GET", "/health", {});
    expect(health.status).toBe(200);
    const errors = server
      .stderr()
      .split("\n")
      .filter((line) => line.startsWith("pigeonhole error:"));
    expect(errors).toEqual([]);
  });
});

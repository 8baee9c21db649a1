import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  ensureProject,
  type LlmConfig,
  llmConfigFromEnv,
  type Mailbox,
  type MultiThreadSummaryResult,
  openMailbox,
  registerAgent,
  replyMessage,
  sendMessage,
  summarizeThread,
  type ThreadSummaryResult,
} from "../../engine/index.js";

interface Recorded {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

const closers: (() => Promise<void>)[] = [];

/** A local OpenAI-compatible endpoint that records each request and answers with `respond`. */
async function llmServer(respond: (res: ServerResponse, body: string) => void) {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      respond(res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  closers.push(close);
  return { url: `http://127.0.0.1:${port}/v1`, requests, close };
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(typeof value === "string" ? value : JSON.stringify(value));
}

const chat = (content: string) => ({ choices: [{ message: { role: "assistant", content } }] });

let home: string;
let mb: Mailbox;
let root: number;
const project = "/repo/llm";
const SECRET = "sk-test-secret-123";

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "ph-llm-"));
  mb = openMailbox({ home, archive: false });
  ensureProject(mb, { human_key: project });
  for (const name of ["Alice", "Bob"])
    registerAgent(mb, { project_key: project, program: "t", model: "m", name });
  const sent = await sendMessage(mb, {
    project_key: project,
    sender_name: "Alice",
    to: ["Bob"],
    subject: "Release",
    body_md: "We ship Friday. Is CI green?\n- [ ] tag v1\n```\nsecret code block\n```",
  });
  root = sent.deliveries[0]!.payload.id;
  await replyMessage(mb, {
    project_key: project,
    message_id: root,
    sender_name: "Bob",
    body_md: "CI is green.",
  });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const close of closers.splice(0)) await close();
  await mb.close();
  rmSync(home, { recursive: true, force: true });
});

async function summarize(llm: LlmConfig | null | undefined, thread_id = String(root)) {
  return summarizeThread(mb, { project_key: project, thread_id }, llm === undefined ? {} : { llm });
}

async function extractive() {
  return ((await summarize(null)) as ThreadSummaryResult).summary;
}

describe("LLM refinement", () => {
  test("success: refined key points are used, the key is sent as bearer, code is not sent", async () => {
    const server = await llmServer((res) =>
      json(res, 200, chat(JSON.stringify({ key_points: ["Ship Friday", "  CI   is green  ", ""] }))),
    );
    const llm = { url: `${server.url}/`, model: "tiny", apiKey: SECRET, timeoutMs: 5000 };
    const result = (await summarize(llm)) as ThreadSummaryResult;
    expect(result.summary.source).toBe("llm");
    expect(result.summary.key_points).toEqual(["Ship Friday", "CI is green"]);
    expect(result.summary.llm_fallback).toBeUndefined();
    // Action items stay extractive, grounded in message ids.
    expect(result.summary.action_items).toEqual((await extractive()).action_items);

    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe("/v1/chat/completions");
    expect(request!.headers.authorization).toBe(`Bearer ${SECRET}`);
    const sent = JSON.parse(request!.body);
    expect(sent.model).toBe("tiny");
    expect(sent.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user"]);
    const prompt = JSON.parse(sent.messages[1].content);
    expect(prompt.thread_id).toBe(String(root));
    expect(prompt.extractive_summary.key_points).toEqual((await extractive()).key_points);
    expect(prompt.messages.map((m: { from: string }) => m.from)).toEqual(["Alice", "Bob"]);
    expect(sent.messages[1].content).not.toContain("secret code block");
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  test("configured by environment; no key means no authorization header; a json fence is accepted", async () => {
    const server = await llmServer((res) =>
      json(res, 200, chat('```json\n{"key_points": ["From env"]}\n```')),
    );
    vi.stubEnv("PIGEONHOLE_LLM_URL", server.url);
    vi.stubEnv("PIGEONHOLE_LLM_MODEL", "env-model");
    vi.stubEnv("PIGEONHOLE_LLM_API_KEY", "");
    const result = (await summarize(undefined)) as ThreadSummaryResult;
    expect(result.summary.source).toBe("llm");
    expect(result.summary.key_points).toEqual(["From env"]);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.parse(server.requests[0]!.body).model).toBe("env-model");
  });

  test.each([
    ["a 500 response", "http_status", (res: ServerResponse) => json(res, 500, { error: "boom" })],
    ["a 201 response", "http_status", (res: ServerResponse) => json(res, 201, chat('{"key_points":["x"]}'))],
    ["a body that is not JSON", "invalid_json", (res: ServerResponse) => json(res, 200, "not json {")],
    [
      "content that is not JSON",
      "invalid_json",
      (res: ServerResponse) => json(res, 200, chat("Sure! Here:")),
    ],
    ["an envelope without choices", "bad_shape", (res: ServerResponse) => json(res, 200, { choices: [] })],
    [
      "key_points not a list",
      "bad_shape",
      (res: ServerResponse) => json(res, 200, chat('{"key_points":"x"}')),
    ],
    [
      "key_points all empty",
      "bad_shape",
      (res: ServerResponse) => json(res, 200, chat('{"key_points":[" "]}')),
    ],
    ["a body over 1 MiB", "too_large", (res: ServerResponse) => json(res, 200, "x".repeat(1024 * 1024 + 10))],
  ])("%s falls back to the extractive summary (%s)", async (_name, reason, respond) => {
    const server = await llmServer(respond);
    const result = (await summarize({ url: server.url, model: "m", timeoutMs: 5000 })) as ThreadSummaryResult;
    expect(server.requests).toHaveLength(1);
    expect(result.summary.source).toBe("extractive");
    expect(result.summary.llm_fallback).toBe(reason);
    expect({ ...result.summary, llm_fallback: undefined }).toEqual({
      ...(await extractive()),
      llm_fallback: undefined,
    });
  });

  test("timeout: a server that never answers falls back", async () => {
    const server = await llmServer(() => {
      // Never respond.
    });
    const result = (await summarize({ url: server.url, model: "m", timeoutMs: 200 })) as ThreadSummaryResult;
    expect(server.requests).toHaveLength(1);
    expect(result.summary.source).toBe("extractive");
    expect(result.summary.llm_fallback).toBe("timeout");
    expect(result.summary.key_points).toEqual((await extractive()).key_points);
  });

  test("connection refused falls back", async () => {
    const server = await llmServer(() => undefined);
    await server.close();
    const result = (await summarize({ url: server.url, model: "m", timeoutMs: 5000 })) as ThreadSummaryResult;
    expect(result.summary.source).toBe("extractive");
    expect(result.summary.llm_fallback).toBe("network");
  });

  test("an unusable URL falls back without a request", async () => {
    for (const url of ["ftp://127.0.0.1/v1", "not a url"]) {
      const result = (await summarize({ url, model: "m", timeoutMs: 1000 })) as ThreadSummaryResult;
      expect(result.summary.llm_fallback).toBe("bad_url");
      expect(result.summary.source).toBe("extractive");
    }
  });

  test("several threads: one request each; after a timeout the rest skip the LLM", async () => {
    await sendMessage(mb, {
      project_key: project,
      sender_name: "Bob",
      to: ["Alice"],
      subject: "Other",
      body_md: "TODO: x",
      thread_id: "T-2",
    });
    const ok = await llmServer((res, body) => {
      const prompt = JSON.parse(JSON.parse(body).messages[1].content);
      json(res, 200, chat(JSON.stringify({ key_points: [`refined ${prompt.thread_id}`] })));
    });
    const both = (await summarize(
      { url: ok.url, model: "m", timeoutMs: 5000 },
      `${root},T-2`,
    )) as MultiThreadSummaryResult;
    expect(ok.requests).toHaveLength(2);
    expect(both.threads.map((t) => [t.summary.source, t.summary.key_points])).toEqual([
      ["llm", [`refined ${root}`]],
      ["llm", ["refined T-2"]],
    ]);
    expect(both.aggregate.key_points).toEqual([`refined ${root}`, "refined T-2"]);

    const silent = await llmServer(() => undefined);
    const none = (await summarize(
      { url: silent.url, model: "m", timeoutMs: 200 },
      `${root},T-2`,
    )) as MultiThreadSummaryResult;
    expect(silent.requests).toHaveLength(1);
    expect(none.threads.map((t) => [t.summary.source, t.summary.llm_fallback])).toEqual([
      ["extractive", "timeout"],
      ["extractive", "timeout"],
    ]);
  });
});

describe("llmConfigFromEnv", () => {
  test("off unless both URL and model are set", () => {
    expect(llmConfigFromEnv({})).toBeNull();
    expect(llmConfigFromEnv({ PIGEONHOLE_LLM_URL: "http://x/v1" })).toBeNull();
    expect(llmConfigFromEnv({ PIGEONHOLE_LLM_MODEL: "m" })).toBeNull();
    expect(llmConfigFromEnv({ PIGEONHOLE_LLM_URL: " ", PIGEONHOLE_LLM_MODEL: "m" })).toBeNull();
  });

  test("timeout defaults to 10 s unless a whole number of milliseconds in range is given", () => {
    const base = { PIGEONHOLE_LLM_URL: "http://x/v1", PIGEONHOLE_LLM_MODEL: "m" };
    expect(llmConfigFromEnv(base)).toEqual({ url: "http://x/v1", model: "m", timeoutMs: 10_000 });
    expect(llmConfigFromEnv({ ...base, PIGEONHOLE_LLM_TIMEOUT_MS: "2500" })?.timeoutMs).toBe(2500);
    for (const bad of ["0", "-5", "1.5", "abc", "600001"]) {
      expect(llmConfigFromEnv({ ...base, PIGEONHOLE_LLM_TIMEOUT_MS: bad })?.timeoutMs).toBe(10_000);
    }
    expect(llmConfigFromEnv({ ...base, PIGEONHOLE_LLM_API_KEY: " k " })?.apiKey).toBe("k");
  });
});

import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeEach, describe, expect, test } from "vitest";
import { TOOLS } from "../../server/mcp/catalog.js";
import type { RuntimeOptions, ServerRuntime } from "../../server/mcp/runtime.js";
import type { SessionOptions } from "../../server/mcp/session.js";
import { type InMemoryServer, inMemoryServer } from "./in-memory-server.js";

let server: InMemoryServer;
let runtime: ServerRuntime;

beforeEach(() => {
  server = inMemoryServer();
  runtime = server.runtime;
});

/** A real SDK client linked to a fresh session of the server. */
const connect = (session: SessionOptions = {}, options?: RuntimeOptions) => server.connect(session, options);

interface Called {
  isError: boolean;
  json: Record<string, unknown> & { error?: { type: string; message: string } };
  texts: string[];
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Called> {
  const result = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text: string }[];
  };
  const texts = result.content.map((c) => c.text);
  return { isError: result.isError === true, json: JSON.parse(texts[0] as string), texts };
}

async function setup(client: Client) {
  await call(client, "ensure_project", { human_key: "/repo" });
  const alice = await call(client, "register_agent", {
    project_key: "repo",
    program: "p",
    model: "m",
    name: "Alice",
  });
  const bob = await call(client, "register_agent", {
    project_key: "repo",
    program: "p",
    model: "m",
    name: "Bob",
  });
  return { alice: alice.json, bob: bob.json };
}

describe("profiles", () => {
  test("full lists every tool; core lists the core tools plus the two meta-tools", async () => {
    const full = await (await connect()).listTools();
    expect(full.tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    const core = await (await connect({}, { profile: "core" })).listTools();
    const names = core.tools.map((t) => t.name);
    expect(names).toContain("list_extended_tools");
    expect(names).toContain("call_extended_tool");
    expect(names).not.toContain("create_agent_identity");
    expect(names.length).toBeLessThan(full.tools.length);
  });

  test("every listed tool has an object input schema and a read-only hint matching its access", async () => {
    const { tools } = await (await connect()).listTools();
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      const spec = TOOLS.find((t) => t.name === tool.name);
      expect(tool.annotations?.readOnlyHint).toBe(spec?.access === "read");
    }
  });

  test("call_extended_tool reaches a non-core tool; list_extended_tools describes it", async () => {
    const client = await connect({}, { profile: "core" });
    await setup(client);
    const listed = await call(client, "list_extended_tools");
    const names = (listed.json.tools as { name: string }[]).map((t) => t.name);
    expect(names).toContain("fetch_outbox");
    const outbox = await call(client, "call_extended_tool", {
      tool_name: "fetch_outbox",
      arguments: { project_key: "repo", agent_name: "Alice" },
    });
    expect(outbox.isError).toBe(false);
    expect(Array.isArray(outbox.json)).toBe(true);
  });
});

describe("identity binding", () => {
  test("a session acts as the agents it registered, and as others only with their token", async () => {
    const first = await connect();
    const { alice } = await setup(first);
    const sent = await call(first, "send_message", {
      project_key: "repo",
      sender_name: "Alice",
      to: "Bob",
      subject: "s",
      body_md: "b",
    });
    expect(sent.isError).toBe(false);
    expect(sent.json.verified_sender).toBe(true);

    const second = await connect();
    const denied = await call(second, "send_message", {
      project_key: "repo",
      sender_name: "Alice",
      to: "Bob",
      subject: "s",
      body_md: "b",
    });
    expect(denied.isError).toBe(true);
    expect(denied.json.error?.type).toBe("PERMISSION_DENIED");
    expect(denied.json.error?.message).toContain("sender_token");

    const withToken = await call(second, "send_message", {
      project_key: "repo",
      sender_name: "Alice",
      sender_token: alice.registration_token,
      to: "Bob",
      subject: "s",
      body_md: "b",
    });
    expect(withToken.json.verified_sender).toBe(true);
    // The token bound Alice to the second session.
    const again = await call(second, "peek_inbox", { project_key: "repo", agent_name: "Alice" });
    expect(again.isError).toBe(false);
  });

  test("re-registering someone else's name needs its token", async () => {
    await setup(await connect());
    const other = await connect();
    const taken = await call(other, "register_agent", {
      project_key: "repo",
      program: "p",
      model: "m",
      name: "alice",
    });
    expect(taken.json.error?.type).toBe("PERMISSION_DENIED");
  });

  test("reading another agent's inbox is acting as it", async () => {
    await setup(await connect());
    const other = await connect();
    expect(
      (await call(other, "fetch_inbox", { project_key: "repo", agent_name: "Bob" })).json.error?.type,
    ).toBe("PERMISSION_DENIED");
  });

  test("open identity mode allows any agent, unverified", async () => {
    await setup(await connect());
    const other = await connect({}, { identityMode: "open" });
    const sent = await call(other, "send_message", {
      project_key: "repo",
      sender_name: "Alice",
      to: "Bob",
      subject: "s",
      body_md: "b",
    });
    expect(sent.isError).toBe(false);
    expect(sent.json.verified_sender).toBe(false);
  });

  test("the default agent fills omitted names; explicit arguments win", async () => {
    const admin = await connect();
    await setup(admin);
    const asBob = await connect({ defaultAgent: "Bob", trustDefaultAgent: true });
    const sent = await call(asBob, "send_message", {
      project_key: "repo",
      to: "Bob",
      subject: "note to self",
      body_md: "b",
    });
    expect((sent.json.deliveries as { payload: { from: string } }[])[0]?.payload.from).toBe("Bob");
    const explicit = await call(asBob, "fetch_inbox", { project_key: "repo", agent_name: "Alice" });
    expect(explicit.json.error?.type).toBe("PERMISSION_DENIED");
  });
});

describe("untrusted default agent", () => {
  test("a default agent named by a request header fills names in but does not vouch for the agent", async () => {
    await setup(await connect());
    const header = await connect({ defaultAgent: "Bob" });
    const denied = await call(header, "peek_inbox", { project_key: "repo" });
    expect(denied.json.error?.type).toBe("PERMISSION_DENIED");
    expect(denied.json.error?.message).toContain("not bound to Bob");
  });
});

describe("results and errors", () => {
  test("engine errors are isError results with the canonical body", async () => {
    const client = await connect();
    const result = await call(client, "register_agent", { project_key: "nowhere", program: "p", model: "m" });
    expect(result.isError).toBe(true);
    expect(result.json).toEqual({
      error: {
        type: "NOT_FOUND",
        message: expect.stringContaining("ensure_project"),
        recoverable: true,
        data: { project_key: "nowhere" },
      },
    });
  });

  test("bad arguments name the field; nulls count as omitted", async () => {
    const client = await connect();
    await setup(client);
    const bad = await call(client, "fetch_inbox", {
      project_key: "repo",
      agent_name: "Alice",
      limit: "lots",
    });
    expect(bad.json.error?.type).toBe("INVALID_ARGUMENT");
    expect(bad.json.error?.message).toContain("limit");
    const nulls = await call(client, "fetch_inbox", {
      project_key: "repo",
      agent_name: "Alice",
      limit: null,
      since_ts: null,
    });
    expect(nulls.isError).toBe(false);
  });

  test("an unknown tool is a protocol error", async () => {
    const client = await connect();
    await expect(client.callTool({ name: "no_such_tool", arguments: {} })).rejects.toThrow(/Unknown tool/);
  });

  test("array results are the text JSON and {result} structured content", async () => {
    const client = await connect();
    await setup(client);
    const raw = (await client.callTool({
      name: "list_agents",
      arguments: { project_key: "repo" },
    })) as unknown as {
      structuredContent: { result: unknown[] };
    };
    expect(raw.structuredContent.result).toHaveLength(2);
  });

  test("results for an agent with unread mail carry a notice; it can be switched off", async () => {
    const client = await connect();
    await setup(client);
    await call(client, "send_message", {
      project_key: "repo",
      sender_name: "Alice",
      to: "Bob",
      subject: "s",
      body_md: "b",
      importance: "urgent",
    });
    const peek = await call(client, "peek_inbox", { project_key: "repo", agent_name: "Bob" });
    expect(peek.texts[1]).toBe("Bob: 1 unread, 1 urgent (fetch_inbox to read)");
    const quiet = await connect({ unreadNotice: false, defaultAgent: "Bob", trustDefaultAgent: true });
    expect((await call(quiet, "peek_inbox", { project_key: "repo" })).texts).toHaveLength(1);
  });

  test("a reader may read but not write", async () => {
    const writer = await connect();
    await setup(writer);
    const reader = await connect({ role: "reader" }, { identityMode: "open" });
    expect((await call(reader, "list_agents", { project_key: "repo" })).isError).toBe(false);
    const denied = await call(reader, "send_message", {
      project_key: "repo",
      sender_name: "Alice",
      to: "Bob",
      subject: "s",
      body_md: "b",
    });
    expect(denied.json.error?.type).toBe("PERMISSION_DENIED");
    expect(denied.json.error?.message).toContain("writer role");
  });

  test("metrics count calls and errors per tool", async () => {
    const client = await connect();
    await setup(client);
    await call(client, "fetch_inbox", { project_key: "repo", agent_name: "Nobody" });
    const report = runtime.metrics.report();
    const inbox = report.tools.find((t) => t.tool === "fetch_inbox");
    expect(inbox).toMatchObject({ calls: 1, errors: { NOT_FOUND: 1 } });
    expect(report.tools.find((t) => t.tool === "register_agent")?.calls).toBe(2);
  });
});

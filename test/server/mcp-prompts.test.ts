import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, test } from "vitest";
import { ensureProject, registerAgent } from "../../engine/index.js";
import { PROMPTS } from "../../server/mcp/prompts.js";
import { inMemoryServer } from "./in-memory-server.js";

function seeded() {
  const srv = inMemoryServer();
  ensureProject(srv.mailbox, { human_key: "/work/web" });
  ensureProject(srv.mailbox, { human_key: "/work/api" });
  for (const name of ["Dana", "Dave", "Bob"])
    registerAgent(srv.mailbox, { project_key: "work-web", program: "p", model: "m", name });
  registerAgent(srv.mailbox, { project_key: "work-api", program: "p", model: "m", name: "Daphne" });
  return srv;
}

describe("prompts", () => {
  test("lists every prompt with its arguments, and renders one as a user message", async () => {
    const client = await seeded().connect();
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(PROMPTS.map((p) => p.name));
    expect(prompts.find((p) => p.name === "start_session")?.arguments).toEqual([
      { name: "project", description: expect.any(String), required: true },
      { name: "agent_name", description: expect.any(String), required: false },
      { name: "task", description: expect.any(String), required: false },
    ]);
    const got = await client.getPrompt({
      name: "start_session",
      arguments: { project: "/work/web", agent_name: "Dana", task: "fix login" },
    });
    expect(got.messages).toHaveLength(1);
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toContain('macro_start_session with human_key="/work/web"');
    expect(text).toContain('agent_name="Dana"');
    expect(text).toContain('task_description="fix login"');
    expect(text).toContain("file_reservation_paths");
  });

  test("an unknown prompt or a missing required argument is InvalidParams naming what is expected", async () => {
    const client = await seeded().connect();
    await expect(client.getPrompt({ name: "nope" })).rejects.toThrow(
      /-32602.*Unknown prompt "nope".*start_session/,
    );
    await expect(
      client.getPrompt({ name: "check_mail", arguments: { project: "/work/web" } }),
    ).rejects.toThrow(/needs the argument agent_name/);
  });
});

describe("completion/complete", () => {
  test("completes agent names within the project given in context, case-insensitively", async () => {
    const client = await seeded().connect();
    const ref = { type: "ref/prompt" as const, name: "check_mail" };
    const inWeb = await client.complete({
      ref,
      argument: { name: "agent_name", value: "da" },
      context: { arguments: { project: "/work/web" } },
    });
    expect(inWeb.completion).toEqual({ values: ["Dana", "Dave"], total: 2, hasMore: false });
    // Without a (known) project, every project's agents are offered.
    const anywhere = await client.complete({
      ref,
      argument: { name: "agent_name", value: "Da" },
      context: { arguments: { project: "/work/we" } },
    });
    expect(anywhere.completion.values.sort()).toEqual(["Dana", "Daphne", "Dave"]);
  });

  test("completes projects by human key or slug for prompts, and by slug for resource templates", async () => {
    const client = await seeded().connect();
    const prompt = await client.complete({
      ref: { type: "ref/prompt", name: "start_session" },
      argument: { name: "project", value: "/work/w" },
    });
    expect(prompt.completion.values).toEqual(["/work/web"]);
    const template = await client.complete({
      ref: { type: "ref/resource", uri: "resource://agents/{project_key}" },
      argument: { name: "project_key", value: "work-" },
    });
    expect(template.completion.values).toEqual(["work-web", "work-api"]);
    const inbox = await client.complete({
      ref: {
        type: "ref/resource",
        uri: "resource://inbox/{agent}{?project,since_ts,urgent_only,include_bodies,limit}",
      },
      argument: { name: "agent", value: "b" },
    });
    expect(inbox.completion.values).toEqual(["Bob"]);
    const free = await client.complete({
      ref: { type: "ref/prompt", name: "start_session" },
      argument: { name: "task", value: "x" },
    });
    expect(free.completion).toEqual({ values: [], total: 0, hasMore: false });
  });

  test("an unknown prompt, template or argument is InvalidParams", async () => {
    const client = await seeded().connect();
    await expect(
      client.complete({ ref: { type: "ref/prompt", name: "nope" }, argument: { name: "a", value: "" } }),
    ).rejects.toThrow(/-32602/);
    await expect(
      client.complete({
        ref: { type: "ref/prompt", name: "check_mail" },
        argument: { name: "zzz", value: "" },
      }),
    ).rejects.toThrow(/has no argument zzz/);
    await expect(
      client.complete({
        ref: { type: "ref/resource", uri: "resource://nope/{x}" },
        argument: { name: "x", value: "" },
      }),
    ).rejects.toThrow(/No resource template/);
    await expect(
      client.complete({
        ref: { type: "ref/resource", uri: "resource://agents/{project_key}" },
        argument: { name: "agent", value: "" },
      }),
    ).rejects.toThrow(/has no variable agent/);
  });
});

describe("logging", () => {
  test("accepts logging/setLevel and reports an internal tool failure as an error log message", async () => {
    const srv = seeded();
    const client = await srv.connect();
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
    });
    expect(await client.setLoggingLevel("error")).toEqual({});
    // Closing the database under the server makes the next tool call fail inside the engine.
    srv.mailbox.db.close();
    const result = await client.callTool({ name: "health_check", arguments: {} });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("INTERNAL");
    await expect
      .poll(() => logs)
      .toEqual([
        { level: "error", logger: "pigeonhole", data: "tool health_check failed; see the server log" },
      ]);
  });
});

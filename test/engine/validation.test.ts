import { describe, expect, test } from "vitest";
import {
  acknowledgeMessage,
  createAgentIdentity,
  ERROR_CODES,
  type ErrorCode,
  ensureProject,
  fetchInbox,
  fetchOutbox,
  fetchTopic,
  getAgentProfile,
  getMessage,
  getThread,
  isPigeonholeError,
  listAgents,
  type Mailbox,
  markMessageRead,
  openMailbox,
  PigeonholeError,
  parseInput,
  peekInbox,
  registerAgent,
  replyMessage,
  retireAgent,
  SendMessageInput,
  sendMessage,
  unretireAgent,
} from "../../engine/index.js";
import { expectReject, send, sendId, world } from "./helpers.js";

type Operation = (mb: Mailbox, input: never) => unknown;

/** Every operation with a valid input against the `world()` fixture (project "repo-app"). */
const OPERATIONS: Record<string, { op: Operation; valid: Record<string, unknown> }> = {
  ensureProject: { op: ensureProject, valid: { human_key: "/repo/app" } },
  registerAgent: {
    op: registerAgent,
    valid: { project_key: "repo-app", program: "p", model: "m", name: "Bob" },
  },
  createAgentIdentity: {
    op: createAgentIdentity,
    valid: { project_key: "repo-app", program: "p", model: "m" },
  },
  getAgentProfile: { op: getAgentProfile, valid: { project_key: "repo-app", agent_name: "Bob" } },
  listAgents: { op: listAgents, valid: { project_key: "repo-app" } },
  retireAgent: { op: retireAgent, valid: { project_key: "repo-app", agent_name: "Carol" } },
  unretireAgent: { op: unretireAgent, valid: { project_key: "repo-app", agent_name: "Carol" } },
  sendMessage: {
    op: sendMessage,
    valid: { project_key: "repo-app", sender_name: "Alice", to: "Bob", subject: "s", body_md: "b" },
  },
  replyMessage: {
    op: replyMessage,
    valid: { project_key: "repo-app", message_id: 1, sender_name: "Bob", body_md: "b" },
  },
  fetchInbox: { op: fetchInbox, valid: { project_key: "repo-app", agent_name: "Bob" } },
  peekInbox: { op: peekInbox, valid: { project_key: "repo-app", agent_name: "Bob" } },
  fetchOutbox: { op: fetchOutbox, valid: { project_key: "repo-app", agent_name: "Alice" } },
  fetchTopic: { op: fetchTopic, valid: { project_key: "repo-app", topic_name: "t" } },
  markMessageRead: {
    op: markMessageRead,
    valid: { project_key: "repo-app", agent_name: "Bob", message_id: 1 },
  },
  acknowledgeMessage: {
    op: acknowledgeMessage,
    valid: { project_key: "repo-app", agent_name: "Bob", message_id: 1 },
  },
  getMessage: { op: getMessage, valid: { project_key: "repo-app", message_id: 1 } },
  getThread: { op: getThread, valid: { project_key: "repo-app", thread_id: "1" } },
};

/** [operation, field, bad value (undefined = missing)] — each must be INVALID_ARGUMENT naming the field. */
const BAD_FIELDS: [string, string, unknown][] = [
  ["ensureProject", "human_key", undefined],
  ["ensureProject", "human_key", 5],
  ["registerAgent", "project_key", undefined],
  ["registerAgent", "project_key", ""],
  ["registerAgent", "program", undefined],
  ["registerAgent", "program", ""],
  ["registerAgent", "model", undefined],
  ["registerAgent", "model", ["m"]],
  ["registerAgent", "name", 7],
  ["registerAgent", "task_description", 12],
  ["createAgentIdentity", "program", undefined],
  ["createAgentIdentity", "name_hint", true],
  ["getAgentProfile", "agent_name", undefined],
  ["getAgentProfile", "agent_name", ""],
  ["listAgents", "project_key", undefined],
  ["listAgents", "active_only", "yes"],
  ["retireAgent", "agent_name", undefined],
  ["unretireAgent", "agent_name", 3],
  ["sendMessage", "project_key", undefined],
  ["sendMessage", "sender_name", undefined],
  ["sendMessage", "subject", undefined],
  ["sendMessage", "body_md", undefined],
  ["sendMessage", "to", 5],
  ["sendMessage", "to", { name: "Bob" }],
  ["sendMessage", "cc", [1]],
  ["sendMessage", "bcc", true],
  ["sendMessage", "importance", "critical"],
  ["sendMessage", "importance", "URGENT"],
  ["sendMessage", "ack_required", "true"],
  ["sendMessage", "broadcast", 1],
  ["sendMessage", "must_read", "no"],
  ["sendMessage", "ttl_seconds", "60"],
  ["sendMessage", "thread_id", 5],
  ["sendMessage", "topic", 5],
  ["sendMessage", "attachment_paths", "file.txt"],
  ["replyMessage", "message_id", undefined],
  ["replyMessage", "message_id", "1"],
  ["replyMessage", "sender_name", undefined],
  ["replyMessage", "body_md", undefined],
  ["replyMessage", "to", 5],
  ["replyMessage", "subject_prefix", 5],
  ["fetchInbox", "agent_name", undefined],
  ["fetchInbox", "limit", "5"],
  ["fetchInbox", "limit", -1],
  ["fetchInbox", "urgent_only", "y"],
  ["fetchInbox", "include_bodies", 1],
  ["fetchInbox", "since_ts", 5],
  ["fetchInbox", "topic", ""],
  ["fetchInbox", "unread_only", "y"],
  ["peekInbox", "agent_name", undefined],
  ["fetchOutbox", "agent_name", undefined],
  ["fetchOutbox", "limit", 0],
  ["fetchOutbox", "include_bodies", "x"],
  ["fetchOutbox", "since_ts", 1],
  ["fetchTopic", "topic_name", undefined],
  ["fetchTopic", "limit", 1.5],
  ["fetchTopic", "include_bodies", "x"],
  ["fetchTopic", "agent_name", 5],
  ["markMessageRead", "message_id", undefined],
  ["markMessageRead", "message_id", "1"],
  ["markMessageRead", "agent_name", undefined],
  ["acknowledgeMessage", "message_id", 0],
  ["acknowledgeMessage", "agent_name", ""],
  ["getMessage", "message_id", undefined],
  ["getMessage", "message_id", Number.NaN],
  ["getMessage", "agent_name", 5],
  ["getThread", "thread_id", undefined],
  ["getThread", "thread_id", 5],
  ["getThread", "include_bodies", "x"],
  ["getThread", "limit", 0],
];

async function fixture() {
  const w = world(["Alice", "Bob", "Carol"]);
  await sendId(w, { sender_name: "Alice", to: "Bob", topic: "t" });
  return w;
}

describe("validation: every operation", () => {
  test("the fixture's valid inputs succeed (so the failures below are about the bad field)", async () => {
    const w = await fixture();
    for (const [name, { op, valid }] of Object.entries(OPERATIONS)) {
      await expect(
        Promise.resolve().then(() => op(w.mb, valid as never)),
        name,
      ).resolves.toBeDefined();
    }
  });

  test.each(BAD_FIELDS)(
    "%s with %s = %j is INVALID_ARGUMENT naming the field",
    async (name, field, value) => {
      const w = await fixture();
      const { op, valid } = OPERATIONS[name]!;
      const input: Record<string, unknown> = { ...valid };
      if (value === undefined) delete input[field];
      else input[field] = value;
      const error = await expectReject(async () => op(w.mb, input as never), "INVALID_ARGUMENT");
      expect(error.message).toContain(`${field}:`);
      expect(error.data.problems).toEqual(expect.arrayContaining([expect.stringContaining(field)]));
    },
  );

  test.each(Object.keys(OPERATIONS))("%s refuses a non-object input with INVALID_ARGUMENT", async (name) => {
    const w = await fixture();
    for (const input of ["text", 42, [1, 2]]) {
      const error = await expectReject(
        async () => OPERATIONS[name]!.op(w.mb, input as never),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/arguments/);
    }
  });

  test.each(Object.keys(OPERATIONS))("%s names every missing field at once", async (name) => {
    const w = await fixture();
    const error = await expectReject(async () => OPERATIONS[name]!.op(w.mb, {} as never), "INVALID_ARGUMENT");
    // `name` and `to` are optional; every other field of the valid inputs is required.
    const required = Object.keys(OPERATIONS[name]!.valid).filter((f) => f !== "name" && f !== "to");
    for (const field of required) expect(error.message).toContain(`${field}:`);
  });

  test.each(
    Object.keys(OPERATIONS).filter((n) => "agent_name" in OPERATIONS[n]!.valid || n === "getMessage"),
  )("%s refuses an over-long agent_name with TOO_LARGE", async (name) => {
    const w = await fixture();
    const input = { ...OPERATIONS[name]!.valid, agent_name: "a".repeat(5000) };
    const error = await expectReject(async () => OPERATIONS[name]!.op(w.mb, input as never), "TOO_LARGE");
    expect(error.message).toContain("agent_name:");
  });

  test("unknown fields are ignored (agents written for other servers still work)", async () => {
    const w = await fixture();
    const r = await send(w, { sender_name: "Alice", to: "Bob", ...({ extra_field: 1 } as object) });
    expect(r.count).toBe(1);
  });

  test("defaults are filled in by the schema", () => {
    const parsed = parseInput(SendMessageInput, {
      project_key: "p",
      sender_name: "A",
      subject: "s",
      body_md: "b",
    });
    expect(parsed).toMatchObject({
      to: [],
      cc: [],
      bcc: [],
      attachment_paths: [],
      importance: "normal",
      ack_required: false,
      broadcast: false,
      must_read: false,
    });
  });
});

describe("errors are always PigeonholeErrors", () => {
  test("garbage inputs to every operation never escape as raw errors", async () => {
    const w = await fixture();
    const garbage: unknown[] = [
      null,
      undefined,
      {},
      { project_key: null },
      { project_key: "repo-app", agent_name: "Bob", message_id: 2 ** 60 },
      { project_key: "repo-app", agent_name: "Bob", message_id: Number.POSITIVE_INFINITY },
      { project_key: "repo-app", agent_name: "Bob", thread_id: "x".repeat(300) },
      { project_key: "repo-app", human_key: "\u0000" },
      { project_key: "\u0000", agent_name: "\u0000" },
    ];
    let refused = 0;
    for (const [name, { op, valid }] of Object.entries(OPERATIONS)) {
      for (const g of garbage) {
        const input = g && typeof g === "object" ? { ...valid, ...g } : g;
        try {
          await op(w.mb, input as never);
        } catch (error) {
          refused++;
          expect(isPigeonholeError(error), `${name} ${JSON.stringify(g)}: ${String(error)}`).toBe(true);
        }
      }
    }
    expect(refused).toBeGreaterThan(Object.keys(OPERATIONS).length * 3);
  });
});

describe("the canonical error shape", () => {
  async function provoke(code: ErrorCode): Promise<PigeonholeError> {
    const w = await fixture();
    switch (code) {
      case "INVALID_ARGUMENT":
        return expectReject(async () => ensureProject(w.mb, { human_key: "./rel" }), code);
      case "TOO_LARGE":
        return expectReject(
          () => send(w, { sender_name: "Alice", to: "Bob", body_md: "x".repeat(2 ** 20 + 1) }),
          code,
        );
      case "NOT_FOUND":
        return expectReject(
          async () => getAgentProfile(w.mb, { project_key: w.key, agent_name: "Zed" }),
          code,
        );
      case "CONFLICT": {
        ensureProject(w.mb, { human_key: "/other" });
        return expectReject(
          async () => registerAgent(w.mb, { project_key: "other", program: "p", model: "m", name: "alice" }),
          code,
        );
      }
      case "AGENT_RETIRED":
        retireAgent(w.mb, { project_key: w.key, agent_name: "Bob" });
        return expectReject(() => send(w, { sender_name: "Alice", to: "Bob" }), code);
      case "BUSY": {
        const other = openMailbox({ home: w.home, archive: false, busyTimeoutMs: 20 });
        w.mb.db.exec("BEGIN IMMEDIATE");
        try {
          return await expectReject(async () => ensureProject(other, { human_key: "/busy" }), code);
        } finally {
          w.mb.db.exec("ROLLBACK");
          await other.close();
        }
      }
      default:
        throw new Error(`cannot provoke ${code}`);
    }
  }

  const PROVOKABLE: ErrorCode[] = [
    "INVALID_ARGUMENT",
    "TOO_LARGE",
    "NOT_FOUND",
    "CONFLICT",
    "AGENT_RETIRED",
    "BUSY",
  ];

  test.each(PROVOKABLE)("%s serializes as {error:{type, message, recoverable, data}}", async (code) => {
    const error = await provoke(code);
    const json = error.toJSON();
    expect(Object.keys(json)).toEqual(["error"]);
    expect(Object.keys(json.error).sort()).toEqual(["data", "message", "recoverable", "type"]);
    expect(json.error.type).toBe(code);
    expect(json.error.recoverable).toBe(ERROR_CODES[code].recoverable);
    expect(typeof json.error.message).toBe("string");
    expect(json.error.message.length).toBeGreaterThan(10);
    expect(typeof json.error.data).toBe("object");
    expect(JSON.parse(JSON.stringify(error))).toEqual(json);
    expect(error).toBeInstanceOf(PigeonholeError);
    expect(error.name).toBe("PigeonholeError");
  });

  test("opening a mailbox while another connection holds the write lock past the timeout is BUSY", async () => {
    const w = await fixture();
    w.mb.db.exec("BEGIN IMMEDIATE");
    try {
      const error = await expectReject(
        async () => openMailbox({ home: w.home, archive: false, busyTimeoutMs: 20 }),
        "BUSY",
      );
      expect(error.message).toMatch(/retry/);
    } finally {
      w.mb.db.exec("ROLLBACK");
    }
  });

  test("isPigeonholeError also recognizes an error from a duplicated module instance", () => {
    const foreign = Object.assign(new Error("x"), { name: "PigeonholeError" });
    expect(isPigeonholeError(foreign)).toBe(true);
    expect(isPigeonholeError(new Error("x"))).toBe(false);
    expect(isPigeonholeError({ name: "PigeonholeError" })).toBe(false);
  });

  test("every code has a stable recoverable flag", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      expect(new PigeonholeError(code, "m").recoverable).toBe(ERROR_CODES[code].recoverable);
    }
  });
});

import { describe, expect, test } from "vitest";
import {
  acknowledgeMessage,
  fetchInbox,
  fetchOutbox,
  fetchTopic,
  getMessage,
  getThread,
  listAgents,
  markMessageRead,
  peekInbox,
  replyMessage,
} from "../../engine/index.js";
import { expectFail, expectReject, send, type World, world } from "./helpers.js";

/**
 * One message from Alice: to Bob, cc Carol, bcc Dave and Erin, in topic `plans`; Eve is an outsider.
 * Who may see which BCC name is the whole point of these tests.
 */
async function scenario(): Promise<{ w: World; id: number; thread: string }> {
  const w = world(["Alice", "Bob", "Carol", "Dave", "Erin", "Eve"]);
  const result = await send(w, {
    sender_name: "Alice",
    to: "Bob",
    cc: "Carol",
    bcc: ["Dave", "Erin"],
    topic: "plans",
    subject: "secret plan",
  });
  const id = result.deliveries[0]!.payload.id;
  return { w, id, thread: String(id) };
}

/** BCC names each viewer may see; `null` is the operator's project-wide view. */
const EXPECTED_BCC: [string | null, string[]][] = [
  ["Alice", ["Dave", "Erin"]],
  ["Bob", []],
  ["Carol", []],
  ["Dave", ["Dave"]],
  ["Erin", ["Erin"]],
  [null, []],
];

const viewerLabel = (viewer: string | null) => viewer ?? "operator";

describe("BCC names", () => {
  test("the sender's send result shows every BCC name", async () => {
    const w = world(["Alice", "Bob", "Dave"]);
    const r = await send(w, { sender_name: "Alice", to: "Bob", bcc: "Dave" });
    expect(r.deliveries[0]!.payload.bcc).toEqual(["Dave"]);
  });

  test.each(["Bob", "Carol", "Dave", "Erin"])(
    "%s's inbox shows only the BCC names it may see",
    async (name) => {
      const { w, id } = await scenario();
      const [item] = fetchInbox(w.mb, { project_key: w.key, agent_name: name, include_bodies: true });
      expect(item!.id).toBe(id);
      expect(item!.to).toEqual(["Bob"]);
      expect(item!.cc).toEqual(["Carol"]);
      expect(item!.bcc).toEqual(EXPECTED_BCC.find(([v]) => v === name)![1]);
    },
  );

  test("the sender's outbox shows every BCC name and receipt", async () => {
    const { w } = await scenario();
    const [item] = fetchOutbox(w.mb, { project_key: w.key, agent_name: "Alice" });
    expect(item!.bcc).toEqual(["Dave", "Erin"]);
    expect(item!.recipients.map((r) => `${r.name}:${r.kind}`)).toEqual([
      "Bob:to",
      "Carol:cc",
      "Dave:bcc",
      "Erin:bcc",
    ]);
  });

  test.each(EXPECTED_BCC)("getMessage as %s", async (viewer, bcc) => {
    const { w, id } = await scenario();
    const m = getMessage(w.mb, {
      project_key: w.key,
      message_id: id,
      ...(viewer ? { agent_name: viewer } : {}),
    });
    expect(m.bcc, viewerLabel(viewer)).toEqual(bcc);
    expect(m.to).toEqual(["Bob"]);
  });

  test.each(EXPECTED_BCC)("getThread as %s", async (viewer, bcc) => {
    const { w, thread } = await scenario();
    const t = getThread(w.mb, {
      project_key: w.key,
      thread_id: thread,
      ...(viewer ? { agent_name: viewer } : {}),
    });
    expect(t.messages.map((m) => m.bcc)).toEqual([bcc]);
  });

  test.each(EXPECTED_BCC)("fetchTopic as %s", async (viewer, bcc) => {
    const { w } = await scenario();
    const items = fetchTopic(w.mb, {
      project_key: w.key,
      topic_name: "plans",
      ...(viewer ? { agent_name: viewer } : {}),
    });
    expect(items.map((m) => m.bcc)).toEqual([bcc]);
  });

  test("viewer names match case-insensitively without widening what is shown", async () => {
    const { w, id } = await scenario();
    expect(getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "dave" }).bcc).toEqual([
      "Dave",
    ]);
    expect(getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "ALICE" }).bcc).toEqual([
      "Dave",
      "Erin",
    ]);
  });

  test("a BCC recipient's reply reaches the sender alone and reveals no other BCC name", async () => {
    const { w, id } = await scenario();
    const r = await replyMessage(w.mb, {
      project_key: w.key,
      message_id: id,
      sender_name: "Dave",
      body_md: "ok",
    });
    expect([r.to, r.cc, r.bcc]).toEqual([["Alice"], [], []]);
    for (const name of ["Bob", "Carol", "Erin"]) {
      expect(fetchInbox(w.mb, { project_key: w.key, agent_name: name }).map((m) => m.id)).not.toContain(r.id);
    }
    const thread = getThread(w.mb, { project_key: w.key, thread_id: String(id), agent_name: "Bob" });
    expect(thread.messages.map((m) => m.id)).toEqual([id]);
  });

  test("the sender replying to its own message does not re-address the BCC recipients", async () => {
    const { w, id } = await scenario();
    const r = await replyMessage(w.mb, {
      project_key: w.key,
      message_id: id,
      sender_name: "Alice",
      body_md: "more",
    });
    expect([r.to, r.cc, r.bcc]).toEqual([["Bob"], [], []]);
  });

  test("two messages with different BCC lists are filtered one by one", async () => {
    const w = world(["Alice", "Bob", "Dave", "Erin"]);
    await send(w, { sender_name: "Alice", to: "Bob", bcc: "Dave", topic: "t" });
    await send(w, { sender_name: "Alice", to: "Bob", bcc: ["Dave", "Erin"], topic: "t" });
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Dave" }).map((m) => m.bcc)).toEqual([
      ["Dave"],
      ["Dave"],
    ]);
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Erin" }).map((m) => m.bcc)).toEqual([
      ["Erin"],
    ]);
    expect(
      fetchTopic(w.mb, { project_key: w.key, topic_name: "t", agent_name: "Bob" }).map((m) => m.bcc),
    ).toEqual([[], []]);
  });
});

describe("an outsider sees nothing of mail it neither sent nor received", () => {
  test("not in its inbox, outbox, peek counts or unread count", async () => {
    const { w } = await scenario();
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Eve" })).toEqual([]);
    expect(fetchOutbox(w.mb, { project_key: w.key, agent_name: "Eve" })).toEqual([]);
    expect(peekInbox(w.mb, { project_key: w.key, agent_name: "Eve" })).toEqual({
      unread: 0,
      urgent_unread: 0,
      ack_pending: 0,
      oldest_unread_ts: null,
    });
    const eve = listAgents(w.mb, { project_key: w.key }).agents.find((a) => a.name === "Eve");
    expect(eve?.unread_count).toBe(0);
  });

  test("not by id, thread or topic", async () => {
    const { w, id, thread } = await scenario();
    expectFail(
      () => getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "Eve" }),
      "NOT_FOUND",
    );
    expectFail(
      () => getThread(w.mb, { project_key: w.key, thread_id: thread, agent_name: "Eve" }),
      "NOT_FOUND",
    );
    expect(fetchTopic(w.mb, { project_key: w.key, topic_name: "plans", agent_name: "Eve" })).toEqual([]);
  });

  test("it cannot reply to, mark or acknowledge the message", async () => {
    const { w, id } = await scenario();
    await expectReject(
      () => replyMessage(w.mb, { project_key: w.key, message_id: id, sender_name: "Eve", body_md: "x" }),
      "NOT_FOUND",
    );
    expectFail(
      () => markMessageRead(w.mb, { project_key: w.key, agent_name: "Eve", message_id: id }),
      "NOT_FOUND",
    );
    expectFail(
      () => acknowledgeMessage(w.mb, { project_key: w.key, agent_name: "Eve", message_id: id }),
      "NOT_FOUND",
    );
  });

  test("no error message names the subject, the sender or the recipients", async () => {
    const { w, id, thread } = await scenario();
    const errors = [
      expectFail(
        () => getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "Eve" }),
        "NOT_FOUND",
      ),
      expectFail(
        () => getThread(w.mb, { project_key: w.key, thread_id: thread, agent_name: "Eve" }),
        "NOT_FOUND",
      ),
      expectFail(
        () => markMessageRead(w.mb, { project_key: w.key, agent_name: "Eve", message_id: id }),
        "NOT_FOUND",
      ),
      await expectReject(
        () => replyMessage(w.mb, { project_key: w.key, message_id: id, sender_name: "Eve", body_md: "x" }),
        "NOT_FOUND",
      ),
    ];
    for (const e of errors) {
      const text = JSON.stringify(e.toJSON());
      for (const secret of ["secret plan", "Alice", "Bob", "Carol", "Dave", "Erin"])
        expect(text).not.toContain(secret);
    }
  });

  test("a participant of one message does not see another message of the same thread", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const a = await send(w, { sender_name: "Alice", to: "Bob", thread_id: "shared", topic: "t" });
    await send(w, { sender_name: "Alice", to: "Carol", thread_id: "shared", topic: "t" });
    const bobThread = getThread(w.mb, { project_key: w.key, thread_id: "shared", agent_name: "Bob" });
    expect(bobThread.messages.map((m) => m.id)).toEqual([a.deliveries[0]!.payload.id]);
    expect(fetchTopic(w.mb, { project_key: w.key, topic_name: "t", agent_name: "Bob" })).toHaveLength(1);
  });
});

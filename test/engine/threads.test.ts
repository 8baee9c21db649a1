import { describe, expect, test } from "vitest";
import { ensureProject, fetchTopic, getMessage, getThread, replyMessage } from "../../engine/index.js";
import { expectFail, foreignAgent, send, sendId, type World, world } from "./helpers.js";

const topic = (w: World, topic_name: string, extra: Partial<Parameters<typeof fetchTopic>[1]> = {}) =>
  fetchTopic(w.mb, { project_key: w.key, topic_name, ...extra });

describe("fetch_topic", () => {
  test("returns the topic's messages newest first, with bodies by default", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const a = await sendId(w, { sender_name: "Alice", to: "Bob", topic: "ci", body_md: "one" });
    await send(w, { sender_name: "Alice", to: "Bob", topic: "docs" });
    const b = await sendId(w, { sender_name: "Carol", to: "Alice", topic: "ci", body_md: "two" });
    const items = topic(w, "ci");
    expect(items.map((m) => m.id)).toEqual([b, a]);
    expect(items.map((m) => m.body_md)).toEqual(["two", "one"]);
    expect(topic(w, "ci", { include_bodies: false })[0]).not.toHaveProperty("body_md");
  });

  test("limit (default 50) and since_ts", async () => {
    const w = world(["Alice", "Bob"]);
    const ids: number[] = [];
    for (let i = 0; i < 55; i++) {
      ids.push(await sendId(w, { sender_name: "Alice", to: "Bob", topic: "ci" }));
      w.clock.advance(1);
    }
    expect(topic(w, "ci")).toHaveLength(50);
    expect(topic(w, "ci", { limit: 2 }).map((m) => m.id)).toEqual([ids[54], ids[53]]);
    expect(topic(w, "ci", { since_ts: "2026-01-01T00:00:53Z" }).map((m) => m.id)).toEqual([ids[54]]);
    expect(expectFail(() => topic(w, "ci", { since_ts: "nope" }), "INVALID_ARGUMENT").message).toMatch(
      /since_ts/,
    );
  });

  test("an unknown topic is empty; a malformed one INVALID_ARGUMENT naming topic_name", () => {
    const w = world(["Alice"]);
    expect(topic(w, "nothing-here")).toEqual([]);
    expect(expectFail(() => topic(w, "no spaces"), "INVALID_ARGUMENT").message).toMatch(/topic_name/);
  });

  test("stays inside the project", async () => {
    const w = world(["Alice", "Bob"]);
    foreignAgent(w, "Olga");
    foreignAgent(w, "Oscar");
    await sendId(w, { sender_name: "Alice", to: "Bob", topic: "ci" });
    await send({ ...w, key: "srv-other" }, { sender_name: "Olga", to: "Oscar", topic: "ci" });
    expect(topic(w, "ci")).toHaveLength(1);
    expect(fetchTopic(w.mb, { project_key: "srv-other", topic_name: "ci" })).toHaveLength(1);
  });

  test("with agent_name, only what that agent sent or received", async () => {
    const w = world(["Alice", "Bob", "Carol", "Eve"]);
    const ab = await sendId(w, { sender_name: "Alice", to: "Bob", topic: "ci" });
    const cb = await sendId(w, { sender_name: "Carol", to: "Bob", topic: "ci" });
    const ca = await sendId(w, { sender_name: "Carol", cc: "Alice", topic: "ci" });
    expect(topic(w, "ci", { agent_name: "Alice" }).map((m) => m.id)).toEqual([ca, ab]);
    expect(topic(w, "ci", { agent_name: "Bob" }).map((m) => m.id)).toEqual([cb, ab]);
    expect(topic(w, "ci", { agent_name: "Eve" })).toEqual([]);
    expect(topic(w, "ci").map((m) => m.id)).toEqual([ca, cb, ab]);
    expectFail(() => topic(w, "ci", { agent_name: "Zed" }), "NOT_FOUND");
  });
});

describe("getMessage", () => {
  test("returns one message with body and payload", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", body_md: "hi", payload: [1] });
    const m = getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "Bob" });
    expect(m).toMatchObject({ id, body_md: "hi", payload: [1], from: "Alice", to: ["Bob"] });
  });

  test("the sender and each recipient see it; an outsider gets NOT_FOUND like for a missing id", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave", "Eve"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", cc: "Carol", bcc: "Dave" });
    for (const viewer of ["Alice", "Bob", "Carol", "Dave"]) {
      expect(getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: viewer }).id).toBe(id);
    }
    const hidden = expectFail(
      () => getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "Eve" }),
      "NOT_FOUND",
    );
    const missing = expectFail(
      () => getMessage(w.mb, { project_key: w.key, message_id: id + 50, agent_name: "Eve" }),
      "NOT_FOUND",
    );
    expect(hidden.message.replace(String(id), "N")).toBe(missing.message.replace(String(id + 50), "N"));
  });

  test("the operator view (no agent) sees the project's messages, not another project's", async () => {
    const w = world(["Alice", "Bob"]);
    foreignAgent(w, "Olga");
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect(getMessage(w.mb, { project_key: w.key, message_id: id }).id).toBe(id);
    expectFail(() => getMessage(w.mb, { project_key: "srv-other", message_id: id }), "NOT_FOUND");
  });

  test("a cross-project recipient reads the message from its own project", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Olga");
    const id = await sendId(w, { sender_name: "Alice", to: "Olga@srv-other" });
    expect(getMessage(w.mb, { project_key: "srv-other", message_id: id, agent_name: "Olga" }).from).toBe(
      "Alice",
    );
  });

  test("expired unread mail can still be opened by id by its sender", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 1 });
    w.clock.advance(2);
    expect(getMessage(w.mb, { project_key: w.key, message_id: id, agent_name: "Alice" }).id).toBe(id);
  });
});

describe("getThread", () => {
  test("root and replies, oldest first, for each participant", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const root = await sendId(w, { sender_name: "Alice", to: ["Bob", "Carol"], subject: "Q" });
    const r1 = await replyMessage(w.mb, {
      project_key: w.key,
      message_id: root,
      sender_name: "Bob",
      body_md: "a",
    });
    const r2 = await replyMessage(w.mb, {
      project_key: w.key,
      message_id: r1.id,
      sender_name: "Alice",
      body_md: "b",
    });
    const t = getThread(w.mb, { project_key: w.key, thread_id: String(root) });
    expect(t.thread_id).toBe(String(root));
    expect(t.project).toBe(w.key);
    expect(t.messages.map((m) => m.id)).toEqual([root, r1.id, r2.id]);
    expect(t.messages[1]!.body_md).toBe("a");
    expect(
      getThread(w.mb, { project_key: w.key, thread_id: String(root), include_bodies: false }).messages[0],
    ).not.toHaveProperty("body_md");
    expect(getThread(w.mb, { project_key: w.key, thread_id: String(root), limit: 2 }).messages).toHaveLength(
      2,
    );
  });

  test("a named thread collects every message sent with that thread_id", async () => {
    const w = world(["Alice", "Bob"]);
    const a = await sendId(w, { sender_name: "Alice", to: "Bob", thread_id: "feat-7" });
    await send(w, { sender_name: "Alice", to: "Bob" });
    const b = await sendId(w, { sender_name: "Bob", to: "Alice", thread_id: "feat-7" });
    expect(getThread(w.mb, { project_key: w.key, thread_id: "feat-7" }).messages.map((m) => m.id)).toEqual([
      a,
      b,
    ]);
  });

  test("a viewer sees only the messages of the thread it sent or received", async () => {
    const w = world(["Alice", "Bob", "Carol", "Eve"]);
    const root = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const toCarol = await replyMessage(w.mb, {
      project_key: w.key,
      message_id: root,
      sender_name: "Bob",
      body_md: "fwd",
      to: "Carol",
    });
    expect(
      getThread(w.mb, { project_key: w.key, thread_id: String(root), agent_name: "Carol" }).messages.map(
        (m) => m.id,
      ),
    ).toEqual([toCarol.id]);
    expect(
      getThread(w.mb, { project_key: w.key, thread_id: String(root), agent_name: "Alice" }).messages.map(
        (m) => m.id,
      ),
    ).toEqual([root]);
    expectFail(
      () => getThread(w.mb, { project_key: w.key, thread_id: String(root), agent_name: "Eve" }),
      "NOT_FOUND",
    );
  });

  test("an unknown thread is NOT_FOUND; a bad thread_id INVALID_ARGUMENT", () => {
    const w = world(["Alice"]);
    const error = expectFail(() => getThread(w.mb, { project_key: w.key, thread_id: "nope" }), "NOT_FOUND");
    expect(error.data).toEqual({ thread_id: "nope" });
    expect(
      expectFail(() => getThread(w.mb, { project_key: w.key, thread_id: "" }), "INVALID_ARGUMENT").message,
    ).toMatch(/thread_id/);
  });

  test("a thread id that is another project's message id finds nothing here", async () => {
    const w = world(["Alice", "Bob"]);
    ensureProject(w.mb, { human_key: "/srv/other" });
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expectFail(() => getThread(w.mb, { project_key: "srv-other", thread_id: String(id) }), "NOT_FOUND");
  });
});

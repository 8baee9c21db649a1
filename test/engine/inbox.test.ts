import { describe, expect, test } from "vitest";
import { acknowledgeMessage, fetchInbox, LIMITS, markMessageRead, peekInbox } from "../../engine/index.js";
import { expectFail, send, sendId, type World, world } from "./helpers.js";

const inbox = (w: World, agent_name: string, extra: Partial<Parameters<typeof fetchInbox>[1]> = {}) =>
  fetchInbox(w.mb, { project_key: w.key, agent_name, ...extra });

const peek = (w: World, agent_name: string) => peekInbox(w.mb, { project_key: w.key, agent_name });

describe("fetch_inbox", () => {
  test("items carry the documented fields; bodies only when asked", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", body_md: "the body", payload: { x: 1 } });
    const [item] = inbox(w, "Bob");
    for (const field of [
      "id",
      "project_id",
      "sender_id",
      "thread_id",
      "subject",
      "importance",
      "ack_required",
      "created_ts",
      "attachments",
      "from",
      "kind",
    ]) {
      expect(item).toHaveProperty(field);
    }
    expect(item).not.toHaveProperty("body_md");
    expect(item).not.toHaveProperty("payload");
    expect(item).toMatchObject({ from: "Alice", kind: "to", read_ts: null, ack_ts: null });
    const [full] = inbox(w, "Bob", { include_bodies: true });
    expect(full).toMatchObject({ body_md: "the body", payload: { x: 1 } });
  });

  test("newest first", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await sendId(w, { sender_name: i % 2 ? "Alice" : "Carol", to: "Bob", subject: `m${i}` }));
      w.clock.advance(1);
    }
    expect(inbox(w, "Bob").map((m) => m.id)).toEqual(ids.reverse());
  });

  test("shows only the agent's own deliveries", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const toBob = await sendId(w, { sender_name: "Alice", to: "Bob" });
    await send(w, { sender_name: "Alice", to: "Carol" });
    await send(w, { sender_name: "Bob", to: "Carol" });
    expect(inbox(w, "Bob").map((m) => m.id)).toEqual([toBob]);
    expect(inbox(w, "Alice")).toEqual([]);
  });

  test("kind says how the agent was addressed", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    await send(w, { sender_name: "Alice", to: "Bob", cc: "Carol", bcc: "Dave" });
    expect(["Bob", "Carol", "Dave"].map((n) => inbox(w, n)[0]!.kind)).toEqual(["to", "cc", "bcc"]);
  });

  test("limit caps the count (default 20) and keeps the newest", async () => {
    const w = world(["Alice", "Bob"]);
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) ids.push(await sendId(w, { sender_name: "Alice", to: "Bob" }));
    expect(inbox(w, "Bob")).toHaveLength(20);
    expect(inbox(w, "Bob", { limit: 3 }).map((m) => m.id)).toEqual(ids.slice(-3).reverse());
    expect(inbox(w, "Bob", { limit: 1 })).toHaveLength(1);
    expect(inbox(w, "Bob", { limit: LIMITS.fetchLimit })).toHaveLength(25);
  });

  test("limit 0 is INVALID_ARGUMENT, 1001 is TOO_LARGE, a fraction is INVALID_ARGUMENT", () => {
    const w = world(["Alice", "Bob"]);
    expect(expectFail(() => inbox(w, "Bob", { limit: 0 }), "INVALID_ARGUMENT").message).toMatch(/limit/);
    expect(expectFail(() => inbox(w, "Bob", { limit: 1001 }), "TOO_LARGE").message).toMatch(/limit/);
    expect(expectFail(() => inbox(w, "Bob", { limit: 2.5 }), "INVALID_ARGUMENT").message).toMatch(/limit/);
  });

  test("urgent_only keeps high and urgent mail", async () => {
    const w = world(["Alice", "Bob"]);
    for (const importance of ["low", "normal", "high", "urgent"] as const) {
      await send(w, { sender_name: "Alice", to: "Bob", importance, subject: importance });
    }
    expect(inbox(w, "Bob", { urgent_only: true }).map((m) => m.subject)).toEqual(["urgent", "high"]);
    expect(inbox(w, "Bob")).toHaveLength(4);
  });

  test("since_ts keeps mail created strictly after it, in any ISO-8601 offset", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", subject: "old" });
    const cut = w.clock.iso();
    w.clock.advance(60);
    await send(w, { sender_name: "Alice", to: "Bob", subject: "new" });
    expect(inbox(w, "Bob", { since_ts: cut }).map((m) => m.subject)).toEqual(["new"]);
    expect(inbox(w, "Bob", { since_ts: "2026-01-01T01:00:00+01:00" }).map((m) => m.subject)).toEqual(["new"]);
    expect(inbox(w, "Bob", { since_ts: "2025-12-31" })).toHaveLength(2);
  });

  test.each(["yesterday", "2026-13-45T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T25:00Z", "", "12345"])(
    "since_ts %j is INVALID_ARGUMENT",
    (since_ts) => {
      const w = world(["Alice", "Bob"]);
      expect(expectFail(() => inbox(w, "Bob", { since_ts }), "INVALID_ARGUMENT").message).toMatch(/since_ts/);
    },
  );

  test("topic keeps mail of that topic", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", topic: "ci", subject: "a" });
    await send(w, { sender_name: "Alice", to: "Bob", topic: "docs", subject: "b" });
    await send(w, { sender_name: "Alice", to: "Bob", subject: "c" });
    expect(inbox(w, "Bob", { topic: "ci" }).map((m) => m.subject)).toEqual(["a"]);
    expect(inbox(w, "Bob", { topic: "none" })).toEqual([]);
    expect(expectFail(() => inbox(w, "Bob", { topic: "bad topic" }), "INVALID_ARGUMENT").message).toMatch(
      /topic/,
    );
  });

  test("unread_only leaves out mail already read", async () => {
    const w = world(["Alice", "Bob"]);
    const a = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const b = await sendId(w, { sender_name: "Alice", to: "Bob" });
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: a });
    expect(inbox(w, "Bob", { unread_only: true }).map((m) => m.id)).toEqual([b]);
    expect(inbox(w, "Bob").map((m) => m.id)).toEqual([b, a]);
  });

  test("filters combine", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", topic: "ci", importance: "low" });
    const hit = await sendId(w, { sender_name: "Alice", to: "Bob", topic: "ci", importance: "high" });
    await send(w, { sender_name: "Alice", to: "Bob", topic: "docs", importance: "high" });
    expect(inbox(w, "Bob", { topic: "ci", urgent_only: true, unread_only: true }).map((m) => m.id)).toEqual([
      hit,
    ]);
  });

  test("fetching does not change read state", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob" });
    inbox(w, "Bob", { include_bodies: true });
    inbox(w, "Bob");
    expect(inbox(w, "Bob", { unread_only: true })).toHaveLength(1);
    expect(inbox(w, "Bob")[0]!.read_ts).toBeNull();
    expect(peek(w, "Bob").unread).toBe(1);
  });

  test("receipts show on the item", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ack_required: true });
    w.clock.advance(5);
    const ack = acknowledgeMessage(w.mb, { project_key: w.key, agent_name: "Bob", message_id: id });
    expect(inbox(w, "Bob")[0]).toMatchObject({ read_ts: ack.read_at, ack_ts: ack.acknowledged_at });
  });

  test("expired unread mail disappears; read mail and must_read mail stay", async () => {
    const w = world(["Alice", "Bob"]);
    const unread = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60, subject: "unread" });
    const read = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60, subject: "read" });
    const must = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60, must_read: true });
    const plain = await sendId(w, { sender_name: "Alice", to: "Bob" });
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: read });
    w.clock.advance(59);
    expect(inbox(w, "Bob").map((m) => m.id)).toEqual([plain, must, read, unread]);
    w.clock.advance(1);
    expect(inbox(w, "Bob").map((m) => m.id)).toEqual([plain, must, read]);
    w.clock.advance(365 * 24 * 3600);
    expect(inbox(w, "Bob").map((m) => m.id)).toEqual([plain, must, read]);
  });

  test("an unknown agent or project is NOT_FOUND", () => {
    const w = world(["Alice"]);
    expectFail(() => inbox(w, "Zed"), "NOT_FOUND");
    expectFail(() => fetchInbox(w.mb, { project_key: "nope", agent_name: "Alice" }), "NOT_FOUND");
  });
});

describe("peek_inbox", () => {
  test("an empty inbox", () => {
    const w = world(["Bob"]);
    expect(peek(w, "Bob")).toEqual({ unread: 0, urgent_unread: 0, ack_pending: 0, oldest_unread_ts: null });
  });

  test("counts unread, urgent unread, pending acks and the oldest unread time", async () => {
    const w = world(["Alice", "Bob"]);
    const first = w.clock.iso();
    const low = await sendId(w, { sender_name: "Alice", to: "Bob", importance: "low" });
    w.clock.advance(10);
    await send(w, { sender_name: "Alice", to: "Bob", importance: "high" });
    w.clock.advance(10);
    const urgentAck = await sendId(w, {
      sender_name: "Alice",
      to: "Bob",
      importance: "urgent",
      ack_required: true,
    });
    w.clock.advance(10);
    await send(w, { sender_name: "Alice", to: "Bob", ack_required: true });
    expect(peek(w, "Bob")).toEqual({ unread: 4, urgent_unread: 2, ack_pending: 2, oldest_unread_ts: first });

    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: low });
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: urgentAck });
    expect(peek(w, "Bob")).toEqual({
      unread: 2,
      urgent_unread: 1,
      ack_pending: 2,
      oldest_unread_ts: "2026-01-01T00:00:10.000Z",
    });
    acknowledgeMessage(w.mb, { project_key: w.key, agent_name: "Bob", message_id: urgentAck });
    expect(peek(w, "Bob").ack_pending).toBe(1);
  });

  test("expired unread mail is not counted; must_read mail is", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, {
      sender_name: "Alice",
      to: "Bob",
      ttl_seconds: 30,
      importance: "urgent",
      ack_required: true,
    });
    w.clock.advance(1);
    await send(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 30, must_read: true });
    expect(peek(w, "Bob")).toMatchObject({ unread: 2, urgent_unread: 1, ack_pending: 2 });
    w.clock.advance(30);
    expect(peek(w, "Bob")).toEqual({
      unread: 1,
      urgent_unread: 0,
      ack_pending: 1,
      oldest_unread_ts: "2026-01-01T00:00:01.000Z",
    });
  });

  test("peeking changes nothing", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob" });
    peek(w, "Bob");
    expect(peek(w, "Bob").unread).toBe(1);
    expect(inbox(w, "Bob")[0]!.read_ts).toBeNull();
  });

  test("counts only the agent's own mail", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    await send(w, { sender_name: "Alice", to: "Carol" });
    await send(w, { sender_name: "Bob", to: "Alice" });
    expect(peek(w, "Bob").unread).toBe(0);
  });

  test("an unknown agent is NOT_FOUND", () => {
    const w = world(["Alice"]);
    expectFail(() => peek(w, "Zed"), "NOT_FOUND");
  });
});

import { describe, expect, test } from "vitest";
import { acknowledgeMessage, markMessageRead } from "../../engine/index.js";
import { expectFail, foreignAgent, sendId, type World, world } from "./helpers.js";

const read = (w: World, agent_name: string, message_id: number) =>
  markMessageRead(w.mb, { project_key: w.key, agent_name, message_id });
const ack = (w: World, agent_name: string, message_id: number) =>
  acknowledgeMessage(w.mb, { project_key: w.key, agent_name, message_id });

describe("mark_message_read", () => {
  test("returns {message_id, read:true, read_at}", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    w.clock.advance(3);
    expect(read(w, "Bob", id)).toEqual({ message_id: id, read: true, read_at: w.clock.iso() });
  });

  test("is idempotent: the first read time does not move", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const first = read(w, "Bob", id);
    w.clock.advance(100);
    expect(read(w, "Bob", id)).toEqual(first);
  });

  test("works for cc and bcc recipients", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const id = await sendId(w, { sender_name: "Alice", cc: "Bob", bcc: "Carol" });
    expect(read(w, "bob", id).read).toBe(true);
    expect(read(w, "Carol", id).read).toBe(true);
  });

  test("does not touch acknowledgement", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ack_required: true });
    read(w, "Bob", id);
    w.clock.advance(5);
    const a = ack(w, "Bob", id);
    expect(a.acknowledged_at).toBe(w.clock.iso());
    expect(a.read_at).toBe("2026-01-01T00:00:00.000Z");
  });

  test("a non-recipient (even the sender) gets NOT_FOUND", async () => {
    const w = world(["Alice", "Bob", "Eve"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    for (const who of ["Eve", "Alice"]) {
      const error = expectFail(() => read(w, who, id), "NOT_FOUND");
      expect(error.message).toMatch(/only a recipient/);
    }
    expectFail(() => read(w, "Bob", id + 99), "NOT_FOUND");
  });

  test("a recipient in another project marks it from its own project", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Olga");
    const id = await sendId(w, { sender_name: "Alice", to: "Olga@srv-other" });
    expect(markMessageRead(w.mb, { project_key: "srv-other", agent_name: "Olga", message_id: id }).read).toBe(
      true,
    );
  });
});

describe("acknowledge_message", () => {
  test("returns {message_id, acknowledged:true, acknowledged_at, read_at} and marks read", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ack_required: true });
    w.clock.advance(7);
    const now = w.clock.iso();
    expect(ack(w, "Bob", id)).toEqual({
      message_id: id,
      acknowledged: true,
      acknowledged_at: now,
      read_at: now,
    });
    w.clock.advance(7);
    expect(read(w, "Bob", id).read_at).toBe(now);
  });

  test("is idempotent: neither timestamp moves", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const first = ack(w, "Bob", id);
    w.clock.advance(60);
    expect(ack(w, "Bob", id)).toEqual(first);
    w.clock.advance(60);
    read(w, "Bob", id);
    expect(ack(w, "Bob", id)).toEqual(first);
  });

  test("mail without ack_required can still be acknowledged", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect(ack(w, "Bob", id).acknowledged).toBe(true);
  });

  test("a non-recipient gets NOT_FOUND and nothing changes", async () => {
    const w = world(["Alice", "Bob", "Eve"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expectFail(() => ack(w, "Eve", id), "NOT_FOUND");
    expectFail(() => ack(w, "Alice", id), "NOT_FOUND");
    w.clock.advance(1);
    expect(ack(w, "Bob", id).read_at).toBe(w.clock.iso());
  });

  test("an unknown agent is NOT_FOUND; a bad message_id INVALID_ARGUMENT", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expectFail(() => ack(w, "Zed", id), "NOT_FOUND");
    for (const bad of [0, -3, 2.5]) {
      expect(expectFail(() => ack(w, "Bob", bad), "INVALID_ARGUMENT").message).toMatch(/message_id/);
      expect(expectFail(() => read(w, "Bob", bad), "INVALID_ARGUMENT").message).toMatch(/message_id/);
    }
  });
});

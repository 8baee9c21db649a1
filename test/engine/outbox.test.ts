import { describe, expect, test } from "vitest";
import { acknowledgeMessage, fetchOutbox, markMessageRead } from "../../engine/index.js";
import { expectFail, send, sendId, type World, world } from "./helpers.js";

const outbox = (w: World, agent_name: string, extra: Partial<Parameters<typeof fetchOutbox>[1]> = {}) =>
  fetchOutbox(w.mb, { project_key: w.key, agent_name, ...extra });

describe("fetch_outbox", () => {
  test("lists sent mail newest first with a receipt per recipient", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const first = await sendId(w, { sender_name: "Alice", to: "Bob", cc: "Carol", bcc: "Dave" });
    const second = await sendId(w, { sender_name: "Alice", to: "Carol" });
    await send(w, { sender_name: "Bob", to: "Alice" });
    const items = outbox(w, "Alice");
    expect(items.map((m) => m.id)).toEqual([second, first]);
    expect(items[1]!.recipients).toEqual([
      { name: "Bob", kind: "to", read_ts: null, ack_ts: null },
      { name: "Carol", kind: "cc", read_ts: null, ack_ts: null },
      { name: "Dave", kind: "bcc", read_ts: null, ack_ts: null },
    ]);
  });

  test("the sender sees its BCC recipients in the message and the receipts", async () => {
    const w = world(["Alice", "Bob", "Dave"]);
    await send(w, { sender_name: "Alice", to: "Bob", bcc: "Dave" });
    const [item] = outbox(w, "Alice");
    expect(item!.bcc).toEqual(["Dave"]);
    expect(item!.recipients.map((r) => r.name)).toContain("Dave");
  });

  test("receipts update after read and ack, and only for that recipient", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const id = await sendId(w, { sender_name: "Alice", to: ["Bob", "Carol"], ack_required: true });
    w.clock.advance(10);
    const read = markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: id });
    w.clock.advance(10);
    const ack = acknowledgeMessage(w.mb, { project_key: w.key, agent_name: "Carol", message_id: id });
    expect(outbox(w, "Alice")[0]!.recipients).toEqual([
      { name: "Bob", kind: "to", read_ts: read.read_at, ack_ts: null },
      { name: "Carol", kind: "to", read_ts: ack.read_at, ack_ts: ack.acknowledged_at },
    ]);
    expect(read.read_at).toBe("2026-01-01T00:00:10.000Z");
    expect(ack.acknowledged_at).toBe("2026-01-01T00:00:20.000Z");
  });

  test("bodies only when asked", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", body_md: "text" });
    expect(outbox(w, "Alice")[0]).not.toHaveProperty("body_md");
    expect(outbox(w, "Alice", { include_bodies: true })[0]!.body_md).toBe("text");
  });

  test("limit and since_ts", async () => {
    const w = world(["Alice", "Bob"]);
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) {
      ids.push(await sendId(w, { sender_name: "Alice", to: "Bob" }));
      w.clock.advance(1);
    }
    expect(outbox(w, "Alice")).toHaveLength(20);
    expect(outbox(w, "Alice", { limit: 2 }).map((m) => m.id)).toEqual([ids[24], ids[23]]);
    expect(outbox(w, "Alice", { since_ts: "2026-01-01T00:00:22Z" }).map((m) => m.id)).toEqual([
      ids[24],
      ids[23],
    ]);
    expect(expectFail(() => outbox(w, "Alice", { since_ts: "soon" }), "INVALID_ARGUMENT").message).toMatch(
      /since_ts/,
    );
    expect(expectFail(() => outbox(w, "Alice", { limit: 0 }), "INVALID_ARGUMENT").message).toMatch(/limit/);
  });

  test("expired mail stays in the sender's outbox", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 5 });
    w.clock.advance(10);
    expect(outbox(w, "Alice").map((m) => m.id)).toEqual([id]);
  });

  test("an agent that sent nothing has an empty outbox; an unknown one is NOT_FOUND", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob" });
    expect(outbox(w, "Bob")).toEqual([]);
    expectFail(() => outbox(w, "Zed"), "NOT_FOUND");
  });
});

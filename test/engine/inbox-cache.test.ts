import { describe, expect, test, vi } from "vitest";
import {
  acknowledgeMessage,
  markMessageRead,
  openMailbox,
  peekInbox,
  peekInboxCached,
  sendMessage,
} from "../../engine/index.js";
import { expectFail, send, sendId, type World, world } from "./helpers.js";

const input = (w: World, agent_name = "Bob") => ({ project_key: w.key, agent_name });

/** The cached answer, checked against a fresh count at the same moment. */
function cachedMatchesFresh(w: World, agent_name = "Bob") {
  const cached = peekInboxCached(w.mb, input(w, agent_name));
  expect(cached).toEqual(peekInbox(w.mb, input(w, agent_name)));
  return cached;
}

/** How many times the counting query ran during `fn`. */
function countQueries(w: World, fn: () => void): number {
  const spy = vi.spyOn(w.mb, "statement");
  try {
    fn();
    return spy.mock.calls.filter(([sql]) => sql.includes("AS urgent_unread")).length;
  } finally {
    spy.mockRestore();
  }
}

describe("peekInboxCached", () => {
  test("reuses the counts while nothing changed, and recounts after a write", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob" });
    expect(countQueries(w, () => cachedMatchesFresh(w))).toBe(2);
    expect(countQueries(w, () => peekInboxCached(w.mb, input(w)))).toBe(0);
    await send(w, { sender_name: "Alice", to: "Bob" });
    expect(countQueries(w, () => peekInboxCached(w.mb, input(w)))).toBe(1);
    expect(peekInboxCached(w.mb, input(w)).unread).toBe(2);
  });

  test("answers what peekInbox answers through sends, reads and acknowledgements", async () => {
    const w = world(["Alice", "Bob"]);
    expect(cachedMatchesFresh(w)).toMatchObject({ unread: 0, ack_pending: 0 });
    const urgent = await sendId(w, { sender_name: "Alice", to: "Bob", importance: "urgent" });
    const ack = await sendId(w, { sender_name: "Alice", to: "Bob", ack_required: true });
    expect(cachedMatchesFresh(w)).toMatchObject({ unread: 2, urgent_unread: 1, ack_pending: 1 });
    markMessageRead(w.mb, { ...input(w), message_id: urgent });
    expect(cachedMatchesFresh(w)).toMatchObject({ unread: 1, urgent_unread: 0, ack_pending: 1 });
    acknowledgeMessage(w.mb, { ...input(w), message_id: ack });
    expect(cachedMatchesFresh(w)).toMatchObject({ unread: 0, ack_pending: 0, oldest_unread_ts: null });
  });

  test("sees what another connection to the same database commits", async () => {
    const w = world(["Alice", "Bob"]);
    expect(cachedMatchesFresh(w).unread).toBe(0);
    const other = openMailbox({ home: w.home, archive: false });
    try {
      await sendMessage(other, {
        project_key: w.key,
        sender_name: "Alice",
        to: "Bob",
        subject: "s",
        body_md: "b",
      });
    } finally {
      await other.close();
    }
    expect(cachedMatchesFresh(w).unread).toBe(1);
  });

  test("drops mail from the counts when the clock passes its expiry, and back when the clock is set back", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60 });
    await send(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60, must_read: true });
    expect(cachedMatchesFresh(w).unread).toBe(2);
    w.clock.advance(59);
    expect(peekInboxCached(w.mb, input(w)).unread).toBe(2);
    w.clock.advance(1);
    expect(peekInboxCached(w.mb, input(w)).unread).toBe(1);
    expect(cachedMatchesFresh(w).unread).toBe(1);
    w.clock.advance(-30);
    expect(peekInboxCached(w.mb, input(w)).unread).toBe(2);
  });

  test("keeps agents apart and fails as peekInbox does for an unknown agent", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    await send(w, { sender_name: "Alice", to: "Bob" });
    expect(cachedMatchesFresh(w, "Bob").unread).toBe(1);
    expect(cachedMatchesFresh(w, "Carol").unread).toBe(0);
    expectFail(() => peekInboxCached(w.mb, input(w, "Nobody")), "NOT_FOUND");
    expectFail(() => peekInboxCached(w.mb, input(w, "Nobody")), "NOT_FOUND");
  });
});

import { describe, expect, test } from "vitest";
import { fetchInbox, getThread, markMessageRead, replyMessage } from "../../engine/index.js";
import { foreignAgent, send, sendId, world } from "./helpers.js";

describe("recipient order", () => {
  test("to, cc and bcc read back in the order the sender gave, not registration order", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave", "Erin"]);
    const sent = await send(w, { sender_name: "Alice", to: ["Erin", "Bob", "Dave"], cc: ["Carol"], bcc: [] });
    expect(sent.deliveries[0]!.payload.to).toEqual(["Erin", "Bob", "Dave"]);
    const [item] = fetchInbox(w.mb, { project_key: w.key, agent_name: "Bob" });
    expect(item?.to).toEqual(["Erin", "Bob", "Dave"]);
  });
});

describe("threads across projects", () => {
  test("a participant sees the whole thread although the reply lives in another project", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Xena");
    const root = await sendId(w, { sender_name: "Alice", to: "Xena@srv-other" });
    const reply = await replyMessage(w.mb, {
      project_key: "srv-other",
      message_id: root,
      sender_name: "Xena",
      body_md: "ok",
    });
    expect(reply.to).toEqual(["Alice"]);
    for (const [project, agent] of [
      [w.key, "Alice"],
      ["srv-other", "Xena"],
    ] as const) {
      const thread = getThread(w.mb, { project_key: project, thread_id: String(root), agent_name: agent });
      expect(thread.messages.map((m) => m.id)).toEqual([root, reply.id]);
    }
    // The operator view of one project shows that project's part only.
    expect(
      getThread(w.mb, { project_key: w.key, thread_id: String(root) }).messages.map((m) => m.id),
    ).toEqual([root]);
  });
});

describe("expiry", () => {
  test("marking an expired unread message read does not bring it back", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60 });
    w.clock.advance(61);
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Bob" })).toEqual([]);
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: id });
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Bob" })).toEqual([]);
  });

  test("mail read before it expired stays", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60 });
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: id });
    w.clock.advance(3600);
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Bob" }).map((m) => m.id)).toEqual([id]);
  });
});

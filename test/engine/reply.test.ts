import { describe, expect, test } from "vitest";
import {
  fetchInbox,
  getThread,
  LIMITS,
  prefixSubject,
  replyMessage,
  retireAgent,
} from "../../engine/index.js";
import { countRows, expectReject, foreignAgent, send, sendId, type World, world } from "./helpers.js";

function reply(
  w: World,
  input: Partial<Parameters<typeof replyMessage>[1]> & { message_id: number; sender_name: string },
) {
  return replyMessage(w.mb, { project_key: w.key, body_md: "reply body", ...input });
}

describe("reply_message: result", () => {
  test("is the new message plus thread_id, reply_to, deliveries and count", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", subject: "Plan" });
    const r = await reply(w, { message_id: id, sender_name: "Bob", body_md: "ok" });
    expect(r).toMatchObject({
      thread_id: String(id),
      reply_to: id,
      subject: "Re: Plan",
      body_md: "ok",
      from: "Bob",
      to: ["Alice"],
      count: 1,
    });
    expect(r.id).toBeGreaterThan(id);
    expect(r.deliveries).toEqual([
      { project: w.key, payload: expect.objectContaining({ id: r.id, thread_id: String(id) }) },
    ]);
    for (const field of [
      "project_id",
      "sender_id",
      "importance",
      "ack_required",
      "created_ts",
      "attachments",
      "cc",
      "bcc",
    ]) {
      expect(r).toHaveProperty(field);
    }
  });
});

describe("reply_message: thread", () => {
  test("a reply to a message without thread_id starts the thread at the original id", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect((await reply(w, { message_id: id, sender_name: "Bob" })).thread_id).toBe(String(id));
  });

  test("a reply to a message with a thread_id stays in that thread", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", thread_id: "feature-x" });
    expect((await reply(w, { message_id: id, sender_name: "Bob" })).thread_id).toBe("feature-x");
  });

  test("a reply to a reply stays in the root's thread, and the thread reads in order", async () => {
    const w = world(["Alice", "Bob"]);
    const root = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const r1 = await reply(w, { message_id: root, sender_name: "Bob" });
    const r2 = await reply(w, { message_id: r1.id, sender_name: "Alice" });
    expect(r2.thread_id).toBe(String(root));
    expect(r2.reply_to).toBe(r1.id);
    const thread = getThread(w.mb, { project_key: w.key, thread_id: String(root) });
    expect(thread.messages.map((m) => m.id)).toEqual([root, r1.id, r2.id]);
  });
});

describe("reply_message: subject", () => {
  test("the prefix is added once", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", subject: "Build" });
    const r1 = await reply(w, { message_id: id, sender_name: "Bob" });
    const r2 = await reply(w, { message_id: r1.id, sender_name: "Alice" });
    expect([r1.subject, r2.subject]).toEqual(["Re: Build", "Re: Build"]);
  });

  test.each([
    ["re: x", "re: x"],
    ["RE: x", "RE: x"],
    ["Re:x", "Re:x"],
    ["Regarding x", "Re: Regarding x"],
    ["x", "Re: x"],
  ])("the subject %j becomes %j", async (subject, expected) => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", subject });
    expect((await reply(w, { message_id: id, sender_name: "Bob" })).subject).toBe(expected);
  });

  test("a custom subject_prefix is used, also case-insensitively once", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", subject: "Build" });
    const r1 = await reply(w, { message_id: id, sender_name: "Bob", subject_prefix: "AW:" });
    expect(r1.subject).toBe("AW: Build");
    expect((await reply(w, { message_id: r1.id, sender_name: "Alice", subject_prefix: "aw:" })).subject).toBe(
      "AW: Build",
    );
  });

  test("an empty subject_prefix keeps the subject", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", subject: "Build" });
    expect((await reply(w, { message_id: id, sender_name: "Bob", subject_prefix: "" })).subject).toBe(
      "Build",
    );
  });

  test("prefixSubject on its own", () => {
    expect(prefixSubject("Hello", "Re:")).toBe("Re: Hello");
    expect(prefixSubject("re: Hello", "Re:")).toBe("re: Hello");
    expect(prefixSubject("Hello", "  ")).toBe("Hello");
  });

  test("a reply subject that would pass the limit is TOO_LARGE and nothing is stored", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", subject: "s".repeat(LIMITS.subjectChars) });
    const error = await expectReject(() => reply(w, { message_id: id, sender_name: "Bob" }), "TOO_LARGE");
    expect(error.message).toMatch(/subject_prefix/);
    expect(countRows(w.mb, "messages")).toBe(1);
    expect((await reply(w, { message_id: id, sender_name: "Bob", subject_prefix: "" })).subject).toHaveLength(
      LIMITS.subjectChars,
    );
  });

  test("a subject_prefix over 32 characters is TOO_LARGE", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    await expectReject(
      () => reply(w, { message_id: id, sender_name: "Bob", subject_prefix: "x".repeat(33) }),
      "TOO_LARGE",
    );
  });
});

describe("reply_message: inheritance and recipients", () => {
  test("inherits importance, ack_required and topic", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, {
      sender_name: "Alice",
      to: "Bob",
      importance: "urgent",
      ack_required: true,
      topic: "incidents",
    });
    const r = await reply(w, { message_id: id, sender_name: "Bob" });
    expect(r).toMatchObject({ importance: "urgent", ack_required: true, topic: "incidents" });
  });

  test("does not inherit a ttl or must_read", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60 });
    const r = await reply(w, { message_id: id, sender_name: "Bob" });
    expect(r).toMatchObject({ expires_ts: null, must_read: false });
  });

  test("`to` defaults to the original sender, not to the other recipients", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const id = await sendId(w, { sender_name: "Alice", to: ["Bob", "Carol"], cc: "Dave" });
    const r = await reply(w, { message_id: id, sender_name: "Carol" });
    expect([r.to, r.cc, r.bcc]).toEqual([["Alice"], [], []]);
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Alice" }).map((m) => m.id)).toEqual([r.id]);
  });

  test("a cc or bcc recipient may reply, to the original sender", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob", cc: "Carol", bcc: "Dave" });
    expect((await reply(w, { message_id: id, sender_name: "Carol" })).to).toEqual(["Alice"]);
    expect((await reply(w, { message_id: id, sender_name: "Dave" })).to).toEqual(["Alice"]);
  });

  test("the original sender replying to its own message writes to the original `to`", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const id = await sendId(w, { sender_name: "Alice", to: ["Bob", "Carol"], cc: "Dave" });
    const r = await reply(w, { message_id: id, sender_name: "alice" });
    expect(r.to).toEqual(["Bob", "Carol"]);
    expect(r.cc).toEqual([]);
  });

  test("explicit to, cc and bcc replace the defaults", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const r = await reply(w, { message_id: id, sender_name: "Bob", to: ["Carol"], cc: "Alice", bcc: "Dave" });
    expect([r.to, r.cc, r.bcc]).toEqual([["Carol"], ["Alice"], ["Dave"]]);
  });

  test("an explicit empty `to` with nobody else is INVALID_ARGUMENT", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const error = await expectReject(
      () => reply(w, { message_id: id, sender_name: "Bob", to: [] }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/recipients/);
  });

  test("the original sender replying to mail that had only cc recipients must name someone", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", cc: "Bob" });
    await expectReject(() => reply(w, { message_id: id, sender_name: "Alice" }), "INVALID_ARGUMENT");
    expect((await reply(w, { message_id: id, sender_name: "Alice", to: "Bob" })).to).toEqual(["Bob"]);
  });

  test("a recipient in another project replies to the sender across projects", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Olga");
    const id = await sendId(w, { sender_name: "Alice", to: "Olga@srv-other", subject: "Hi" });
    const r = await replyMessage(w.mb, {
      project_key: "srv-other",
      message_id: id,
      sender_name: "Olga",
      body_md: "hey",
    });
    expect(r.to).toEqual(["Alice"]);
    expect(r.deliveries.map((d) => d.project)).toEqual([w.key]);
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Alice" })[0]!.id).toBe(r.id);
    // And the original sender answers back, reaching Olga in her project.
    const back = await reply(w, { message_id: r.id, sender_name: "Alice" });
    expect(back.to).toEqual(["Olga"]);
    expect(back.deliveries.map((d) => d.project)).toEqual(["srv-other"]);
  });

  test("a retired original sender cannot be replied to; a retired replier cannot reply", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    const id = await sendId(w, { sender_name: "Alice", to: ["Bob", "Carol"] });
    retireAgent(w.mb, { project_key: w.key, agent_name: "Alice" });
    await expectReject(() => reply(w, { message_id: id, sender_name: "Bob" }), "AGENT_RETIRED");
    retireAgent(w.mb, { project_key: w.key, agent_name: "Carol" });
    await expectReject(() => reply(w, { message_id: id, sender_name: "Carol", to: "Bob" }), "AGENT_RETIRED");
  });
});

describe("reply_message: access", () => {
  test("an outsider gets the same NOT_FOUND as for a message that does not exist", async () => {
    const w = world(["Alice", "Bob", "Eve"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const hidden = await expectReject(() => reply(w, { message_id: id, sender_name: "Eve" }), "NOT_FOUND");
    const missing = await expectReject(
      () => reply(w, { message_id: id + 1000, sender_name: "Eve" }),
      "NOT_FOUND",
    );
    expect(hidden.message.replace(String(id), "N")).toBe(missing.message.replace(String(id + 1000), "N"));
    expect(Object.keys(hidden.data)).toEqual(Object.keys(missing.data));
    expect(countRows(w.mb, "messages")).toBe(1);
  });

  test("an unknown replier is NOT_FOUND", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    await expectReject(() => reply(w, { message_id: id, sender_name: "Zed" }), "NOT_FOUND");
  });

  test("the body limit applies to replies", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    await expectReject(
      () => reply(w, { message_id: id, sender_name: "Bob", body_md: "x".repeat(LIMITS.bodyBytes + 1) }),
      "TOO_LARGE",
    );
    expect(countRows(w.mb, "messages")).toBe(1);
  });

  test("replying with a bad message_id is INVALID_ARGUMENT", async () => {
    const w = world(["Alice", "Bob"]);
    for (const message_id of [0, -1, 1.5]) {
      const error = await expectReject(
        () => reply(w, { message_id, sender_name: "Bob" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/message_id/);
    }
  });
});

test("send then reply keeps both in each participant's view", async () => {
  const w = world(["Alice", "Bob"]);
  const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
  await send(w, { sender_name: "Alice", to: "Bob", subject: "unrelated" });
  const r = await reply(w, { message_id: id, sender_name: "Bob" });
  const thread = getThread(w.mb, { project_key: w.key, thread_id: r.thread_id, agent_name: "Alice" });
  expect(thread.messages.map((m) => m.subject)).toEqual(["Subject", "Re: Subject"]);
});

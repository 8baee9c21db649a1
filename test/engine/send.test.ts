import { describe, expect, test } from "vitest";
import { fetchInbox, getMessage, LIMITS, registerAgent, sendMessage } from "../../engine/index.js";
import { countRows, expectReject, foreignAgent, send, sendId, world } from "./helpers.js";

const PAYLOAD_FIELDS = [
  "id",
  "project_id",
  "sender_id",
  "thread_id",
  "subject",
  "importance",
  "ack_required",
  "created_ts",
  "attachments",
  "body_md",
  "from",
  "to",
  "cc",
  "bcc",
];

describe("send_message: result shape", () => {
  test("{deliveries:[{project, payload}], count} with every documented payload field", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const result = await send(w, {
      sender_name: "alice",
      to: "Bob",
      cc: ["Carol"],
      bcc: "Dave",
      subject: "Plan",
      body_md: "**hello**",
    });
    expect(Object.keys(result).sort()).toEqual(["count", "deliveries"]);
    expect(result.count).toBe(1);
    expect(result.deliveries).toHaveLength(1);
    const delivery = result.deliveries[0]!;
    expect(Object.keys(delivery).sort()).toEqual(["payload", "project"]);
    expect(delivery.project).toBe(w.key);
    for (const field of PAYLOAD_FIELDS) expect(delivery.payload).toHaveProperty(field);
    expect(delivery.payload).toMatchObject({
      project_id: w.project.id,
      sender_id: w.agents.Alice!.id,
      thread_id: null,
      subject: "Plan",
      importance: "normal",
      ack_required: false,
      created_ts: w.clock.iso(),
      attachments: [],
      body_md: "**hello**",
      from: "Alice",
      to: ["Bob"],
      cc: ["Carol"],
      bcc: ["Dave"],
    });
    expect(typeof delivery.payload.id).toBe("number");
  });

  test("the stored message matches what the sender got back", async () => {
    const w = world(["Alice", "Bob"]);
    const sent = (await send(w, { sender_name: "Alice", to: "Bob", payload: { k: 1 } })).deliveries[0]!
      .payload;
    expect(getMessage(w.mb, { project_key: w.key, message_id: sent.id, agent_name: "Alice" })).toEqual(sent);
  });
});

describe("send_message: addressing", () => {
  test("to, cc and bcc accept a single name or a list", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const one = (await send(w, { sender_name: "Alice", to: "Bob", cc: "Carol", bcc: "Dave" })).deliveries[0]!;
    const many = (await send(w, { sender_name: "Alice", to: ["Bob"], cc: ["Carol"], bcc: ["Dave"] }))
      .deliveries[0]!;
    for (const d of [one, many]) {
      expect([d.payload.to, d.payload.cc, d.payload.bcc]).toEqual([["Bob"], ["Carol"], ["Dave"]]);
    }
  });

  test("names match case-insensitively and come back as registered", async () => {
    const w = world(["Alice", "Bob"]);
    const d = (await send(w, { sender_name: "ALICE", to: "bOB" })).deliveries[0]!;
    expect(d.payload.from).toBe("Alice");
    expect(d.payload.to).toEqual(["Bob"]);
  });

  test("an agent named twice across to/cc/bcc gets one delivery with the most visible kind", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const d = (
      await send(w, {
        sender_name: "Alice",
        to: ["Bob", "bob"],
        cc: ["Bob", "Carol"],
        bcc: ["carol", "Dave", "Bob"],
      })
    ).deliveries[0]!;
    expect(d.payload.to).toEqual(["Bob"]);
    expect(d.payload.cc).toEqual(["Carol"]);
    expect(d.payload.bcc).toEqual(["Dave"]);
    expect(countRows(w.mb, "message_recipients")).toBe(3);
    const kinds = ["Bob", "Carol", "Dave"].map(
      (name) => fetchInbox(w.mb, { project_key: w.key, agent_name: name })[0]!.kind,
    );
    expect(kinds).toEqual(["to", "cc", "bcc"]);
  });

  test("cc before to in the arguments still yields to", async () => {
    const w = world(["Alice", "Bob"]);
    const d = (await send(w, { sender_name: "Alice", cc: "Bob", bcc: "Bob", to: "Bob" })).deliveries[0]!;
    expect([d.payload.to, d.payload.cc, d.payload.bcc]).toEqual([["Bob"], [], []]);
  });

  test("a message may go only to cc or only to bcc", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    expect((await send(w, { sender_name: "Alice", cc: "Bob" })).count).toBe(1);
    expect((await send(w, { sender_name: "Alice", bcc: "Carol" })).count).toBe(1);
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Carol" })[0]!.kind).toBe("bcc");
  });

  test("an agent may write to itself", async () => {
    const w = world(["Alice"]);
    await send(w, { sender_name: "Alice", to: "Alice" });
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Alice" })).toHaveLength(1);
  });

  test("no recipients is INVALID_ARGUMENT and stores nothing", async () => {
    const w = world(["Alice", "Bob"]);
    for (const to of [[], "", "  ", [""], ["  "]]) {
      const error = await expectReject(() => send(w, { sender_name: "Alice", to }), "INVALID_ARGUMENT");
      expect(error.message).toMatch(/recipient/i);
    }
    expect(countRows(w.mb, "messages")).toBe(0);
  });

  test("one unknown recipient is NOT_FOUND naming it and the known agents", async () => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: ["Bob", "Zed"] }),
      "NOT_FOUND",
    );
    expect(error.message).toMatch(/Zed/);
    expect(error.message).toMatch(/Alice, Bob/);
    expect(error.data).toMatchObject({ missing: ["Zed"] });
    expect(countRows(w.mb, "messages")).toBe(0);
  });

  test("several unknown recipients are NOT_FOUND listing every missing name", async () => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: ["Zed", "Bob"], cc: "Yan", bcc: ["Xi"] }),
      "NOT_FOUND",
    );
    for (const name of ["Zed", "Yan", "Xi"]) expect(error.message).toContain(name);
    expect(error.data).toMatchObject({ missing: ["Zed", "Yan", "Xi"] });
    expect(countRows(w.mb, "messages")).toBe(0);
  });

  test("a plain name of another project's agent is NOT_FOUND with the Name@project hint", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Olga");
    const error = await expectReject(() => send(w, { sender_name: "Alice", to: "Olga" }), "NOT_FOUND");
    expect(error.message).toContain("Olga@srv-other");
  });

  test("the Name@project hint survives among several missing names", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Olga");
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: ["Olga", "Zed"] }),
      "NOT_FOUND",
    );
    expect(error.message).toContain("Olga@srv-other");
    expect(error.message).toContain("Zed");
  });

  test("Name@project reaches another project by slug or human key; deliveries group by project", async () => {
    const w = world(["Alice", "Bob"]);
    foreignAgent(w, "Olga");
    foreignAgent(w, "Oscar");
    const result = await send(w, {
      sender_name: "Alice",
      to: ["Bob", "olga@srv-other"],
      cc: "Oscar@/srv/other/",
    });
    expect(result.count).toBe(2);
    expect(result.deliveries.map((d) => d.project)).toEqual([w.key, "srv-other"]);
    const payload = result.deliveries[1]!.payload;
    expect(payload.to).toEqual(["Bob", "Olga"]);
    expect(payload.cc).toEqual(["Oscar"]);
    const inbox = fetchInbox(w.mb, { project_key: "srv-other", agent_name: "Olga" });
    expect(inbox.map((m) => m.id)).toEqual([payload.id]);
    expect(inbox[0]!.from).toBe("Alice");
  });

  test("Name@unknown-project is NOT_FOUND", async () => {
    const w = world(["Alice"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Olga@nowhere" }),
      "NOT_FOUND",
    );
    expect(error.message).toContain("Olga@nowhere");
  });

  test("an unknown or foreign sender is NOT_FOUND", async () => {
    const w = world(["Alice", "Bob"]);
    await expectReject(() => send(w, { sender_name: "Zed", to: "Bob" }), "NOT_FOUND");
    foreignAgent(w, "Olga");
    const error = await expectReject(() => send(w, { sender_name: "Olga", to: "Bob" }), "NOT_FOUND");
    expect(error.message).toContain("Olga@srv-other");
  });

  test("more than the recipient limit across to/cc/bcc is TOO_LARGE; exactly the limit is delivered", async () => {
    const w = world(["Alice"]);
    const names = Array.from({ length: LIMITS.recipients + 1 }, (_, i) => `Agent${i}`);
    for (const name of names) registerAgent(w.mb, { project_key: w.key, program: "p", model: "m", name });
    const split = (list: string[]) => ({
      to: list.slice(0, 200),
      cc: list.slice(200, 400),
      bcc: list.slice(400),
    });
    const error = await expectReject(() => send(w, { sender_name: "Alice", ...split(names) }), "TOO_LARGE");
    expect(error.message).toMatch(/recipients/);
    expect(countRows(w.mb, "messages")).toBe(0);
    const rest = split(names.slice(1));
    // A name repeated in another list (any case) counts once.
    const ok = await send(w, { sender_name: "Alice", ...rest, cc: [...rest.cc, "agent1"] });
    expect(countRows(w.mb, "message_recipients")).toBe(LIMITS.recipients);
    expect(ok.deliveries[0]!.payload.to).toHaveLength(200);
  });

  test("a list of more names than the recipient limit is refused with TOO_LARGE", async () => {
    const w = world(["Alice"]);
    const names = Array.from({ length: LIMITS.recipients + 1 }, (_, i) => `N${i}`);
    await expectReject(() => send(w, { sender_name: "Alice", to: names }), "TOO_LARGE");
    expect(countRows(w.mb, "messages")).toBe(0);
  });
});

describe("send_message: broadcast", () => {
  test("an empty `to` with broadcast reaches every active agent but the sender", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    const result = await send(w, { sender_name: "Bob", broadcast: true });
    expect(result.deliveries[0]!.payload.to).toEqual(["Alice", "Carol", "Dave"]);
    for (const name of ["Alice", "Carol", "Dave"]) {
      expect(fetchInbox(w.mb, { project_key: w.key, agent_name: name })).toHaveLength(1);
    }
    expect(fetchInbox(w.mb, { project_key: w.key, agent_name: "Bob" })).toHaveLength(0);
  });

  test("broadcast stays inside the project", async () => {
    const w = world(["Alice", "Bob"]);
    foreignAgent(w, "Olga");
    const result = await send(w, { sender_name: "Alice", broadcast: true });
    expect(result.deliveries[0]!.payload.to).toEqual(["Bob"]);
    expect(fetchInbox(w.mb, { project_key: "srv-other", agent_name: "Olga" })).toHaveLength(0);
  });

  test("broadcast with a non-empty `to` is INVALID_ARGUMENT", async () => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", broadcast: true, to: "Bob" }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/broadcast/);
    expect(error.message).toMatch(/`to`/);
  });

  test("broadcast with nobody else in the project is INVALID_ARGUMENT", async () => {
    const w = world(["Alice"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", broadcast: true }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/no other active agent/);
  });

  test("broadcast with a cc outside the project adds that recipient", async () => {
    const w = world(["Alice", "Bob"]);
    foreignAgent(w, "Olga");
    const result = await send(w, { sender_name: "Alice", broadcast: true, cc: "Olga@srv-other" });
    expect(result.count).toBe(2);
    expect(result.deliveries[1]!.payload.cc).toEqual(["Olga"]);
  });
});

describe("send_message: fields", () => {
  test.each(["low", "normal", "high", "urgent"] as const)("importance %s is stored", async (importance) => {
    const w = world(["Alice", "Bob"]);
    const d = (await send(w, { sender_name: "Alice", to: "Bob", importance })).deliveries[0]!;
    expect(d.payload.importance).toBe(importance);
  });

  test("an unknown importance is INVALID_ARGUMENT naming the field", async () => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      // @ts-expect-error: an agent may send anything
      () => send(w, { sender_name: "Alice", to: "Bob", importance: "critical" }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/importance/);
  });

  test("ack_required is stored", async () => {
    const w = world(["Alice", "Bob"]);
    expect(
      (await send(w, { sender_name: "Alice", to: "Bob", ack_required: true })).deliveries[0]!.payload
        .ack_required,
    ).toBe(true);
  });

  test("topic and thread_id are stored as given", async () => {
    const w = world(["Alice", "Bob"]);
    const d = (
      await send(w, { sender_name: "Alice", to: "Bob", topic: "release.v2/ci-x_1", thread_id: "T-9" })
    ).deliveries[0]!;
    expect(d.payload.topic).toBe("release.v2/ci-x_1");
    expect(d.payload.thread_id).toBe("T-9");
  });

  test.each(["", "has space", "-lead", "a:b"])(
    "the malformed topic %j is INVALID_ARGUMENT",
    async (topic) => {
      const w = world(["Alice", "Bob"]);
      const error = await expectReject(
        () => send(w, { sender_name: "Alice", to: "Bob", topic }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/topic/);
    },
  );

  test("a topic over 128 characters is TOO_LARGE", async () => {
    const w = world(["Alice", "Bob"]);
    await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", topic: "t".repeat(129) }),
      "TOO_LARGE",
    );
  });

  test("an empty thread_id is INVALID_ARGUMENT; an over-long one TOO_LARGE", async () => {
    const w = world(["Alice", "Bob"]);
    const e = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", thread_id: "" }),
      "INVALID_ARGUMENT",
    );
    expect(e.message).toMatch(/thread_id/);
    await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", thread_id: "t".repeat(257) }),
      "TOO_LARGE",
    );
  });

  test.each([
    ["an object", { task: "build", n: 3, nested: { ok: true, list: [1, "two", null] } }],
    ["an array", [1, 2, 3]],
    ["a string", "just text"],
    ["a number", 42.5],
    ["false", false],
  ])("payload round-trips as JSON: %s", async (_label, payload) => {
    const w = world(["Alice", "Bob"]);
    const sent = (await send(w, { sender_name: "Alice", to: "Bob", payload })).deliveries[0]!.payload;
    expect(sent.payload).toEqual(payload);
    expect(getMessage(w.mb, { project_key: w.key, message_id: sent.id, agent_name: "Bob" }).payload).toEqual(
      payload,
    );
    const item = fetchInbox(w.mb, { project_key: w.key, agent_name: "Bob", include_bodies: true })[0]!;
    expect(item.payload).toEqual(payload);
  });

  test("no payload reads back as null", async () => {
    const w = world(["Alice", "Bob"]);
    expect((await send(w, { sender_name: "Alice", to: "Bob" })).deliveries[0]!.payload.payload).toBeNull();
  });

  test("a payload over 64 KiB is TOO_LARGE and nothing is stored", async () => {
    const w = world(["Alice", "Bob"]);
    const payload = { blob: "x".repeat(LIMITS.payloadBytes) };
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", payload }),
      "TOO_LARGE",
    );
    expect(error.message).toMatch(/payload/);
    expect(error.data).toMatchObject({ field: "payload", limit: LIMITS.payloadBytes });
    expect(countRows(w.mb, "messages")).toBe(0);
  });

  test("a payload that is not JSON is INVALID_ARGUMENT", async () => {
    const w = world(["Alice", "Bob"]);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const payload of [circular, 10n, () => 1, Symbol("s")]) {
      const error = await expectReject(
        () => send(w, { sender_name: "Alice", to: "Bob", payload }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/payload/);
    }
    expect(countRows(w.mb, "messages")).toBe(0);
  });

  test("a body of exactly 1 MiB is accepted; one byte more is TOO_LARGE and nothing is stored", async () => {
    const w = world(["Alice", "Bob"]);
    const exact = "é".repeat(LIMITS.bodyBytes / 2);
    const sent = (await send(w, { sender_name: "Alice", to: "Bob", body_md: exact })).deliveries[0]!.payload;
    expect(sent.body_md.length).toBe(LIMITS.bodyBytes / 2);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", body_md: `${exact}x` }),
      "TOO_LARGE",
    );
    expect(error.message).toMatch(/body_md/);
    expect(error.data).toMatchObject({
      field: "body_md",
      bytes: LIMITS.bodyBytes + 1,
      limit: LIMITS.bodyBytes,
    });
    expect(countRows(w.mb, "messages")).toBe(1);
  });

  test("an empty body is allowed", async () => {
    const w = world(["Alice", "Bob"]);
    expect(
      (await send(w, { sender_name: "Alice", to: "Bob", body_md: "" })).deliveries[0]!.payload.body_md,
    ).toBe("");
  });

  test("a subject of 1000 characters is accepted; 1001 is TOO_LARGE", async () => {
    const w = world(["Alice", "Bob"]);
    const subject = "s".repeat(LIMITS.subjectChars);
    expect((await send(w, { sender_name: "Alice", to: "Bob", subject })).deliveries[0]!.payload.subject).toBe(
      subject,
    );
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", subject: `${subject}s` }),
      "TOO_LARGE",
    );
    expect(error.message).toMatch(/subject/);
    expect(countRows(w.mb, "messages")).toBe(1);
  });

  test.each(["", "   ", "\n\t"])("the empty subject %j is INVALID_ARGUMENT", async (subject) => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", subject }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/subject/);
  });

  test("ttl_seconds sets expires_ts relative to the send time", async () => {
    const w = world(["Alice", "Bob"]);
    w.clock.advance(5);
    const sent = (await send(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 3600 })).deliveries[0]!
      .payload;
    expect(sent.expires_ts).toBe(new Date(Date.parse(w.clock.iso()) + 3_600_000).toISOString());
    expect(sent.must_read).toBe(false);
  });

  test("without ttl_seconds there is no expiry", async () => {
    const w = world(["Alice", "Bob"]);
    expect((await send(w, { sender_name: "Alice", to: "Bob" })).deliveries[0]!.payload.expires_ts).toBeNull();
  });

  test("must_read implies ack_required and never expires, even with a ttl", async () => {
    const w = world(["Alice", "Bob"]);
    const sent = (await send(w, { sender_name: "Alice", to: "Bob", must_read: true, ttl_seconds: 60 }))
      .deliveries[0]!.payload;
    expect(sent).toMatchObject({ must_read: true, ack_required: true, expires_ts: null });
  });

  test.each([0, -5, 1.5])("ttl_seconds %d is INVALID_ARGUMENT", async (ttl_seconds) => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", ttl_seconds }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/ttl_seconds/);
  });

  test("ttl_seconds over a year is TOO_LARGE", async () => {
    const w = world(["Alice", "Bob"]);
    await expectReject(
      () => send(w, { sender_name: "Alice", to: "Bob", ttl_seconds: LIMITS.ttlSeconds + 1 }),
      "TOO_LARGE",
    );
  });

  test("each send is its own message with increasing ids", async () => {
    const w = world(["Alice", "Bob"]);
    const a = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const b = await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect(b).toBeGreaterThan(a);
  });

  test("an unknown project is NOT_FOUND", async () => {
    const w = world(["Alice", "Bob"]);
    const error = await expectReject(
      () =>
        sendMessage(w.mb, {
          project_key: "/nope",
          sender_name: "Alice",
          to: "Bob",
          subject: "s",
          body_md: "b",
        }),
      "NOT_FOUND",
    );
    expect(error.message).toMatch(/ensure_project/);
  });
});

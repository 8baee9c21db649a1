import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import * as engine from "../../engine/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("smoke: register, send, inbox, reply, ack", async () => {
  const home = mkdtempSync(join(tmpdir(), "ph-"));
  dirs.push(home);
  const mb = engine.openMailbox({ home, archive: false });
  const p = engine.ensureProject(mb, { human_key: "/repo/app" });
  const a = engine.registerAgent(mb, { project_key: p.slug, program: "x", model: "y", name: "Alice" });
  const b = engine.registerAgent(mb, { project_key: "/repo/app/", program: "x", model: "y" });
  const sent = await engine.sendMessage(mb, {
    project_key: p.slug,
    sender_name: "alice",
    to: b.name,
    subject: "Hi",
    body_md: "hello",
    bcc: [],
  });
  expect(sent.count).toBe(1);
  const inbox = engine.fetchInbox(mb, { project_key: p.slug, agent_name: b.name, include_bodies: true });
  expect(inbox[0]?.body_md).toBe("hello");
  expect(engine.peekInbox(mb, { project_key: p.slug, agent_name: b.name }).unread).toBe(1);
  const reply = await engine.replyMessage(mb, {
    project_key: p.slug,
    message_id: inbox[0]!.id,
    sender_name: b.name,
    body_md: "yo",
  });
  expect(reply.subject).toBe("Re: Hi");
  expect(reply.to).toEqual([a.name]);
  const ack = engine.acknowledgeMessage(mb, {
    project_key: p.slug,
    agent_name: "Alice",
    message_id: reply.id,
  });
  expect(ack.acknowledged).toBe(true);
  expect(
    engine.getThread(mb, { project_key: p.slug, thread_id: String(inbox[0]!.id) }).messages,
  ).toHaveLength(2);
  await mb.close();
});

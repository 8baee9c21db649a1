import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  ensureProject,
  isPigeonholeError,
  LIMITS,
  type Mailbox,
  type MultiThreadSummaryResult,
  openMailbox,
  registerAgent,
  replyMessage,
  sendMessage,
  summarizeThread,
  type ThreadSummaryResult,
} from "../../engine/index.js";

let home: string;
let mb: Mailbox;
const project = "/repo/summaries";

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "ph-sum-"));
  mb = openMailbox({ home, archive: false });
  ensureProject(mb, { human_key: project });
  for (const name of ["Alice", "Bob", "Carol", "Mallory"]) {
    registerAgent(mb, { project_key: project, program: "test", model: "m", name });
  }
});

afterEach(async () => {
  await mb.close();
  rmSync(home, { recursive: true, force: true });
});

async function send(from: string, to: string[], subject: string, body: string, thread_id?: string) {
  const r = await sendMessage(mb, {
    project_key: project,
    sender_name: from,
    to,
    subject,
    body_md: body,
    thread_id,
  });
  return r.deliveries[0]!.payload.id;
}

async function reply(from: string, message_id: number, body: string, cc: string[] = []) {
  return (await replyMessage(mb, { project_key: project, message_id, sender_name: from, body_md: body, cc }))
    .id;
}

/** A reply-built thread rooted at a numeric id, and a named thread "FEAT-3". */
async function seed() {
  const root = await send(
    "Alice",
    ["Bob"],
    "Pre-commit guard",
    "Kickoff for the guard. Who chains the existing hook? @Bob\n- [ ] write the hook\n```sh\nTODO: not an item\n```",
  );
  const r1 = await reply("Bob", root, "I will. We **agreed** to chain it.\n- [x] spike\nNEXT: docs @Alice", [
    "Carol",
  ]);
  const r2 = await reply("Alice", r1, "Great. Can Carol review by Friday?");
  await send("Carol", ["Alice"], "FEAT-3", "ACTION: benchmark globbing\nIs picomatch fast enough?", "FEAT-3");
  await send("Alice", ["Carol"], "Re: FEAT-3", "Yes, decided: keep picomatch. @Carol @carol", "FEAT-3");
  return { root, r1, r2 };
}

describe("summarize_thread on a real mailbox", () => {
  test("one thread: participants, actions, mentions, open questions, examples", async () => {
    const { root, r1, r2 } = await seed();
    const result = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root), include_examples: true },
      { llm: null },
    )) as ThreadSummaryResult;
    expect(result.thread_id).toBe(String(root));
    const s = result.summary;
    expect(s.participants).toEqual(["Alice", "Bob", "Carol"]);
    expect(s.total_messages).toBe(3);
    expect(s.subject).toBe("Pre-commit guard");
    expect(s.action_items).toEqual([
      { text: "write the hook", done: false, marker: "task", message_id: root, from: "Alice" },
      { text: "spike", done: true, marker: "task", message_id: r1, from: "Bob" },
      { text: "docs @Alice", done: false, marker: "NEXT", message_id: r1, from: "Bob" },
    ]);
    expect([s.open_actions, s.done_actions]).toEqual([2, 1]);
    expect(s.mentions).toEqual([
      { name: "Alice", count: 1 },
      { name: "Bob", count: 1 },
    ]);
    expect(s.questions.map((q) => q.message_id)).toEqual([root, r2]);
    expect(s.open_questions).toEqual([
      { text: "Can Carol review by Friday?", message_id: r2, from: "Alice" },
    ]);
    expect(s.key_points[0]).toBe("Pre-commit guard");
    expect(s.key_points).toContain("Bob: We agreed to chain it.");
    expect(s.source).toBe("extractive");
    expect(s.truncated).toBe(false);
    expect(s.llm_fallback).toBeUndefined();
    expect(result.examples.map((e) => [e.id, e.from, e.subject])).toEqual([
      [root, "Alice", "Pre-commit guard"],
      [r1, "Bob", "Re: Pre-commit guard"],
      [r2, "Alice", "Re: Pre-commit guard"],
    ]);
    expect(result.examples[0]!.snippet.startsWith("Kickoff for the guard.")).toBe(true);
  });

  test("examples are off by default and at most 3 (root and the two latest)", async () => {
    const root = await send("Alice", ["Bob"], "Long", "start");
    let last = root;
    for (let i = 0; i < 4; i++)
      last = await reply(i % 2 ? "Alice" : "Bob", last, `step ${i} ${"x".repeat(600)}`);
    const plain = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root) },
      { llm: null },
    )) as ThreadSummaryResult;
    expect(plain.examples).toEqual([]);
    const withExamples = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root), include_examples: true },
      { llm: null },
    )) as ThreadSummaryResult;
    expect(withExamples.examples.map((e) => e.id)).toEqual([root, last - 1, last]);
    for (const e of withExamples.examples) expect(e.snippet.length).toBeLessThanOrEqual(500);
  });

  test("comma-separated ids: one summary per thread plus an aggregate", async () => {
    const { root } = await seed();
    const result = (await summarizeThread(
      mb,
      { project_key: project, thread_id: ` ${root} , FEAT-3,,${root}` },
      { llm: null },
    )) as MultiThreadSummaryResult;
    expect(result.threads.map((t) => t.thread_id)).toEqual([String(root), "FEAT-3"]);
    const feat = result.threads[1]!.summary;
    expect(feat.participants).toEqual(["Carol", "Alice"]);
    expect(feat.mentions).toEqual([{ name: "Carol", count: 2 }]);
    expect(feat.open_questions).toEqual([]);
    expect(feat.key_points).toContain("Alice: Yes, decided: keep picomatch.");
    const agg = result.aggregate;
    expect(agg.total_messages).toBe(5);
    expect([agg.open_actions, agg.done_actions]).toEqual([3, 1]);
    expect(agg.participants).toEqual(["Alice", "Bob", "Carol"]);
    expect(agg.top_mentions).toEqual([
      { name: "Carol", count: 2 },
      { name: "Alice", count: 1 },
      { name: "Bob", count: 1 },
    ]);
    expect(agg.action_items.map((a) => [a.thread_id, a.text])).toEqual([
      [String(root), "write the hook"],
      [String(root), "spike"],
      [String(root), "docs @Alice"],
      ["FEAT-3", "benchmark globbing"],
    ]);
    expect(agg.key_points).toEqual([...result.threads[0]!.summary.key_points, ...feat.key_points]);
  });

  test("a single id followed by a comma still gives the multi-thread shape", async () => {
    await seed();
    const result = await summarizeThread(mb, { project_key: project, thread_id: "FEAT-3," }, { llm: null });
    expect("threads" in result && result.threads).toHaveLength(1);
  });

  test("viewer filtering: each agent sees only its own mail, an outsider gets NOT_FOUND", async () => {
    const { root } = await seed();
    const asCarol = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root), agent_name: "carol" },
      { llm: null },
    )) as ThreadSummaryResult;
    // Carol was only cc'd on Bob's reply.
    expect(asCarol.summary.total_messages).toBe(1);
    expect(asCarol.summary.action_items.map((a) => a.text)).toEqual(["spike", "docs @Alice"]);
    for (const thread_id of [String(root), "FEAT-3", `FEAT-3,${root}`]) {
      const error = await summarizeThread(
        mb,
        { project_key: project, thread_id, agent_name: "Mallory" },
        { llm: null },
      ).catch((e: unknown) => e);
      expect(isPigeonholeError(error) && error.code).toBe("NOT_FOUND");
    }
  });

  test("an unknown thread is NOT_FOUND, also inside a list", async () => {
    await seed();
    for (const thread_id of ["NOPE", "FEAT-3,NOPE"]) {
      await expect(
        summarizeThread(mb, { project_key: project, thread_id }, { llm: null }),
      ).rejects.toMatchObject({
        code: "NOT_FOUND",
        message: expect.stringContaining('"NOPE"'),
      });
    }
  });

  test("per_thread_limit keeps the oldest messages and reports truncation", async () => {
    const root = await send("Alice", ["Bob"], "Counting", "TODO: one");
    let last = root;
    for (let i = 2; i <= 5; i++) last = await reply(i % 2 ? "Alice" : "Bob", last, `TODO: item ${i}`);
    const cut = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root), per_thread_limit: 2 },
      { llm: null },
    )) as ThreadSummaryResult;
    expect(cut.summary.total_messages).toBe(2);
    expect(cut.summary.truncated).toBe(true);
    expect(cut.summary.action_items.map((a) => a.text)).toEqual(["one", "item 2"]);
    const exact = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root), per_thread_limit: 5 },
      { llm: null },
    )) as ThreadSummaryResult;
    expect(exact.summary.truncated).toBe(false);
    expect(exact.summary.total_messages).toBe(5);
  });

  test("determinism: the same input twice gives identical output", async () => {
    const { root } = await seed();
    const input = { project_key: project, thread_id: `${root},FEAT-3`, include_examples: true };
    const a = await summarizeThread(mb, input, { llm: null });
    const b = await summarizeThread(mb, input, { llm: null });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  test("llm_mode false never uses a configured LLM", async () => {
    const { root } = await seed();
    // Nothing listens on this URL; with llm_mode false it is never contacted, so no fallback is reported.
    const llm = { url: "http://127.0.0.1:9/v1", model: "m", timeoutMs: 1000 };
    const r = (await summarizeThread(
      mb,
      { project_key: project, thread_id: String(root), llm_mode: false },
      { llm },
    )) as ThreadSummaryResult;
    expect(r.summary.source).toBe("extractive");
    expect(r.summary.llm_fallback).toBeUndefined();
  });

  test("input validation: bounds, empty lists, too many threads, long ids", async () => {
    const base = { project_key: project };
    const code = (input: Parameters<typeof summarizeThread>[1]) =>
      summarizeThread(mb, input, { llm: null }).catch((e: unknown) => (isPigeonholeError(e) ? e.code : e));
    expect(await code({ ...base, thread_id: "1", per_thread_limit: 0 })).toBe("INVALID_ARGUMENT");
    expect(
      await code({ ...base, thread_id: "1", per_thread_limit: LIMITS.summaryMessagesPerThread + 1 }),
    ).toBe("TOO_LARGE");
    expect(await code({ ...base, thread_id: "" })).toBe("INVALID_ARGUMENT");
    expect(await code({ ...base, thread_id: " , ," })).toBe("INVALID_ARGUMENT");
    const many = Array.from({ length: LIMITS.summaryThreads + 1 }, (_, i) => `T${i}`).join(",");
    expect(await code({ ...base, thread_id: many })).toBe("TOO_LARGE");
    expect(await code({ ...base, thread_id: `A,${"x".repeat(LIMITS.threadIdChars + 1)}` })).toBe("TOO_LARGE");
    expect(await code({ ...base, thread_id: "1", agent_name: "Nobody" })).toBe("NOT_FOUND");
  });
});

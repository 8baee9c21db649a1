import { describe, expect, test } from "vitest";
import { digestThread, rootSubject, type SummarizedMessage } from "../../engine/summaries/digest.js";
import {
  actionFromLine,
  extractActions,
  extractMarkedSentences,
  extractMentions,
  extractQuestions,
  firstSentence,
} from "../../engine/summaries/extract.js";
import { clip, maskCodeSpans, proseBlocks, proseLines, sentences } from "../../engine/summaries/markdown.js";

describe("markdown scanning", () => {
  test("code spans are blanked to the same length", () => {
    expect(maskCodeSpans("a `b?` c")).toBe("a      c");
    expect(maskCodeSpans("x ``a ` b`` y")).toBe("x           y");
    expect(maskCodeSpans("unmatched ` tick")).toBe("unmatched ` tick");
  });

  test("fenced code and quotes become breaks; an unclosed fence runs to the end", () => {
    const body =
      "one\n```ts\nTODO: hidden\n```\ntwo\n> quoted?\n~~~~\n~~~\nstill code\n~~~~\nthree\n```\nopen";
    const texts = proseLines(body).map((l) => l?.text ?? null);
    expect(texts).toEqual(["one", null, "two", null, null, "three", null]);
  });

  test("a backtick fence whose info string holds a backtick is not a fence", () => {
    expect(proseLines("```a`b\nTODO: x").map((l) => l?.text)).toEqual(["```a`b", "TODO: x"]);
  });

  test("blocks: paragraphs join lines, list items and headings stand alone", () => {
    const blocks = proseBlocks(
      "# Plan\nfirst line\ncontinues here\n- item one\n  more of item\n2) item two\n\npara",
    );
    expect(blocks.map((b) => b.text)).toEqual([
      "Plan",
      "first line continues here",
      "item one more of item",
      "item two",
      "para",
    ]);
  });

  test("an action line never joins a paragraph; only indented lines continue a list item", () => {
    const isAction = (line: string) => actionFromLine(line) !== null;
    const blocks = proseBlocks("intro\nTODO: x\nmore\n- item\n  indented\nnot indented", isAction);
    expect(blocks.map((b) => b.text)).toEqual(["intro", "TODO: x", "more", "item indented", "not indented"]);
  });

  test("sentences end at . ! ? before a space or the end, never inside code", () => {
    const [block] = proseBlocks("Is `a ? b : c` right? Yes. (Really?) Done");
    expect(sentences(block!).map((s) => [s.text, s.question])).toEqual([
      ["Is `a ? b : c` right?", true],
      ["Yes.", false],
      ["(Really?)", true],
      ["Done", false],
    ]);
  });
});

describe("action items", () => {
  test.each([
    ["TODO: write tests", "TODO", "write tests"],
    ["todo write tests", "TODO", "write tests"],
    ["Todo - write tests", "TODO", "write tests"],
    ["TODO:write tests", "TODO", "write tests"],
    ["ACTION: ship it", "ACTION", "ship it"],
    ["action ship it", "ACTION", "ship it"],
    ["NEXT: review", "NEXT", "review"],
    ["Next review the PR", "NEXT", "review the PR"],
    ["- TODO: bulleted", "TODO", "bulleted"],
    ["* next: starred", "NEXT", "starred"],
    ["3. ACTION numbered", "ACTION", "numbered"],
    ["**TODO:** bold colon inside", "TODO", "bold colon inside"],
    ["**Action**: bold colon outside", "ACTION", "bold colon outside"],
    ["  TODO: indented", "TODO", "indented"],
  ])("%j is an open %s item", (line, marker, text) => {
    expect(actionFromLine(line)).toEqual({ text, done: false, marker });
  });

  test.each([
    ["- [ ] open task", false, "open task"],
    ["- [x] done task", true, "done task"],
    ["* [X] done with capital", true, "done with capital"],
    ["+ [ ] plus bullet", false, "plus bullet"],
    ["1. [x] ordered", true, "ordered"],
    ["- [ ] TODO: both", false, "TODO: both"],
  ])("%j is a task item", (line, done, text) => {
    expect(actionFromLine(line)).toEqual({ text, done, marker: "task" });
  });

  test.each([
    "TODOs are piling up",
    "Actionable feedback",
    "Nextly",
    "TODO:",
    "TODO",
    "TODO-fix",
    "Next, we ship",
    "We have a TODO: not at line start",
    "- [ ]",
    "-[ ] no space after bullet",
    "[ ] no bullet",
    "- [y] wrong mark",
  ])("%j is not an action item", (line) => {
    expect(actionFromLine(line)).toBeNull();
  });

  test("items inside fenced code and quotes are ignored; order is kept", () => {
    const body = [
      "Plan:",
      "- [ ] first",
      "```",
      "TODO: inside code",
      "- [x] inside code",
      "```",
      "> TODO: quoted from an earlier mail",
      "NEXT: second",
      "~~~",
      "ACTION: tilde code",
      "~~~",
      "- [x] third",
    ].join("\n");
    expect(extractActions(body)).toEqual([
      { text: "first", done: false, marker: "task" },
      { text: "second", done: false, marker: "NEXT" },
      { text: "third", done: true, marker: "task" },
    ]);
  });

  test("clip collapses whitespace and never splits a surrogate pair", () => {
    expect(clip("  a \n\t b  ", 10)).toBe("a b");
    expect(clip(`ab${"😀".repeat(3)}`, 4)).toBe("ab…");
    expect(clip("abcdef", 4)).toBe("abc…");
  });

  test("long items are clipped to 300 characters", () => {
    const [item] = extractActions(`TODO: ${"x".repeat(400)}`);
    expect(item!.text).toHaveLength(300);
    expect(item!.text.endsWith("…")).toBe(true);
  });
});

describe("mentions", () => {
  test("names after @, not e-mail addresses, URL paths or code", () => {
    const body = [
      "@Alice please look, cc @bob.",
      "Mail me at a@b.com or x.y+z@example.org.",
      "See https://example.com/@someone and `@InCode` here.",
      "(@Carol) and @Dave_2-x, again @Alice!",
      "```",
      "@InFence",
      "```",
      "> @Quoted",
    ].join("\n");
    expect(extractMentions(body)).toEqual(["Alice", "bob", "Carol", "Dave_2-x", "Alice"]);
  });

  test("a lone @ or @ followed by punctuation is not a mention", () => {
    expect(extractMentions("at @ noon, @- or @.")).toEqual([]);
  });
});

describe("questions and key sentences", () => {
  test("questions are sentences ending in ?, outside code", () => {
    const body = [
      "Shall we merge\nthis today? I think so.",
      "- Is the guard chained?",
      "```",
      "why is this here?",
      "```",
      "Use `x ? y : z` here.",
      "> Was this quoted?",
    ].join("\n");
    expect(extractQuestions(body)).toEqual(["Shall we merge this today?", "Is the guard chained?"]);
  });

  test("marked sentences: bold or decision words, bold removed, action lines skipped", () => {
    const body = [
      "Intro. We **decided** to use picomatch. Nothing here.",
      "The build is blocked on CI.",
      "- __Agreed__: ship on Friday",
      "TODO: this is important but an action",
      "`blocked` in code does not count.",
      "Unblocked isn't a whole word match.",
    ].join("\n\n");
    expect(extractMarkedSentences(body)).toEqual([
      "We decided to use picomatch.",
      "The build is blocked on CI.",
      "Agreed: ship on Friday",
    ]);
  });

  test("first sentence skips action items and code", () => {
    expect(firstSentence("```\ncode\n```\nTODO: x\n\nHello there. More.")).toBe("Hello there.");
    expect(firstSentence("```\nonly code\n```")).toBeNull();
  });
});

describe("digestThread", () => {
  const msg = (
    id: number,
    from: string,
    to: string[],
    body: string,
    subject = "Re: Plan",
  ): SummarizedMessage => ({
    id,
    from,
    to,
    cc: [],
    bcc: [],
    subject,
    body_md: body,
    created_ts: `2025-01-0${id}T00:00:00.000Z`,
  });

  test("participants, counts, mentions, open questions and key points", () => {
    const messages = [
      {
        ...msg(
          1,
          "Alice",
          ["Bob"],
          "Kickoff for the guard. Who owns the hook? @bob @Carol\n- [ ] write hook",
          "Plan",
        ),
        cc: ["Carol"],
      },
      msg(2, "Bob", ["Alice"], "I do. We **agreed** on chaining.\n- [x] spike\nTODO: docs\nAny deadline?"),
      msg(3, "Bob", ["Alice"], "Also @BOB is me. Is Friday ok?"),
    ];
    const s = digestThread(messages);
    expect(s.participants).toEqual(["Alice", "Bob", "Carol"]);
    expect(s.subject).toBe("Plan");
    expect(s.total_messages).toBe(3);
    expect(s.open_actions).toBe(2);
    expect(s.done_actions).toBe(1);
    expect(s.action_items).toEqual([
      { text: "write hook", done: false, marker: "task", message_id: 1, from: "Alice" },
      { text: "spike", done: true, marker: "task", message_id: 2, from: "Bob" },
      { text: "docs", done: false, marker: "TODO", message_id: 2, from: "Bob" },
    ]);
    expect(s.mentions).toEqual([
      { name: "Bob", count: 2 },
      { name: "Carol", count: 1 },
    ]);
    expect(s.questions.map((q) => [q.message_id, q.text])).toEqual([
      [1, "Who owns the hook?"],
      [2, "Any deadline?"],
      [3, "Is Friday ok?"],
    ]);
    // Alice's question got an answer from Bob; Bob's two questions have no later word from anyone else.
    expect(s.open_questions.map((q) => q.message_id)).toEqual([2, 3]);
    expect(s.key_points).toEqual([
      "Plan",
      "Bob: We agreed on chaining.",
      "Alice: Kickoff for the guard.",
      "Bob: I do.",
      "Bob: Also @BOB is me.",
    ]);
    expect(s.first_ts).toBe("2025-01-01T00:00:00.000Z");
    expect(s.last_activity_ts).toBe("2025-01-03T00:00:00.000Z");
    expect(s.source).toBe("extractive");
    expect(s.truncated).toBe(false);
  });

  test("key points are capped at 10 and deduplicated", () => {
    const messages = Array.from({ length: 15 }, (_, i) =>
      msg(i + 1, "Alice", ["Bob"], i % 2 ? "Same." : `Point ${i}.`),
    );
    const s = digestThread(messages);
    expect(s.key_points).toHaveLength(10);
    expect(new Set(s.key_points).size).toBe(10);
    expect(s.key_points.filter((p) => p === "Alice: Same.")).toHaveLength(1);
  });

  test("an empty thread gives an empty summary", () => {
    const s = digestThread([]);
    expect(s).toMatchObject({ participants: [], key_points: [], total_messages: 0, first_ts: null });
  });

  test("rootSubject strips repeated reply and forward prefixes", () => {
    expect(rootSubject("Re: RE:Fwd: fw: Plan")).toBe("Plan");
    expect(rootSubject("Regarding plan")).toBe("Regarding plan");
  });
});

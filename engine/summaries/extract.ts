/**
 * Deterministic extraction from one message body: action items, @mentions, questions and key sentences.
 * Pure functions of the text; fenced code and quoted lines are ignored by all of them (see markdown.ts).
 */
import { clip, proseBlocks, proseLines, sentences } from "./markdown.js";

/** Longest text of one extracted item (action item, question, key point). */
export const ITEM_CHARS = 300;

/** What made a line an action item. */
export type ActionMarker = "TODO" | "ACTION" | "NEXT" | "task";

/** An action item as found in a body. */
export interface ExtractedAction {
  text: string;
  done: boolean;
  marker: ActionMarker;
}

const BULLET = String.raw`(?:[-*+]|\d{1,9}[.)])`;
const TASK = new RegExp(String.raw`^\s*${BULLET}\s+\[([ xX])\]\s+(\S.*)$`);
const KEYWORD = new RegExp(String.raw`^\s*(?:${BULLET}\s+)?(?:\*\*|__)?(todo|action|next)\b(.*)$`, "i");
// After the keyword: optional closing emphasis, then a colon, a spaced dash or a space, then the text.
const KEYWORD_REST = /^(?:\*\*|__)?(?::|\s+[-–—]|\s)\s*(?:\*\*|__)?\s*(\S.*)$/;

/** The action item a single line states, if any (see `extractActions` for the rules). */
export function actionFromLine(line: string): ExtractedAction | null {
  const task = line.match(TASK);
  if (task?.[1] && task[2]) {
    return { text: clip(task[2], ITEM_CHARS), done: task[1] !== " ", marker: "task" };
  }
  const keyword = line.match(KEYWORD);
  const rest = keyword?.[2]?.match(KEYWORD_REST);
  if (keyword?.[1] && rest?.[1]) {
    const marker = keyword[1].toUpperCase() as ActionMarker;
    return { text: clip(rest[1], ITEM_CHARS), done: false, marker };
  }
  return null;
}

/** Whether a line states an action item (such lines never join a paragraph). */
function isActionLine(line: string): boolean {
  return actionFromLine(line) !== null;
}

/**
 * Action items of a body, in order: Markdown task items (`- [ ] x` open, `- [x] x` / `* [X] x` done, any
 * of the bullets `-`, `*`, `+`, `1.`, `1)`), and lines starting with TODO, ACTION or NEXT in any case,
 * optionally after a bullet or inside bold, followed by a colon, a spaced dash or a space and some text
 * (`TODO: x`, `- next x`, `**Action:** x`). Keyword items are open.
 */
export function extractActions(body: string): ExtractedAction[] {
  const out: ExtractedAction[] = [];
  for (const line of proseLines(body)) {
    const action = line && actionFromLine(line.text);
    if (action) out.push(action);
  }
  return out;
}

// Not after characters that make it part of an address, a path or a word: `a@b.com`, `x.com/@user`.
const MENTION = /(?<![A-Za-z0-9._%+\-/@])@([A-Za-z0-9][A-Za-z0-9._-]{0,127})/g;

/**
 * @mentions of a body in order, repeats included: `@` plus an agent name (`[A-Za-z0-9][A-Za-z0-9._-]*`),
 * not preceded by a letter, digit, `.`, `_`, `%`, `+`, `-`, `/` or `@` (so e-mail addresses and URL
 * paths are not mentions), outside code; a trailing `.` is sentence punctuation and dropped.
 */
export function extractMentions(body: string): string[] {
  const out: string[] = [];
  for (const line of proseLines(body)) {
    if (!line) continue;
    for (const m of line.masked.matchAll(MENTION)) {
      const name = (m[1] as string).replace(/\.+$/, "");
      out.push(name);
    }
  }
  return out;
}

/** Sentences of a body that end with a question mark outside code, in order. */
export function extractQuestions(body: string): string[] {
  const out: string[] = [];
  for (const block of proseBlocks(body, isActionLine)) {
    for (const s of sentences(block)) if (s.question) out.push(clip(s.text, ITEM_CHARS));
  }
  return out;
}

const BOLD = /\*\*[^*\s][^*]*\*\*|__[^_\s][^_]*__/;
const MARKER_WORDS =
  /\b(?:decided|decide|decision|decisions|agreed|agree|agreement|blocked|blocker|blockers|blocking|resolved|conclusion|important)\b/i;

/** Remove bold markers for display. */
function unbold(text: string): string {
  return text.replace(/\*\*([^*]+)\*\*/g, "$1").replace(/__([^_]+)__/g, "$1");
}

/**
 * Sentences a writer marked as important, in order: those containing bold text (`**x**`, `__x__`) or one of
 * the words decided/decision/agreed/agreement/blocked/blocker/blocking/resolved/conclusion/important
 * (any case, whole words, outside code). Action-item lines are not repeated here.
 */
export function extractMarkedSentences(body: string): string[] {
  const out: string[] = [];
  for (const block of proseBlocks(body, isActionLine)) {
    if (actionFromLine(block.firstLine)) continue;
    for (const s of sentences(block)) {
      if (BOLD.test(s.masked) || MARKER_WORDS.test(s.masked)) out.push(clip(unbold(s.text), ITEM_CHARS));
    }
  }
  return out;
}

/** The first sentence of the first block that is not an action item, or null when there is none. */
export function firstSentence(body: string): string | null {
  for (const block of proseBlocks(body, isActionLine)) {
    if (actionFromLine(block.firstLine)) continue;
    const first = sentences(block)[0];
    if (first) return clip(unbold(first.text), ITEM_CHARS);
  }
  return null;
}

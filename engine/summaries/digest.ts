/**
 * The extractive summary of one thread: a pure function of its messages (in thread order), so the same
 * messages always give the same summary.
 */
import {
  type ActionMarker,
  extractActions,
  extractMarkedSentences,
  extractMentions,
  extractQuestions,
  firstSentence,
  ITEM_CHARS,
} from "./extract.js";
import { clip } from "./markdown.js";

/** How many entries each list of a summary holds at most (counts are over all entries). */
export const SUMMARY_CAPS = {
  keyPoints: 10,
  actionItems: 50,
  questions: 25,
  mentions: 20,
} as const;

/** The fields of a message a summary reads (a `MessageView` with its body has them all). */
export interface SummarizedMessage {
  id: number;
  from: string;
  to: readonly string[];
  cc: readonly string[];
  bcc: readonly string[];
  subject: string;
  body_md?: string;
  created_ts: string;
}

/** An action item with the message it came from. */
export interface ActionItem {
  text: string;
  done: boolean;
  marker: ActionMarker;
  message_id: number;
  from: string;
}

/** A question with the message it came from. */
export interface Question {
  text: string;
  message_id: number;
  from: string;
}

/** An @mentioned name and how often it is mentioned. */
export interface Mention {
  name: string;
  count: number;
}

/** The summary of one thread, as `summarize_thread` returns it. */
export interface ThreadSummary {
  /** The root's subject without `Re:`/`Fwd:` prefixes. */
  subject: string;
  participants: string[];
  key_points: string[];
  action_items: ActionItem[];
  total_messages: number;
  open_actions: number;
  done_actions: number;
  mentions: Mention[];
  questions: Question[];
  open_questions: Question[];
  first_ts: string | null;
  last_activity_ts: string | null;
  /** Whether the thread has more messages than were summarized (see `per_thread_limit`). */
  truncated: boolean;
  /** Which summarizer produced `key_points`. */
  source: "extractive" | "llm";
  /** Why the configured LLM was not used, when it was configured and failed. */
  llm_fallback?: string;
}

/** A subject without its leading `Re:`, `Fw:` and `Fwd:` prefixes (any case, repeated). */
export function rootSubject(subject: string): string {
  return subject.replace(/^(?:\s*(?:re|fwd?)\s*:\s*)+/i, "").trim();
}

/**
 * Summarize `messages` (oldest first). Rules:
 * - participants: each message's sender, then its to, cc and visible bcc names, first appearance first;
 * - key points: the root subject, then sentences marked important (bold, decided/agreed/blocked...) as
 *   "Sender: sentence", then the first sentence of each message, until there are `SUMMARY_CAPS.keyPoints`;
 *   duplicates dropped;
 * - action items, questions and mentions: see extract.ts; mentions count every occurrence, are spelled as
 *   the participant they name (case-insensitively) and sorted by count, then name;
 * - an open question is one after which no one but its asker wrote in the thread.
 */
export function digestThread(messages: readonly SummarizedMessage[], truncated = false): ThreadSummary {
  const participants = new Map<string, string>();
  const addParticipant = (name: string) => {
    if (!participants.has(name.toLowerCase())) participants.set(name.toLowerCase(), name);
  };
  const actions: ActionItem[] = [];
  const questions: (Question & { index: number })[] = [];
  const mentionCounts = new Map<string, Mention>();
  const marked: string[] = [];
  const firsts: string[] = [];
  messages.forEach((message, index) => {
    for (const name of [message.from, ...message.to, ...message.cc, ...message.bcc]) addParticipant(name);
    const body = message.body_md ?? "";
    const who = { message_id: message.id, from: message.from };
    for (const a of extractActions(body)) actions.push({ ...a, ...who });
    for (const q of extractQuestions(body)) questions.push({ text: q, ...who, index });
    for (const name of extractMentions(body)) {
      const entry = mentionCounts.get(name.toLowerCase()) ?? { name, count: 0 };
      entry.count++;
      mentionCounts.set(name.toLowerCase(), entry);
    }
    for (const s of extractMarkedSentences(body)) marked.push(`${message.from}: ${s}`);
    const first = firstSentence(body);
    if (first) firsts.push(`${message.from}: ${first}`);
  });

  const lastOther = (index: number, asker: string) =>
    messages.some((m, j) => j > index && m.from.toLowerCase() !== asker.toLowerCase());
  const mentions = sortMentions(
    [...mentionCounts.entries()].map(([key, m]) => ({
      name: participants.get(key) ?? m.name,
      count: m.count,
    })),
  );
  const subject = rootSubject(messages[0]?.subject ?? "");
  const strip = ({ index: _index, ...q }: Question & { index: number }): Question => q;

  return {
    subject,
    participants: [...participants.values()],
    key_points: keyPoints(subject, marked, firsts),
    action_items: actions.slice(0, SUMMARY_CAPS.actionItems),
    total_messages: messages.length,
    open_actions: actions.filter((a) => !a.done).length,
    done_actions: actions.filter((a) => a.done).length,
    mentions: mentions.slice(0, SUMMARY_CAPS.mentions),
    questions: questions.slice(0, SUMMARY_CAPS.questions).map(strip),
    open_questions: questions
      .filter((q) => !lastOther(q.index, q.from))
      .slice(0, SUMMARY_CAPS.questions)
      .map(strip),
    first_ts: messages[0]?.created_ts ?? null,
    last_activity_ts: messages[messages.length - 1]?.created_ts ?? null,
    truncated,
    source: "extractive",
  };
}

/** Mentions by count (highest first), then name (code-point order): stable across runs and locales. */
export function sortMentions(mentions: Mention[]): Mention[] {
  return mentions.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function keyPoints(subject: string, marked: readonly string[], firsts: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const candidate of [subject, ...marked, ...firsts]) {
    const text = clip(candidate, ITEM_CHARS);
    const key = text.toLowerCase();
    if (text === "" || seen.has(key)) continue;
    seen.add(key);
    out.push(text);
    if (out.length === SUMMARY_CAPS.keyPoints) break;
  }
  return out;
}

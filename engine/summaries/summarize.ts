/**
 * `summarize_thread`: the extractive summary of one thread or several (comma-separated ids), optionally
 * refined by an LLM. Reads threads with `getThread`, so a viewer sees only its own mail.
 */
import { z } from "zod";
import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { getThread } from "../messages/threads.js";
import { AgentNameInput, ProjectKey, parseInput } from "../validate.js";
import {
  type ActionItem,
  digestThread,
  type Mention,
  type SummarizedMessage,
  sortMentions,
  type ThreadSummary,
} from "./digest.js";
import { buildPrompt, type LlmConfig, type LlmFailure, llmConfigFromEnv, refineKeyPoints } from "./llm.js";
import { clip } from "./markdown.js";

export const SummarizeThreadInput = z.object({
  project_key: ProjectKey,
  thread_id: z
    .string()
    .min(1, "thread_id must not be empty")
    .max(LIMITS.summaryThreads * (LIMITS.threadIdChars + 1))
    .describe("A thread id, or several separated by commas (e.g. 12,FEAT-3)"),
  include_examples: z.boolean().default(false).describe("Add up to 3 example messages per thread"),
  per_thread_limit: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.summaryMessagesPerThread)
    .default(50)
    .describe("Summarize at most this many messages of each thread: the oldest ones, root first"),
  agent_name: AgentNameInput.optional().describe("Summarize only what this agent sent or received"),
  llm_mode: z
    .boolean()
    .default(true)
    .describe("Let a configured LLM refine the key points (false: always extractive)"),
});
export type SummarizeThreadInput = z.input<typeof SummarizeThreadInput>;

/** An example message of a thread. */
export interface ThreadExample {
  id: number;
  from: string;
  subject: string;
  created_ts: string;
  /** The body, whitespace collapsed, at most 500 characters. */
  snippet: string;
}

/** The result for one thread id. */
export interface ThreadSummaryResult {
  thread_id: string;
  summary: ThreadSummary;
  examples: ThreadExample[];
}

/** Totals across the threads of a multi-thread call. */
export interface SummaryAggregate {
  top_mentions: Mention[];
  key_points: string[];
  /** Action items of every thread, each with its `thread_id`. */
  action_items: (ActionItem & { thread_id: string })[];
  participants: string[];
  total_messages: number;
  open_actions: number;
  done_actions: number;
}

/** The result for comma-separated thread ids. */
export interface MultiThreadSummaryResult {
  threads: ThreadSummaryResult[];
  aggregate: SummaryAggregate;
}

/** Options not on the wire. */
export interface SummarizeOptions {
  /** The LLM to use; null turns refinement off. Default: `llmConfigFromEnv()`. */
  llm?: LlmConfig | null;
}

const EXAMPLES = 3;
const SNIPPET_CHARS = 500;
const AGGREGATE_CAPS = { mentions: 10, keyPoints: 25, actionItems: 25 } as const;

/**
 * Summarize a thread (result `{thread_id, summary, examples}`) or, when `thread_id` contains a comma,
 * each listed thread (result `{threads, aggregate}`; ids trimmed, empty and repeated ones dropped, at
 * most `LIMITS.summaryThreads`). Each thread is read with `getThread` as `agent_name` sees it, limited to
 * its first `per_thread_limit` messages (`summary.truncated` says whether there are more); a thread with
 * nothing visible fails the whole call with NOT_FOUND before any LLM call. Without an LLM, or with
 * `llm_mode: false`, the result depends only on the messages. With one, each thread's key points may be
 * refined (`summary.source: "llm"`); any failure keeps the extractive ones and sets `summary.llm_fallback`,
 * and after a timeout or network error the remaining threads of the call skip the LLM.
 */
export async function summarizeThread(
  mb: Mailbox,
  input: SummarizeThreadInput,
  options: SummarizeOptions = {},
): Promise<ThreadSummaryResult | MultiThreadSummaryResult> {
  const args = parseInput(SummarizeThreadInput, input);
  const multi = args.thread_id.includes(",");
  const ids = threadIds(args.thread_id);
  const llm = args.llm_mode ? (options.llm === undefined ? llmConfigFromEnv() : options.llm) : null;

  const threads = ids.map((id) => {
    const { messages } = getThread(mb, {
      project_key: args.project_key,
      thread_id: id,
      agent_name: args.agent_name,
      include_bodies: true,
      // One more than asked for tells whether the thread goes on.
      limit: args.per_thread_limit + 1,
    });
    const window = messages.slice(0, args.per_thread_limit);
    return {
      thread_id: id,
      messages: window,
      summary: digestThread(window, messages.length > args.per_thread_limit),
    };
  });

  let unreachable: LlmFailure | null = null;
  const results: ThreadSummaryResult[] = [];
  for (const thread of threads) {
    const summary = thread.summary;
    if (llm && unreachable) summary.llm_fallback = unreachable;
    else if (llm) {
      const outcome = await refineKeyPoints(llm, buildPrompt(thread.thread_id, summary, thread.messages));
      if (outcome.ok) {
        summary.key_points = outcome.key_points;
        summary.source = "llm";
      } else {
        summary.llm_fallback = outcome.reason;
        if (outcome.reason === "timeout" || outcome.reason === "network") unreachable = outcome.reason;
      }
    }
    results.push({
      thread_id: thread.thread_id,
      summary,
      examples: args.include_examples ? examples(thread.messages) : [],
    });
  }
  const only = results[0];
  if (!multi && only) return only;
  return { threads: results, aggregate: aggregate(results) };
}

function threadIds(raw: string): string[] {
  const ids = [...new Set(raw.split(",").map((s) => s.trim()))].filter((s) => s !== "");
  if (ids.length === 0)
    throw fail.invalid("thread_id holds no thread id; pass one, or several separated by commas.");
  if (ids.length > LIMITS.summaryThreads) {
    throw fail.tooLarge(
      `thread_id lists ${ids.length} threads; the limit is ${LIMITS.summaryThreads} per call. Split the list.`,
      { threads: ids.length, limit: LIMITS.summaryThreads },
    );
  }
  const long = ids.find((id) => id.length > LIMITS.threadIdChars);
  if (long !== undefined) {
    throw fail.tooLarge(
      `A thread id is ${long.length} characters; the limit is ${LIMITS.threadIdChars}. Check the comma-separated list.`,
      { limit: LIMITS.threadIdChars },
    );
  }
  return ids;
}

/** The root and the two latest messages: how the thread started and where it stands. */
function examples(messages: readonly SummarizedMessage[]): ThreadExample[] {
  const picked = messages.length <= EXAMPLES ? messages : [messages[0], ...messages.slice(-(EXAMPLES - 1))];
  return picked
    .filter((m): m is SummarizedMessage => m !== undefined)
    .map((m) => ({
      id: m.id,
      from: m.from,
      subject: m.subject,
      created_ts: m.created_ts,
      snippet: clip(m.body_md ?? "", SNIPPET_CHARS),
    }));
}

function aggregate(results: readonly ThreadSummaryResult[]): SummaryAggregate {
  const mentions = new Map<string, Mention>();
  const participants = new Map<string, string>();
  for (const { summary } of results) {
    for (const m of summary.mentions) {
      const entry = mentions.get(m.name.toLowerCase()) ?? { name: m.name, count: 0 };
      entry.count += m.count;
      mentions.set(m.name.toLowerCase(), entry);
    }
    for (const p of summary.participants)
      if (!participants.has(p.toLowerCase())) participants.set(p.toLowerCase(), p);
  }
  const sum = (f: (s: ThreadSummary) => number) => results.reduce((n, r) => n + f(r.summary), 0);
  return {
    top_mentions: sortMentions([...mentions.values()]).slice(0, AGGREGATE_CAPS.mentions),
    key_points: results.flatMap((r) => r.summary.key_points).slice(0, AGGREGATE_CAPS.keyPoints),
    action_items: results
      .flatMap((r) => r.summary.action_items.map((a) => ({ ...a, thread_id: r.thread_id })))
      .slice(0, AGGREGATE_CAPS.actionItems),
    participants: [...participants.values()],
    total_messages: sum((s) => s.total_messages),
    open_actions: sum((s) => s.open_actions),
    done_actions: sum((s) => s.done_actions),
  };
}

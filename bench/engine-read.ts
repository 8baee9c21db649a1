import { fetchInbox, type Mailbox, searchMessages } from "../engine/index.js";
import { toFtsQuery } from "../engine/search-query.js";
import { costRatio, type Latency, pairedLatency } from "./measure.js";
import type { BenchRow } from "./types.js";

/**
 * Read latencies on a seeded mailbox: fetch_inbox against the raw indexed SELECT of the same page, and
 * search against a raw FTS5 MATCH. Calls rotate over agents (and queries), ours and the raw baseline
 * alternating on the same input.
 */

interface BenchAgent {
  id: number;
  name: string;
  slug: string;
}

/** Active agents with at least a page of mail, in a fixed order. */
function busyAgents(mb: Mailbox): BenchAgent[] {
  return mb.db
    .prepare(
      `SELECT a.id, a.name, p.slug FROM agents a JOIN projects p ON p.id = a.project_id
       WHERE a.retired_ts IS NULL AND (SELECT COUNT(*) FROM message_recipients r WHERE r.agent_id = a.id) >= 20
       ORDER BY a.id`,
    )
    .all() as BenchAgent[];
}

/** p50 and p99 rows for one operation. */
function latencyRows(
  name: string,
  baseline: string,
  result: { ours: Latency; baseline: Latency },
  target: { p50Ms: number; text: string },
  note?: string,
): BenchRow[] {
  return [
    {
      name: `${name} p50`,
      figure: result.ours.p50,
      unit: "ms",
      baseline: `${baseline} p50`,
      baseline_figure: result.baseline.p50,
      ratio: costRatio(result.ours.p50, result.baseline.p50),
      target: target.text,
      met: result.ours.p50 < target.p50Ms,
      ...(note ? { note } : {}),
    },
    {
      name: `${name} p99`,
      figure: result.ours.p99,
      unit: "ms",
      baseline: `${baseline} p99`,
      baseline_figure: result.baseline.p99,
      ratio: costRatio(result.ours.p99, result.baseline.p99),
      target: "-",
      met: null,
    },
  ];
}

/** fetch_inbox (limit 20) on the mailbox, rotating over its busy agents. */
export function inboxRows(mb: Mailbox, messages: number): BenchRow[] {
  const agents = busyAgents(mb);
  const raw = mb.db.prepare(
    `SELECT m.*, s.name AS sender_name, r.kind, r.read_ts, r.ack_ts
     FROM message_recipients r JOIN messages m ON m.id = r.message_id JOIN agents s ON s.id = m.sender_id
     WHERE r.agent_id = ? ORDER BY r.message_id DESC LIMIT 20`,
  );
  const result = pairedLatency(
    (i) => agents[i % agents.length] as BenchAgent,
    (a) => fetchInbox(mb, { project_key: a.slug, agent_name: a.name, limit: 20 }),
    (a) => raw.all(a.id),
    { warmup: 300, iterations: 4000 },
  );
  return latencyRows(
    `fetch_inbox (limit 20, ${messages.toLocaleString("en-US")} messages)`,
    "raw indexed SELECT of the same page",
    result,
    { p50Ms: 1, text: "p50 < 1 ms" },
  );
}

/** Queries in the vocabulary of seeded mail, covering each FTS5 form the tool accepts. */
export const SEARCH_QUERIES = [
  "migration",
  "deadlock",
  "flaky",
  '"rate limiter"',
  "retry OR timeout",
  "cache NOT session",
  "refresh*",
  "checkout AND form",
  "webhook",
  '"search indexer"',
  "ECONNRESET",
  "changelog",
  "regression",
  "runbook",
  "tenant_id",
  "scheduler",
  "onboarding",
  "idempotent",
  "dashboard AND latency",
  "release NOT freeze",
];

/**
 * search_messages (limit 20) as an agent, against a raw FTS5 MATCH of the same expression (the engine's
 * own translation of the query) ordered by rank, with a snippet.
 */
export function searchRows(mb: Mailbox, messages: number): BenchRow[] {
  const agents = busyAgents(mb);
  const raw = mb.db.prepare(
    `SELECT rowid, snippet(messages_fts, 1, '[', ']', '...', 24) AS snippet
     FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT 20`,
  );
  const queries = SEARCH_QUERIES.map((query) => ({ query, match: toFtsQuery(query) as string }));
  const result = pairedLatency(
    (i) => ({
      agent: agents[i % agents.length] as BenchAgent,
      ...(queries[i % queries.length] as (typeof queries)[number]),
    }),
    ({ agent, query }) =>
      searchMessages(mb, { project_key: agent.slug, agent_name: agent.name, query, limit: 20 }),
    ({ match }) => raw.all(match),
    { warmup: 60, iterations: 1000 },
  );
  return latencyRows(
    `search_messages (limit 20, ${messages.toLocaleString("en-US")} messages)`,
    "raw FTS5 MATCH + snippet",
    result,
    { p50Ms: 10, text: "p50 < 10 ms" },
    "ours searches as an agent (only mail it sent or received, with recipients shaped); the baseline ranks every message",
  );
}

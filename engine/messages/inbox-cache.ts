import type { Mailbox } from "../mailbox.js";
import { countInbox, type InboxCounts, type PeekInboxInput, type TimedInboxCounts } from "./inbox.js";

/**
 * Inbox counts for callers that ask after every call (the server's unread notice), kept while they
 * cannot have changed. Counting scans all of an agent's mail, which costs more than most tool calls.
 * Counts change only when the database does or when counted mail expires, and both are cheap to detect:
 * `PRAGMA data_version` moves when another connection commits, `total_changes()` when this one writes
 * (a rolled-back write moves it too, which only costs a recount), and each count knows the time of its
 * first expiry.
 */

interface Entry {
  /** The database's change stamp when counted. */
  stamp: string;
  /** The clock when counted: a clock set back could revive expired mail, so the counts then lapse. */
  countedAt: string;
  counts: TimedInboxCounts;
}

/** Agents remembered per mailbox; the oldest entry goes first beyond this. */
const MAX_ENTRIES = 512;

const caches = new WeakMap<Mailbox, Map<string, Entry>>();

/** Changes whenever this connection or any other has changed the database since the last reading. */
function changeStamp(mb: Mailbox): string {
  const row = mb
    .statement<{ changes: number; version: number }>(
      "SELECT total_changes() AS changes, (SELECT data_version FROM pragma_data_version) AS version",
    )
    .get() as { changes: number; version: number };
  return `${row.changes}:${row.version}`;
}

/**
 * Exactly what `peekInbox` would answer now (and the same errors), answered from memory when neither
 * the database nor the passing of time can have changed it since the same agent was last counted.
 * Inside a write transaction it always counts afresh (a rollback could undo what it saw).
 */
export function peekInboxCached(mb: Mailbox, input: PeekInboxInput): InboxCounts {
  const { project_key, agent_name } = input;
  if (mb.db.inTransaction || typeof project_key !== "string" || typeof agent_name !== "string") {
    return strip(countInbox(mb, input));
  }
  let cache = caches.get(mb);
  if (!cache) {
    cache = new Map();
    caches.set(mb, cache);
  }
  const key = `${project_key}\n${agent_name}`;
  const stamp = changeStamp(mb);
  const now = mb.now();
  const hit = cache.get(key);
  if (
    hit &&
    hit.stamp === stamp &&
    now >= hit.countedAt &&
    (hit.counts.next_expiry_ts === null || now < hit.counts.next_expiry_ts)
  ) {
    return strip(hit.counts);
  }
  const counts = countInbox(mb, input, now);
  cache.delete(key);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, { stamp, countedAt: now, counts });
  return strip(counts);
}

function strip({ next_expiry_ts: _, ...counts }: TimedInboxCounts): InboxCounts {
  return counts;
}

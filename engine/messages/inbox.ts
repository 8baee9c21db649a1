import { z } from "zod";
import { resolveAgent } from "../agents.js";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { parseOptionalTimestamp } from "../time.js";
import { AgentNameInput, FetchLimit, ProjectKey, parseInput, TimestampInput, Topic } from "../validate.js";
import { MESSAGE_COLUMNS, type MessageRow, type MessageView, shapeMessages } from "./shape.js";
import { EXPIRING_DELIVERY_SQL, LIVE_DELIVERY_SQL } from "./visibility.js";

export const FetchInboxInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput,
  limit: FetchLimit(20),
  urgent_only: z.boolean().default(false).describe("Only high and urgent mail"),
  include_bodies: z.boolean().default(false),
  since_ts: TimestampInput.optional().describe("Only mail created after this ISO-8601 time"),
  topic: Topic.optional(),
  unread_only: z.boolean().default(false),
  ack_pending_only: z
    .boolean()
    .default(false)
    .describe("Only mail asking for an acknowledgement not yet given"),
});
export type FetchInboxInput = z.input<typeof FetchInboxInput>;

/** An inbox item: the message as its recipient sees it, with how it was addressed and its receipts. */
export type InboxItem = MessageView & {
  kind: "to" | "cc" | "bcc";
  read_ts: string | null;
  ack_ts: string | null;
};

/**
 * The agent's live mail, newest first. Does not change read state. Expired unread mail (not must_read)
 * is left out.
 */
export function fetchInbox(mb: Mailbox, input: FetchInboxInput): InboxItem[] {
  const args = parseInput(FetchInboxInput, input);
  const project = resolveProject(mb, args.project_key);
  const agent = resolveAgent(mb, project, args.agent_name);
  const filters = [
    args.urgent_only ? "AND m.importance IN ('high', 'urgent')" : "",
    args.since_ts !== undefined ? "AND m.created_ts > @since" : "",
    args.topic !== undefined ? "AND m.topic = @topic" : "",
    args.unread_only ? "AND r.read_ts IS NULL" : "",
    args.ack_pending_only ? "AND m.ack_required = 1 AND r.ack_ts IS NULL" : "",
  ].join(" ");
  const rows = mb
    .statement<MessageRow & { kind: InboxItem["kind"]; read_ts: string | null; ack_ts: string | null }>(
      `SELECT ${MESSAGE_COLUMNS}, r.kind, r.read_ts, r.ack_ts
       FROM message_recipients r
       JOIN messages m ON m.id = r.message_id
       JOIN agents s ON s.id = m.sender_id
       WHERE r.agent_id = @agent AND ${LIVE_DELIVERY_SQL} ${filters}
       ORDER BY r.message_id DESC LIMIT @limit`,
    )
    .all({
      agent: agent.id,
      now: mb.now(),
      limit: args.limit,
      since: parseOptionalTimestamp(args.since_ts, "since_ts"),
      topic: args.topic ?? null,
    });
  const views = shapeMessages(mb, rows, { viewer: agent.name, includeBodies: args.include_bodies });
  return views.map((view, i) => {
    const row = rows[i] as (typeof rows)[number];
    return { ...view, kind: row.kind, read_ts: row.read_ts, ack_ts: row.ack_ts };
  });
}

export const PeekInboxInput = z.object({ project_key: ProjectKey, agent_name: AgentNameInput });
export type PeekInboxInput = z.input<typeof PeekInboxInput>;

export interface InboxCounts {
  unread: number;
  urgent_unread: number;
  ack_pending: number;
  oldest_unread_ts: string | null;
}

/** Counts of the agent's live mail in one query; reads nothing, changes nothing. */
export function peekInbox(mb: Mailbox, input: PeekInboxInput): InboxCounts {
  const { next_expiry_ts: _, ...counts } = countInbox(mb, input);
  return counts;
}

/** `InboxCounts` plus the time they stop holding on their own (see `countInbox`). */
export type TimedInboxCounts = InboxCounts & { next_expiry_ts: string | null };

/**
 * peekInbox's counts, plus `next_expiry_ts`: the earliest time a counted message expires and leaves
 * the counts (null when none will). Until the database changes or the clock reaches that time, the
 * counts stay exact, which is what lets `peekInboxCached` reuse them. `now` is the time counted at.
 */
export function countInbox(mb: Mailbox, input: PeekInboxInput, now = mb.now()): TimedInboxCounts {
  const args = parseInput(PeekInboxInput, input);
  const project = resolveProject(mb, args.project_key);
  const agent = resolveAgent(mb, project, args.agent_name);
  return mb
    .statement<TimedInboxCounts>(
      `SELECT
         COUNT(*) FILTER (WHERE r.read_ts IS NULL) AS unread,
         COUNT(*) FILTER (WHERE r.read_ts IS NULL AND m.importance IN ('high', 'urgent')) AS urgent_unread,
         COUNT(*) FILTER (WHERE m.ack_required = 1 AND r.ack_ts IS NULL) AS ack_pending,
         MIN(m.created_ts) FILTER (WHERE r.read_ts IS NULL) AS oldest_unread_ts,
         MIN(m.expires_ts) FILTER (WHERE ${EXPIRING_DELIVERY_SQL}) AS next_expiry_ts
       FROM message_recipients r JOIN messages m ON m.id = r.message_id
       WHERE r.agent_id = @agent AND ${LIVE_DELIVERY_SQL}`,
    )
    .get({ agent: agent.id, now }) as TimedInboxCounts;
}

import type { Mailbox } from "../mailbox.js";

/** New mail since a message id: the newest id now, and who received or sent anything after `afterId`. */
export interface MailChanges {
  last_id: number;
  /** Names of the agents (senders and recipients) of messages with id > afterId. */
  agents: string[];
}

/** The id of the newest message (0 when there is none): the cursor for `mailChangesSince`. */
export function lastMessageId(mb: Mailbox): number {
  return mb.statement<{ id: number }>("SELECT id FROM messages ORDER BY id DESC LIMIT 1").get()?.id ?? 0;
}

/**
 * Which agents got (or sent) mail after `afterId`, whichever process wrote it: the basis of inbox
 * subscriptions. Cheap when nothing changed (one indexed lookup).
 */
export function mailChangesSince(mb: Mailbox, afterId: number): MailChanges {
  const last = lastMessageId(mb);
  if (last <= afterId) return { last_id: last, agents: [] };
  const rows = mb
    .statement<{ name: string }>(
      `SELECT a.name FROM message_recipients r JOIN agents a ON a.id = r.agent_id WHERE r.message_id > @after
       UNION SELECT a.name FROM messages m JOIN agents a ON a.id = m.sender_id WHERE m.id > @after`,
    )
    .all({ after: afterId });
  return { last_id: last, agents: rows.map((r) => r.name) };
}

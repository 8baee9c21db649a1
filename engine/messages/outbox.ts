import { z } from "zod";
import { resolveAgent } from "../agents.js";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { parseOptionalTimestamp } from "../time.js";
import { AgentNameInput, FetchLimit, ProjectKey, parseInput, TimestampInput } from "../validate.js";
import { MESSAGE_COLUMNS, type MessageRow, type MessageView, recipientsFor, shapeMessages } from "./shape.js";

export const FetchOutboxInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput,
  limit: FetchLimit(20),
  include_bodies: z.boolean().default(false),
  since_ts: TimestampInput.optional(),
});
export type FetchOutboxInput = z.input<typeof FetchOutboxInput>;

/** A delivery receipt for one recipient of a sent message. */
export interface Receipt {
  name: string;
  kind: "to" | "cc" | "bcc";
  read_ts: string | null;
  ack_ts: string | null;
}

export type OutboxItem = MessageView & { recipients: Receipt[] };

/** Mail the agent sent, newest first, each with per-recipient receipts (the sender sees BCC too). */
export function fetchOutbox(mb: Mailbox, input: FetchOutboxInput): OutboxItem[] {
  const args = parseInput(FetchOutboxInput, input);
  const project = resolveProject(mb, args.project_key);
  const agent = resolveAgent(mb, project, args.agent_name);
  const rows = mb
    .statement<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id
       WHERE m.sender_id = @agent ${args.since_ts !== undefined ? "AND m.created_ts > @since" : ""}
       ORDER BY m.id DESC LIMIT @limit`,
    )
    .all({
      agent: agent.id,
      limit: args.limit,
      since: parseOptionalTimestamp(args.since_ts, "since_ts"),
    });
  const recipients = recipientsFor(
    mb,
    rows.map((r) => r.id),
  );
  const views = shapeMessages(mb, rows, {
    viewer: agent.name,
    includeBodies: args.include_bodies,
    recipients,
  });
  return views.map((view) => ({
    ...view,
    recipients: (recipients.get(view.id) ?? []).map(({ name, kind, read_ts, ack_ts }) => ({
      name,
      kind,
      read_ts,
      ack_ts,
    })),
  }));
}

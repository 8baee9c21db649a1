import type { Mailbox } from "../mailbox.js";
import type { Importance } from "../validate.js";
import { type AttachmentView, attachmentsFor } from "./attachments.js";
import { visibleBcc } from "./visibility.js";

/** A message as stored, joined with its sender's name. */
export interface MessageRow {
  id: number;
  project_id: number;
  sender_id: number;
  sender_name: string;
  thread_id: string | null;
  reply_to: number | null;
  topic: string | null;
  subject: string;
  body_md: string;
  importance: Importance;
  ack_required: number;
  must_read: number;
  payload: string | null;
  expires_ts: string | null;
  created_ts: string;
}

/** Columns selecting a MessageRow from `messages m JOIN agents s ON s.id = m.sender_id`. */
export const MESSAGE_COLUMNS = "m.*, s.name AS sender_name";

/** A message as returned to a viewer; `bcc` holds only the names that viewer may see. */
export interface MessageView {
  id: number;
  project_id: number;
  sender_id: number;
  thread_id: string | null;
  reply_to: number | null;
  topic: string | null;
  subject: string;
  importance: Importance;
  ack_required: boolean;
  must_read: boolean;
  created_ts: string;
  expires_ts: string | null;
  attachments: AttachmentView[];
  body_md?: string;
  payload?: unknown;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
}

/** One recipient of a message with its receipts. */
export interface RecipientEntry {
  message_id: number;
  agent_id: number;
  name: string;
  kind: "to" | "cc" | "bcc";
  read_ts: string | null;
  ack_ts: string | null;
}

/** The recipients of each of `messageIds`, in one query, in delivery order. */
export function recipientsFor(mb: Mailbox, messageIds: readonly number[]): Map<number, RecipientEntry[]> {
  const result = new Map<number, RecipientEntry[]>();
  if (messageIds.length === 0) return result;
  const rows = mb
    .statement<RecipientEntry>(
      `SELECT r.message_id, r.agent_id, a.name, r.kind, r.read_ts, r.ack_ts
       FROM message_recipients r JOIN agents a ON a.id = r.agent_id
       WHERE r.message_id IN (SELECT value FROM json_each(?))
       ORDER BY r.message_id, r.ordinal`,
    )
    .all(JSON.stringify(messageIds));
  for (const row of rows) {
    const list = result.get(row.message_id) ?? [];
    list.push(row);
    result.set(row.message_id, list);
  }
  return result;
}

/** Options for shaping messages for a viewer. */
export interface ShapeOptions {
  /** The viewing agent's name; null for a project-wide (operator) view, which sees no BCC names. */
  viewer: string | null;
  includeBodies: boolean;
  /** Recipients already loaded (to avoid a second query). */
  recipients?: Map<number, RecipientEntry[]>;
  /** Attachments already known (to avoid a query); a message absent from the map has none. */
  attachments?: Map<number, AttachmentView[]>;
}

/**
 * Turn rows into views for one viewer with two queries in all (recipients, attachments), never one per
 * row. BCC names are filtered by `visibleBcc`.
 */
export function shapeMessages(
  mb: Mailbox,
  rows: readonly MessageRow[],
  options: ShapeOptions,
): MessageView[] {
  const ids = rows.map((r) => r.id);
  const recipients = options.recipients ?? recipientsFor(mb, ids);
  const attachments = options.attachments ?? attachmentsFor(mb, ids);
  return rows.map((row) => {
    const entries = recipients.get(row.id) ?? [];
    const names = (kind: RecipientEntry["kind"]) => entries.filter((e) => e.kind === kind).map((e) => e.name);
    const view: MessageView = {
      id: row.id,
      project_id: row.project_id,
      sender_id: row.sender_id,
      thread_id: row.thread_id,
      reply_to: row.reply_to,
      topic: row.topic,
      subject: row.subject,
      importance: row.importance,
      ack_required: row.ack_required === 1,
      must_read: row.must_read === 1,
      created_ts: row.created_ts,
      expires_ts: row.expires_ts,
      attachments: attachments.get(row.id) ?? [],
      from: row.sender_name,
      to: names("to"),
      cc: names("cc"),
      bcc: visibleBcc(names("bcc"), row.sender_name, options.viewer),
    };
    if (options.includeBodies) {
      view.body_md = row.body_md;
      view.payload = row.payload === null ? null : JSON.parse(row.payload);
    }
    return view;
  });
}

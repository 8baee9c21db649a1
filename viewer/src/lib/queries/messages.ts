import type { ViewerDatabase } from "../database.js";

/**
 * Message lists work in two steps so that a list of 100,000 messages costs two queries, never one per
 * row: `listIds` returns every id of the list (newest first) with one indexed query, and `listRows` loads
 * the rows of the window on screen by id.
 */
export type ListSpec =
  | { kind: "project"; projectId: number }
  | { kind: "inbox"; agentId: number }
  | { kind: "outbox"; agentId: number };

/** One line of a message list. `kind`, `read_ts` and `ack_ts` are the listed agent's own (inbox only). */
export interface MessageRow {
  id: number;
  subject: string;
  created_ts: string;
  importance: "low" | "normal" | "high" | "urgent";
  ack_required: number;
  thread_key: string;
  sender: string;
  project: string;
  /** Visible (to and cc) recipients, comma separated. */
  recipients: string | null;
  attachments: number;
  /** Recipients who acknowledged, and recipients in all (to, cc and bcc). */
  acked: number;
  recipient_count: number;
  kind: "to" | "cc" | "bcc" | null;
  read_ts: string | null;
  ack_ts: string | null;
}

/** Every id of a list, newest first. */
export function listIds(db: ViewerDatabase, spec: ListSpec): number[] {
  switch (spec.kind) {
    case "project":
      return db.column<number>("SELECT id FROM messages WHERE project_id = ? ORDER BY id DESC", [
        spec.projectId,
      ]);
    case "inbox":
      return db.column<number>(
        "SELECT message_id FROM message_recipients WHERE agent_id = ? ORDER BY message_id DESC",
        [spec.agentId],
      );
    case "outbox":
      return db.column<number>("SELECT id FROM messages WHERE sender_id = ? ORDER BY id DESC", [
        spec.agentId,
      ]);
  }
}

const ROW_COLUMNS = `m.id, m.subject, m.created_ts, m.importance, m.ack_required,
  coalesce(m.thread_id, CAST(m.id AS TEXT)) AS thread_key, s.name AS sender, p.slug AS project,
  (SELECT group_concat(ra.name, ', ') FROM message_recipients rr JOIN agents ra ON ra.id = rr.agent_id
    WHERE rr.message_id = m.id AND rr.kind <> 'bcc') AS recipients,
  (SELECT count(*) FROM message_attachments at WHERE at.message_id = m.id) AS attachments,
  (SELECT count(*) FROM message_recipients rr WHERE rr.message_id = m.id AND rr.ack_ts IS NOT NULL) AS acked,
  (SELECT count(*) FROM message_recipients rr WHERE rr.message_id = m.id) AS recipient_count`;

/**
 * The rows for `ids` (any order in, same order out). `agentId` adds that agent's recipient kind and
 * read/ack times (for an inbox).
 */
export function listRows(db: ViewerDatabase, ids: number[], agentId?: number): MessageRow[] {
  if (ids.length === 0) return [];
  const rows = db.all<MessageRow>(
    `SELECT ${ROW_COLUMNS}, r.kind, r.read_ts, r.ack_ts
       FROM json_each(?) j
       JOIN messages m ON m.id = j.value
       JOIN agents s ON s.id = m.sender_id
       JOIN projects p ON p.id = m.project_id
       LEFT JOIN message_recipients r ON r.message_id = m.id AND r.agent_id = ?`,
    [JSON.stringify(ids), agentId ?? null],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id)).filter((row): row is MessageRow => row !== undefined);
}

/** A recipient of a message with its read and acknowledgement times. */
export interface Recipient {
  message_id: number;
  name: string;
  kind: "to" | "cc" | "bcc";
  read_ts: string | null;
  ack_ts: string | null;
}

/**
 * An attachment's metadata; the bytes are resolved separately (attachments module). `status` says where
 * the exporter put them: `inline` (data_base64), `file` (bundle file at `path`), `embedded`
 * (attachment_blobs), or why there are none (`omitted`, `missing`, `withheld`).
 */
export interface AttachmentMeta {
  message_id: number;
  ordinal: number;
  sha256: string;
  filename: string;
  media_type: string;
  bytes: number;
  disposition: "inline" | "file";
  data_base64: string | null;
  status: "inline" | "file" | "embedded" | "omitted" | "missing" | "withheld";
  path: string | null;
}

/** A message with everything the message view shows. */
export interface FullMessage {
  id: number;
  project: string;
  sender: string;
  thread_id: string | null;
  thread_key: string;
  reply_to: number | null;
  topic: string | null;
  subject: string;
  body_md: string;
  importance: MessageRow["importance"];
  ack_required: number;
  payload: string | null;
  expires_ts: string | null;
  created_ts: string;
  purpose: string;
  recipients: Recipient[];
  attachments: AttachmentMeta[];
}

const FULL_COLUMNS = `m.id, p.slug AS project, s.name AS sender, m.thread_id,
  coalesce(m.thread_id, CAST(m.id AS TEXT)) AS thread_key, m.reply_to, m.topic, m.subject, m.body_md,
  m.importance, m.ack_required, m.payload, m.expires_ts, m.created_ts, m.purpose`;

function withDetails(
  db: ViewerDatabase,
  messages: Omit<FullMessage, "recipients" | "attachments">[],
): FullMessage[] {
  if (messages.length === 0) return [];
  const ids = JSON.stringify(messages.map((m) => m.id));
  const recipients = db.all<Recipient>(
    `SELECT r.message_id, a.name, r.kind, r.read_ts, r.ack_ts
       FROM message_recipients r JOIN agents a ON a.id = r.agent_id
      WHERE r.message_id IN (SELECT value FROM json_each(?))
      ORDER BY r.message_id, CASE r.kind WHEN 'to' THEN 0 WHEN 'cc' THEN 1 ELSE 2 END, r.ordinal`,
    [ids],
  );
  const attachments = db.all<AttachmentMeta>(
    `SELECT message_id, ordinal, sha256, filename, media_type, bytes, disposition, data_base64, status, path
       FROM message_attachments WHERE message_id IN (SELECT value FROM json_each(?))
      ORDER BY message_id, ordinal`,
    [ids],
  );
  return messages.map((m) => ({
    ...m,
    recipients: recipients.filter((r) => r.message_id === m.id),
    attachments: attachments.filter((a) => a.message_id === m.id),
  }));
}

/** One message with recipients and attachments, or undefined. */
export function message(db: ViewerDatabase, id: number): FullMessage | undefined {
  const row = db.get<Omit<FullMessage, "recipients" | "attachments">>(
    `SELECT ${FULL_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id
       JOIN projects p ON p.id = m.project_id WHERE m.id = ?`,
    [id],
  );
  return row ? withDetails(db, [row])[0] : undefined;
}

/**
 * A thread oldest first: its root (the message whose id is the thread key, when numeric) and every
 * message carrying that thread id. Three queries whatever the thread's length.
 */
export function thread(db: ViewerDatabase, key: string): FullMessage[] {
  const root = /^\d+$/.test(key) ? Number(key) : -1;
  const rows = db.all<Omit<FullMessage, "recipients" | "attachments">>(
    `SELECT ${FULL_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id
       JOIN projects p ON p.id = m.project_id
      WHERE m.thread_id = ? OR (m.id = ? AND m.thread_id IS NULL)
      ORDER BY m.id`,
    [key, root],
  );
  return withDetails(db, rows);
}

/** A thread in a thread list (viewer_threads). */
export interface ThreadRow {
  thread_key: string;
  subject: string;
  messages: number;
  first_ts: string;
  last_ts: string;
  starter: string;
}

/** Every thread of a project, most recently active first: one indexed query on viewer_threads. */
export function threads(db: ViewerDatabase, projectId: number): ThreadRow[] {
  return db.all<ThreadRow>(
    `SELECT t.thread_key, t.subject, t.messages, t.first_ts, t.last_ts, s.name AS starter
       FROM viewer_threads t JOIN messages r ON r.id = t.root_message_id JOIN agents s ON s.id = r.sender_id
      WHERE t.project_id = ? ORDER BY t.last_message_id DESC`,
    [projectId],
  );
}

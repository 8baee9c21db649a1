import { slugify } from "../projects.js";
import type { ReservationView } from "../reservations/rows.js";

/**
 * The Git archive's file layout: pure functions from database rows to (relative path, content). Every
 * path segment derived from data goes through `safeSegment`, so no name or subject can climb out of its
 * directory, hide a file, or smuggle control characters into a path. The same rows always render to
 * the same bytes, which is what makes archive jobs idempotent.
 *
 *   projects/<slug>/project.json
 *   projects/<slug>/agents/<Name>/profile.json
 *   projects/<slug>/messages/YYYY/MM/<id>-<subject-slug>.md
 *   projects/<slug>/file_reservations/<id>.json
 */

/** One file of the archive: a `/`-separated path relative to the archive root, and its text. */
export interface ArchiveFile {
  path: string;
  content: string;
}

export interface ProjectRecord {
  id: number;
  slug: string;
  human_key: string;
  created_at: string;
}

/** An agent's public profile. Deliberately has no registration token: the archive never holds one. */
export interface AgentRecord {
  id: number;
  name: string;
  project: string;
  program: string;
  model: string;
  task_description: string;
  inception_ts: string;
  attachments_policy: string;
  contact_policy: string;
  retired_ts: string | null;
}

export interface ReceiptRecord {
  agent: string;
  kind: "to" | "cc" | "bcc";
  read_ts: string | null;
  ack_ts: string | null;
}

export interface AttachmentRecord {
  sha256: string;
  name: string;
  media_type: string;
  bytes: number;
  disposition: "inline" | "file";
}

export interface MessageRecord {
  id: number;
  project: string;
  thread_id: string | null;
  reply_to: number | null;
  topic: string | null;
  subject: string;
  body_md: string;
  from: string;
  importance: string;
  ack_required: boolean;
  must_read: boolean;
  /** The stored payload JSON text, or null. */
  payload: string | null;
  expires_ts: string | null;
  created_ts: string;
  attachments: AttachmentRecord[];
  /** Every recipient with its read/ack state (bcc included: the archive is the auditor's full record). */
  receipts: ReceiptRecord[];
}

/** A reservation as its archive file holds it: as results show it, less the derived `active`, plus its project. */
export type ReservationRecord = Omit<ReservationView, "active"> & { project: string };

/** Longest file or directory name the archive writes, in characters (file systems allow 255 bytes). */
const MAX_SEGMENT_CHARS = 80;
/** Subject slugs are cut short: the id already makes the name unique. */
const SUBJECT_SLUG_CHARS = 48;
/** Names Windows refuses for files, whatever the extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Make one path segment safe to use as a file or directory name on any platform: separators, control
 * and format characters (bidi overrides, zero-width marks) and characters Windows forbids become `_`;
 * `.`/`..`/empty become `fallback`; a leading dot (a hidden file, or `.git`) and Windows device names
 * get a `_` prefix; the result is at most 80 characters.
 */
export function safeSegment(raw: string, fallback: string): string {
  let segment = raw
    .normalize("NFC")
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\:*?"<>|]/gu, "_")
    .trim()
    .replace(/[. ]+$/, "");
  segment = Array.from(segment)
    .slice(0, MAX_SEGMENT_CHARS)
    .join("")
    .replace(/[. ]+$/, "");
  if (segment === "" || /^\.+$/.test(segment)) return fallback;
  if (segment.startsWith(".") || WINDOWS_RESERVED.test(segment)) segment = `_${segment}`;
  return segment;
}

/** `projects/<slug>`: the directory of everything about one project. */
export function projectDir(slug: string): string {
  return `projects/${safeSegment(slug, "project")}`;
}

/** `projects/<slug>/project.json`. */
export function projectPath(slug: string): string {
  return `${projectDir(slug)}/project.json`;
}

/** `projects/<slug>/agents/<Name>/profile.json`: what `whois` asks `recentCommits` about. */
export function agentProfilePath(projectSlug: string, agentName: string): string {
  return `${projectDir(projectSlug)}/agents/${safeSegment(agentName, "agent")}/profile.json`;
}

/**
 * `projects/<slug>/messages/YYYY/MM/<id>-<subject-slug>.md`. Stable for a message's lifetime: it
 * depends only on fields that never change after sending (project, created_ts, id, subject).
 */
export function messagePath(projectSlug: string, id: number, createdTs: string, subject: string): string {
  const date = /^(\d{4})-(\d{2})-/.exec(createdTs);
  const year = date?.[1] ?? "0000";
  const month = date?.[2] ?? "00";
  const name = safeSegment(`${id}-${slugify(subject, SUBJECT_SLUG_CHARS, "message")}.md`, `${id}.md`);
  return `${projectDir(projectSlug)}/messages/${year}/${month}/${name}`;
}

/** `projects/<slug>/file_reservations/<id>.json`. */
export function reservationPath(projectSlug: string, id: number): string {
  return `${projectDir(projectSlug)}/file_reservations/${id}.json`;
}

/** Pretty JSON with a final newline: diffs in `git log -p` stay line-based and readable. */
function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `project.json`: id, slug, human_key, created_at. */
export function renderProject(project: ProjectRecord): ArchiveFile {
  const { id, slug, human_key, created_at } = project;
  return { path: projectPath(slug), content: json({ id, slug, human_key, created_at }) };
}

/** `profile.json`: the agent's public profile (never its registration token; presence is not archived). */
export function renderAgent(agent: AgentRecord): ArchiveFile {
  const profile = {
    id: agent.id,
    name: agent.name,
    project: agent.project,
    program: agent.program,
    model: agent.model,
    task_description: agent.task_description,
    inception_ts: agent.inception_ts,
    attachments_policy: agent.attachments_policy,
    contact_policy: agent.contact_policy,
    retired_ts: agent.retired_ts,
  };
  return { path: agentProfilePath(agent.project, agent.name), content: json(profile) };
}

/** The line that opens a message file's front matter; the first line that is exactly `---` closes it. */
export const FRONT_MATTER_OPEN = "---json";
export const FRONT_MATTER_CLOSE = "---";

/**
 * A message file: `---json`, the pretty-printed JSON front matter, `---`, a blank line, then the body as
 * sent. Pretty-printed JSON never has a line that is exactly `---`, so the block always parses back.
 */
export function renderMessage(message: MessageRecord): ArchiveFile {
  const names = (kind: ReceiptRecord["kind"]) =>
    message.receipts.filter((r) => r.kind === kind).map((r) => r.agent);
  const front = {
    id: message.id,
    project: message.project,
    thread_id: message.thread_id,
    reply_to: message.reply_to,
    topic: message.topic,
    subject: message.subject,
    from: message.from,
    to: names("to"),
    cc: names("cc"),
    bcc: names("bcc"),
    importance: message.importance,
    ack_required: message.ack_required,
    must_read: message.must_read,
    payload: parsePayload(message.payload),
    expires_ts: message.expires_ts,
    created_ts: message.created_ts,
    attachments: message.attachments.map(({ sha256, name, media_type, bytes, disposition }) => ({
      sha256,
      name,
      media_type,
      bytes,
      disposition,
    })),
    receipts: message.receipts.map(({ agent, kind, read_ts, ack_ts }) => ({ agent, kind, read_ts, ack_ts })),
  };
  const body = message.body_md.endsWith("\n") ? message.body_md : `${message.body_md}\n`;
  return {
    path: messagePath(message.project, message.id, message.created_ts, message.subject),
    content: `${FRONT_MATTER_OPEN}\n${JSON.stringify(front, null, 2)}\n${FRONT_MATTER_CLOSE}\n\n${body}`,
  };
}

/** The stored payload is JSON text; a value that somehow is not JSON is kept as its text. */
function parsePayload(payload: string | null): unknown {
  if (payload === null) return null;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/** `file_reservations/<id>.json`: the reservation as stored, with project and agent by name. */
export function renderReservation(reservation: ReservationRecord): ArchiveFile {
  return { path: reservationPath(reservation.project, reservation.id), content: json({ ...reservation }) };
}

/**
 * Split a message file back into its front matter and body (for readers and checks). Returns null when
 * the text is not a message file.
 */
export function parseMessageFile(text: string): { front: Record<string, unknown>; body: string } | null {
  if (!text.startsWith(`${FRONT_MATTER_OPEN}\n`)) return null;
  const close = text.indexOf(`\n${FRONT_MATTER_CLOSE}\n`, FRONT_MATTER_OPEN.length);
  if (close < 0) return null;
  try {
    const front = JSON.parse(text.slice(FRONT_MATTER_OPEN.length + 1, close)) as Record<string, unknown>;
    return { front, body: text.slice(close + FRONT_MATTER_CLOSE.length + 2).replace(/^\n/, "") };
  } catch {
    return null;
  }
}

/** The README.md committed at the root of every new archive, so a human cloning it knows what is there. */
export const ARCHIVE_README = `# Pigeonhole archive

This repository is written by Pigeonhole: every project, agent profile, message and file reservation
of one mailbox, one commit per batch of changes. It is a mirror of the SQLite mailbox, kept in sync by
the archive writer; edits made here are not read back.

\`\`\`
projects/<slug>/project.json                          the project (slug, human_key, created_at)
projects/<slug>/agents/<Name>/profile.json            an agent's public profile (never its token)
projects/<slug>/messages/YYYY/MM/<id>-<subject>.md    one message: JSON front matter, then the body
projects/<slug>/file_reservations/<id>.json           one file reservation
\`\`\`

A message file starts with a \`---json\` line, then a JSON object (id, project, thread_id, reply_to,
topic, subject, from, to, cc, bcc, importance, ack_required, must_read, payload, expires_ts,
created_ts, attachments, receipts), then a line \`---\`, a blank line, and the Markdown body. When a
recipient reads or acknowledges a message, its file is rewritten with the new receipts.

\`git log -- projects/<slug>/agents/<Name>/profile.json\` shows an agent's history.
`;

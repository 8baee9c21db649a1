import type { Mailbox } from "../mailbox.js";
import { attachmentsFor } from "../messages/attachments.js";
import type { ArchiveJob } from "./jobs.js";
import {
  type AgentRecord,
  type ArchiveFile,
  type MessageRecord,
  type ProjectRecord,
  type ReceiptRecord,
  type ReservationRecord,
  renderAgent,
  renderMessage,
  renderProject,
  renderReservation,
} from "./layout.js";

/** What one batch of jobs touches, deduplicated: each row once, whatever the number of jobs naming it. */
export interface BatchTargets {
  projects: number[];
  agents: number[];
  /** Messages sent (a `message` job) in this batch. */
  messages: number[];
  /** Messages whose receipts changed (a `read_state` job) and that were not also sent in this batch. */
  receipts: number[];
  reservations: number[];
}

/** Deduplicate a batch of jobs: `message` and `read_state` of the same message render one file. */
export function batchTargets(jobs: readonly ArchiveJob[]): BatchTargets {
  const sets = {
    project: new Set<number>(),
    agent: new Set<number>(),
    message: new Set<number>(),
    read_state: new Set<number>(),
    reservation: new Set<number>(),
  };
  for (const job of jobs) sets[job.kind].add(job.ref);
  for (const id of sets.message) sets.read_state.delete(id);
  return {
    projects: [...sets.project],
    agents: [...sets.agent],
    messages: [...sets.message],
    receipts: [...sets.read_state],
    reservations: [...sets.reservation],
  };
}

/** Rows rendered at a time: a body may be 1 MiB, so a batch is loaded and rendered a slice at a time. */
export const RENDER_CHUNK_ROWS = 250;

/** How many files of each kind a chunk rendered. */
export interface RenderCounts {
  messages: number;
  receipt_updates: number;
  agents: number;
  projects: number;
  reservations: number;
}

/** The files of one slice of a batch, with what the commit summary needs to know about them. */
export interface RenderedChunk {
  files: ArchiveFile[];
  counts: RenderCounts;
  /** A description of the chunk's row when it rendered exactly one (`agent BlueLake`). */
  label: string | null;
}

type Target = readonly [keyof BatchTargets, number];

/**
 * Render a batch from the CURRENT rows, `rowsPerChunk` rows at a time, with one query per table per
 * chunk (never one per row). A job whose row no longer exists renders nothing.
 */
export function* renderChunks(
  mb: Mailbox,
  targets: BatchTargets,
  rowsPerChunk = RENDER_CHUNK_ROWS,
): Generator<RenderedChunk> {
  const all: Target[] = (Object.keys(targets) as (keyof BatchTargets)[]).flatMap((kind) =>
    targets[kind].map((id) => [kind, id] as const),
  );
  for (let start = 0; start < all.length; start += rowsPerChunk) {
    const slice = all.slice(start, start + rowsPerChunk);
    const ids = (kind: keyof BatchTargets) => slice.filter(([k]) => k === kind).map(([, id]) => id);
    const sent = new Set(ids("messages"));
    const projects = loadProjects(mb, ids("projects"));
    const agents = loadAgents(mb, ids("agents"));
    const messages = loadMessages(mb, [...sent, ...ids("receipts")]);
    const reservations = loadReservations(mb, ids("reservations"));
    const counts: RenderCounts = {
      messages: messages.filter((m) => sent.has(m.id)).length,
      receipt_updates: messages.filter((m) => !sent.has(m.id)).length,
      agents: agents.length,
      projects: projects.length,
      reservations: reservations.length,
    };
    let label: string | null = null;
    if (projects.length + agents.length + messages.length + reservations.length === 1) {
      const [project, agent, message, reservation] = [projects[0], agents[0], messages[0], reservations[0]];
      if (project) label = `project ${project.slug}`;
      else if (agent) label = `agent ${agent.name}`;
      else if (reservation) label = `reservation ${reservation.id} by ${reservation.agent}`;
      else if (message && sent.has(message.id))
        label = `message ${message.id} from ${message.from}: ${message.subject}`;
      else if (message) label = `receipts of message ${message.id}`;
    }
    yield {
      files: [
        ...projects.map(renderProject),
        ...agents.map(renderAgent),
        ...messages.map(renderMessage),
        ...reservations.map(renderReservation),
      ],
      counts,
      label,
    };
  }
}

/**
 * The summary line of a batch's commit: `archive: 12 messages, 3 receipt updates, 2 agents`, or for a
 * batch of one row a line naming it (`archive: agent BlueLake`), which is what `whois` shows as an
 * agent's recent commits.
 */
export function commitSummary(chunks: readonly Omit<RenderedChunk, "files">[]): string {
  const total: RenderCounts = { messages: 0, receipt_updates: 0, agents: 0, projects: 0, reservations: 0 };
  for (const { counts } of chunks) {
    for (const key of Object.keys(total) as (keyof RenderCounts)[]) total[key] += counts[key];
  }
  const rows = Object.values(total).reduce((n, v) => n + v, 0);
  const label = chunks.find((c) => c.label !== null)?.label;
  if (rows === 1 && label) return oneLine(`archive: ${label}`);
  const names: [keyof RenderCounts, string][] = [
    ["messages", "message"],
    ["receipt_updates", "receipt update"],
    ["agents", "agent"],
    ["projects", "project"],
    ["reservations", "reservation"],
  ];
  const parts = names
    .filter(([key]) => total[key] > 0)
    .map(([key, what]) => `${total[key]} ${what}${total[key] === 1 ? "" : "s"}`);
  return `archive: ${parts.length > 0 ? parts.join(", ") : "nothing"}`;
}

/** A commit summary is one line: control characters (a newline in a subject) become spaces; at most 120 chars. */
function oneLine(text: string): string {
  const line = text.replace(/\p{Cc}+/gu, " ");
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** Projects with the given ids, by id. */
export function loadProjects(mb: Mailbox, ids: readonly number[]): ProjectRecord[] {
  if (ids.length === 0) return [];
  return mb
    .statement<ProjectRecord>(
      `SELECT id, slug, human_key, created_at FROM projects
       WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    )
    .all(JSON.stringify(ids));
}

/** Agent profiles with the given ids. The registration token is never selected. */
export function loadAgents(mb: Mailbox, ids: readonly number[]): AgentRecord[] {
  if (ids.length === 0) return [];
  return mb
    .statement<AgentRecord>(
      `SELECT a.id, a.name, p.slug AS project, a.program, a.model, a.task_description, a.inception_ts,
              a.attachments_policy, a.contact_policy, a.retired_ts
       FROM agents a JOIN projects p ON p.id = a.project_id
       WHERE a.id IN (SELECT value FROM json_each(?)) ORDER BY a.id`,
    )
    .all(JSON.stringify(ids));
}

interface MessageRow extends Omit<MessageRecord, "ack_required" | "must_read" | "attachments" | "receipts"> {
  ack_required: number;
  must_read: number;
}

/** Messages with the given ids, each with its attachments and every recipient's read/ack state. */
export function loadMessages(mb: Mailbox, ids: readonly number[]): MessageRecord[] {
  if (ids.length === 0) return [];
  const idList = JSON.stringify(ids);
  const rows = mb
    .statement<MessageRow>(
      `SELECT m.id, p.slug AS project, m.thread_id, m.reply_to, m.topic, m.subject, m.body_md,
              s.name AS "from", m.importance, m.ack_required, m.must_read, m.payload, m.expires_ts, m.created_ts
       FROM messages m JOIN projects p ON p.id = m.project_id JOIN agents s ON s.id = m.sender_id
       WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id`,
    )
    .all(idList);
  const receipts = new Map<number, ReceiptRecord[]>();
  const receiptRows = mb
    .statement<ReceiptRecord & { message_id: number }>(
      `SELECT r.message_id, a.name AS agent, r.kind, r.read_ts, r.ack_ts
       FROM message_recipients r JOIN agents a ON a.id = r.agent_id
       WHERE r.message_id IN (SELECT value FROM json_each(?))
       ORDER BY r.message_id, CASE r.kind WHEN 'to' THEN 0 WHEN 'cc' THEN 1 ELSE 2 END, r.ordinal, r.agent_id`,
    )
    .all(idList);
  for (const { message_id, ...receipt } of receiptRows) {
    const list = receipts.get(message_id);
    if (list) list.push(receipt);
    else receipts.set(message_id, [receipt]);
  }
  const attachments = attachmentsFor(mb, ids);
  return rows.map((row) => ({
    ...row,
    ack_required: row.ack_required !== 0,
    must_read: row.must_read !== 0,
    attachments: (attachments.get(row.id) ?? []).map((a) => ({
      sha256: a.sha256,
      name: a.name,
      media_type: a.media_type,
      bytes: a.bytes,
      disposition: a.type,
    })),
    receipts: receipts.get(row.id) ?? [],
  }));
}

/** File reservations with the given ids, with project slug and agent name. */
export function loadReservations(mb: Mailbox, ids: readonly number[]): ReservationRecord[] {
  if (ids.length === 0) return [];
  return mb
    .statement<Omit<ReservationRecord, "exclusive"> & { exclusive: number }>(
      `SELECT r.id, p.slug AS project, a.name AS agent, r.path_pattern, r.exclusive, r.reason,
              r.created_ts, r.expires_ts, r.released_ts
       FROM file_reservations r JOIN projects p ON p.id = r.project_id JOIN agents a ON a.id = r.agent_id
       WHERE r.id IN (SELECT value FROM json_each(?)) ORDER BY r.id`,
    )
    .all(JSON.stringify(ids))
    .map((row) => ({ ...row, exclusive: row.exclusive !== 0 }));
}

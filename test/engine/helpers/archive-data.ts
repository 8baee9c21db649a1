import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { enqueueArchiveJob } from "../../../engine/archive/jobs.js";
import { Mailbox, type MailboxOptions } from "../../../engine/mailbox.js";
import { ensureProject } from "../../../engine/projects.js";

/**
 * Rows for archive tests, written with SQL plus the archive job the real operation queues, in one
 * transaction (as the engine's operations do).
 */

/** A fresh temp directory, removed by the returned cleanup. */
export function tempHome(): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), "pigeonhole-archive-"));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** A mailbox with the archive on and NO writer attached: jobs queue up until a writer is started. */
export function mailboxWithoutWriter(home: string, options: MailboxOptions = {}): Mailbox {
  return new Mailbox({ home, archive: true, ...options });
}

let agentCounter = 0;

export function addAgent(
  mb: Mailbox,
  projectId: number,
  name = `Agent${++agentCounter}`,
  token = `secret-token-${name}`,
): number {
  return mb.write(() => {
    const now = mb.now();
    const id = Number(
      mb
        .statement(
          `INSERT INTO agents (project_id, name, program, model, task_description, inception_ts, last_active_ts, registration_token)
           VALUES (?, ?, 'claude-code', 'opus', 'testing the archive', ?, ?, ?)`,
        )
        .run(projectId, name, now, now, token).lastInsertRowid,
    );
    enqueueArchiveJob(mb, "agent", id);
    return id;
  });
}

export interface TestMessage {
  projectId: number;
  senderId: number;
  to: number[];
  cc?: number[];
  bcc?: number[];
  subject?: string;
  body?: string;
  payload?: unknown;
  createdTs?: string;
  attachments?: { sha256: string; filename: string; media_type: string; bytes: number }[];
}

/** Insert one message (with recipients and attachments) and its archive job. */
export function addMessage(mb: Mailbox, m: TestMessage): number {
  return mb.write(() => insertMessageRow(mb, m));
}

/** Insert many messages, one transaction each (like a burst of sends). */
export function addMessages(mb: Mailbox, count: number, make: (i: number) => TestMessage): number[] {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(addMessage(mb, make(i)));
  return ids;
}

function insertMessageRow(mb: Mailbox, m: TestMessage): number {
  const id = Number(
    mb
      .statement(
        `INSERT INTO messages (project_id, sender_id, thread_id, subject, body_md, importance, ack_required, payload, created_ts)
         VALUES (?, ?, NULL, ?, ?, 'normal', 1, ?, ?)`,
      )
      .run(
        m.projectId,
        m.senderId,
        m.subject ?? "Hello",
        m.body ?? "Body text.",
        m.payload === undefined ? null : JSON.stringify(m.payload),
        m.createdTs ?? mb.now(),
      ).lastInsertRowid,
  );
  const recipient = mb.statement(
    "INSERT INTO message_recipients (message_id, agent_id, kind) VALUES (?, ?, ?)",
  );
  for (const [kind, list] of [
    ["to", m.to],
    ["cc", m.cc ?? []],
    ["bcc", m.bcc ?? []],
  ] as const) {
    for (const agent of list) recipient.run(id, agent, kind);
  }
  (m.attachments ?? []).forEach((a, ordinal) => {
    mb.statement(
      `INSERT INTO message_attachments (message_id, ordinal, sha256, filename, media_type, bytes, disposition)
       VALUES (?, ?, ?, ?, ?, ?, 'file')`,
    ).run(id, ordinal, a.sha256, a.filename, a.media_type, a.bytes);
  });
  enqueueArchiveJob(mb, "message", id);
  return id;
}

/** Mark a message read (and acknowledged) by one recipient, queuing the read_state job. */
export function markRead(mb: Mailbox, messageId: number, agentId: number, ack = false): void {
  mb.write(() => {
    const now = mb.now();
    mb.statement(
      "UPDATE message_recipients SET read_ts = ?, ack_ts = CASE WHEN ? THEN ? ELSE ack_ts END WHERE message_id = ? AND agent_id = ?",
    ).run(now, ack ? 1 : 0, now, messageId, agentId);
    enqueueArchiveJob(mb, "read_state", messageId);
  });
}

export function addReservation(mb: Mailbox, projectId: number, agentId: number, pattern: string): number {
  return mb.write(() => {
    const now = mb.now();
    const id = Number(
      mb
        .statement(
          `INSERT INTO file_reservations (project_id, agent_id, path_pattern, exclusive, reason, created_ts, expires_ts)
           VALUES (?, ?, ?, 1, 'editing', ?, ?)`,
        )
        .run(projectId, agentId, pattern, now, now).lastInsertRowid,
    );
    enqueueArchiveJob(mb, "reservation", id);
    return id;
  });
}

/** A project plus two agents: the smallest mailbox that can hold a message. */
export function smallWorld(mb: Mailbox, humanKey = "demo"): { projectId: number; a: number; b: number } {
  const projectId = ensureProject(mb, { human_key: humanKey }).id;
  return { projectId, a: addAgent(mb, projectId), b: addAgent(mb, projectId) };
}

/** Commit summaries of the archive at `dir`, newest first. */
export async function commitSummaries(dir: string): Promise<string[]> {
  const out = await simpleGit(dir).raw(["log", "--format=%s"]);
  return out.split("\n").filter((l) => l !== "");
}

export function jobCount(mb: Mailbox): number {
  return (mb.db.prepare("SELECT count(*) AS n FROM archive_jobs").get() as { n: number }).n;
}

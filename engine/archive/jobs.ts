import type { Mailbox } from "../mailbox.js";

/** What an archive job mirrors: the row of that kind with id `ref`. */
export type ArchiveJobKind = "project" | "agent" | "message" | "reservation" | "read_state";

/**
 * Queue an archive job. Must be called inside `mb.write(...)`, so the job commits or rolls back with the
 * data it mirrors (transactional outbox). A no-op when the archive is off.
 */
export function enqueueArchiveJob(mb: Mailbox, kind: ArchiveJobKind, ref: number): void {
  if (!mb.archiveEnabled) return;
  mb.statement("INSERT INTO archive_jobs (kind, ref, created_ts) VALUES (?, ?, ?)").run(kind, ref, mb.now());
  mb.noteArchiveJob();
}

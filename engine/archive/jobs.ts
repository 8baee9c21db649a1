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

/** A queued archive job. */
export interface ArchiveJob {
  id: number;
  kind: ArchiveJobKind;
  ref: number;
}

/** The oldest `limit` queued jobs with an id above `afterId`, in the order they were committed. */
export function readArchiveJobs(mb: Mailbox, limit: number, afterId = 0): ArchiveJob[] {
  return mb
    .statement<ArchiveJob>("SELECT id, kind, ref FROM archive_jobs WHERE id > ? ORDER BY id LIMIT ?")
    .all(afterId, limit);
}

/** Remove jobs whose files are committed to Git, in one transaction. */
export function deleteArchiveJobs(mb: Mailbox, ids: readonly number[]): void {
  mb.write(() => {
    mb.statement("DELETE FROM archive_jobs WHERE id IN (SELECT value FROM json_each(?))").run(
      JSON.stringify(ids),
    );
  });
}

/** How many jobs are queued. */
export function countArchiveJobs(mb: Mailbox): number {
  return mb.statement<{ n: number }>("SELECT count(*) AS n FROM archive_jobs").get()?.n ?? 0;
}

/** The newest queued job id, or 0 when the queue is empty: `flush` waits for every job up to it. */
export function lastArchiveJobId(mb: Mailbox): number {
  return mb.statement<{ id: number | null }>("SELECT max(id) AS id FROM archive_jobs").get()?.id ?? 0;
}

/**
 * True while a job queued by `queuedBy` (a timestamp) with id <= `maxId` is still queued. The time bound
 * matters because job ids are reused once the queue has been emptied (`archive_jobs.id` is a plain rowid):
 * a job queued later with a small id must not keep a `flush` waiting forever under steady traffic.
 */
export function hasArchiveJobsUpTo(mb: Mailbox, maxId: number, queuedBy: string): boolean {
  return (
    mb
      .statement("SELECT 1 FROM archive_jobs WHERE id <= ? AND created_ts <= ? LIMIT 1")
      .get(maxId, queuedBy) !== undefined
  );
}

/**
 * Queue a job for every project, agent, message and file reservation (in one transaction): the archive
 * then rewrites every file from the database. Returns the number of jobs queued.
 */
export function enqueueEverything(mb: Mailbox): number {
  return mb.write(() => {
    const now = mb.now();
    let queued = 0;
    for (const [kind, table] of [
      ["project", "projects"],
      ["agent", "agents"],
      ["message", "messages"],
      ["reservation", "file_reservations"],
    ] as const) {
      queued += mb
        .statement(
          `INSERT INTO archive_jobs (kind, ref, created_ts) SELECT ?, id, ? FROM ${table} ORDER BY id`,
        )
        .run(kind, now).changes;
    }
    if (queued > 0) mb.noteArchiveJob();
    return queued;
  });
}

import { ArchiveRepo } from "./archive/repo.js";
import type { Mailbox } from "./mailbox.js";

/** Figures about an open mailbox, as `health_check` and `GET /health` report them. */
export interface MailboxHealth {
  status: "ok";
  schema_version: number;
  projects: number;
  agents: number;
  messages: number;
  archive_enabled: boolean;
  /** Archive jobs committed but not yet written to Git (by any process). */
  archive_jobs_pending: number;
  /**
   * False while an enabled archive has no Git repository yet: the first writer to run creates it and
   * fills it from the database, and that work is not in `archive_jobs_pending` until it starts. True
   * once the repository exists, and whenever the archive is off (there is nothing to wait for).
   */
  archive_ready: boolean;
}

/**
 * Read the mailbox's health figures. Only reads, so it is safe while other processes write; throws only
 * when the database itself cannot be read.
 */
export function mailboxHealth(mb: Mailbox): MailboxHealth {
  const count = (table: string) =>
    mb.statement<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
  return {
    status: "ok",
    schema_version: mb.db.pragma("user_version", { simple: true }) as number,
    projects: count("projects"),
    agents: count("agents"),
    messages: count("messages"),
    archive_enabled: mb.archiveEnabled,
    archive_jobs_pending: count("archive_jobs"),
    archive_ready: !mb.archiveEnabled || new ArchiveRepo(mb.paths.archive).exists(),
  };
}

import { fail } from "../errors.js";
import type { Mailbox } from "../mailbox.js";
import { countArchiveJobs, enqueueEverything } from "./jobs.js";
import { agentProfilePath, messagePath, projectPath, reservationPath } from "./layout.js";
import { ArchiveRepo } from "./repo.js";

/** How far the Git archive agrees with the database. */
export interface ArchiveCheck {
  /** False when the archive is switched off for this mailbox (then nothing else is checked). */
  enabled: boolean;
  /** Jobs queued and not yet committed. */
  pending_jobs: number;
  /** Ids of messages whose file is not committed at the archive's HEAD. */
  missing: number[];
  /** Ids of agents whose profile is not committed. */
  missing_agents: number[];
  /** Ids of projects whose project.json is not committed. */
  missing_projects: number[];
  /** Ids of file reservations whose file is not committed. */
  missing_reservations: number[];
  /** True when nothing is pending and nothing is missing. */
  ok: boolean;
}

/**
 * Compare the database with the files committed at the archive's HEAD: every project, agent, message
 * and reservation must have its file. Reads only; `rebuildArchive` repairs what this finds. A row whose
 * job is still queued counts as missing too (and in `pending_jobs`): flush first for a settled answer.
 */
export async function checkArchive(mb: Mailbox): Promise<ArchiveCheck> {
  const empty = { missing: [], missing_agents: [], missing_projects: [], missing_reservations: [] };
  if (!mb.archiveEnabled) return { enabled: false, pending_jobs: 0, ...empty, ok: true };
  const pending_jobs = countArchiveJobs(mb);
  const tracked = await new ArchiveRepo(mb.paths.archive).trackedPaths();
  const absent = <R extends { id: number }>(rows: R[], path: (row: R) => string) =>
    rows.filter((row) => !tracked.has(path(row))).map((row) => row.id);

  const missing_projects = absent(
    mb.statement<{ id: number; slug: string }>("SELECT id, slug FROM projects ORDER BY id").all(),
    (p) => projectPath(p.slug),
  );
  const missing_agents = absent(
    mb
      .statement<{ id: number; slug: string; name: string }>(
        "SELECT a.id, p.slug, a.name FROM agents a JOIN projects p ON p.id = a.project_id ORDER BY a.id",
      )
      .all(),
    (a) => agentProfilePath(a.slug, a.name),
  );
  const missing = absent(
    mb
      .statement<{ id: number; slug: string; created_ts: string; subject: string }>(
        `SELECT m.id, p.slug, m.created_ts, m.subject FROM messages m JOIN projects p ON p.id = m.project_id
         ORDER BY m.id`,
      )
      .all(),
    (m) => messagePath(m.slug, m.id, m.created_ts, m.subject),
  );
  const missing_reservations = absent(
    mb
      .statement<{ id: number; slug: string }>(
        "SELECT r.id, p.slug FROM file_reservations r JOIN projects p ON p.id = r.project_id ORDER BY r.id",
      )
      .all(),
    (r) => reservationPath(r.slug, r.id),
  );
  const ok =
    pending_jobs === 0 &&
    missing.length + missing_agents.length + missing_projects.length + missing_reservations.length === 0;
  return { enabled: true, pending_jobs, missing, missing_agents, missing_projects, missing_reservations, ok };
}

/**
 * Queue every project, agent, message and reservation for the archive again (for an archive switched
 * on after mail was sent, or damaged by hand). Files are rewritten from the database; unchanged files
 * make no commit. Returns the number of jobs queued; `flushArchive` waits for them.
 */
export function rebuildArchive(mb: Mailbox): { queued: number } {
  if (!mb.archiveEnabled) {
    throw fail.invalid(
      "The Git archive is switched off for this mailbox; open it with archive: true (or unset PIGEONHOLE_ARCHIVE=off) to rebuild it.",
    );
  }
  return { queued: enqueueEverything(mb) };
}

import * as engine from "../../engine/index.js";
import type { Check } from "./report.js";

/**
 * "Archive complete" for the stress report. The engine's `checkArchive` (archive writer branch) compares
 * the Git archive with the database; until the engine exports it, the check falls back to what this
 * engine can promise: every stored message has its archive job in the transactional outbox.
 */

/** The part of `checkArchive`'s answer the report uses. */
interface ArchiveCheck {
  enabled: boolean;
  ok: boolean;
  pending_jobs: number;
  missing: number[];
}

type CheckArchive = (mb: engine.Mailbox) => Promise<ArchiveCheck>;

/** Open the mailbox at `home`, let its archive writer catch up, and check the archive against the database. */
export async function checkArchiveComplete(home: string): Promise<Check> {
  const checkArchive = (engine as Record<string, unknown>).checkArchive as CheckArchive | undefined;
  const mb = engine.openMailbox({ home });
  try {
    if (checkArchive) {
      await mb.flushArchive();
      const result = await checkArchive(mb);
      return {
        check: "archive complete (checkArchive)",
        ok: result.ok,
        detail: result.enabled
          ? `${result.pending_jobs} jobs pending, ${result.missing.length} messages missing from Git`
          : "archive switched off",
      };
    }
    if (mb.archive) {
      return {
        check: "archive complete",
        ok: null,
        detail: "skipped: an archive writer runs but the engine exports no checkArchive",
      };
    }
    const row = mb.db
      .prepare<[], { messages: number; without_job: number }>(
        `SELECT COUNT(*) AS messages,
           SUM(NOT EXISTS (SELECT 1 FROM archive_jobs j WHERE j.kind = 'message' AND j.ref = m.id)) AS without_job
         FROM messages m`,
      )
      .get();
    const withoutJob = row?.without_job ?? 0;
    return {
      check: "archive outbox complete",
      ok: withoutJob === 0,
      detail: `${row?.messages ?? 0} messages, ${withoutJob} without an archive job (no archive writer in this engine yet, so Git itself is not checked)`,
    };
  } finally {
    await mb.close();
  }
}

import { checkArchive, openMailbox } from "../../engine/index.js";
import type { Check } from "./report.js";

/**
 * "Archive complete" for the stress report: open the mailbox, let its archive writer drain every queued
 * job (whichever process held the lease when the server was killed), then compare Git with the database.
 */
export async function checkArchiveComplete(home: string): Promise<Check> {
  const mb = openMailbox({ home });
  try {
    await mb.flushArchive();
    const result = await checkArchive(mb);
    const others =
      result.missing_agents.length + result.missing_projects.length + result.missing_reservations.length;
    return {
      check: "archive complete (checkArchive)",
      ok: result.ok,
      detail: result.enabled
        ? `${result.pending_jobs} jobs pending; missing from Git: ${result.missing.length} messages, ${others} other files`
        : "archive switched off",
    };
  } finally {
    await mb.close();
  }
}

import { isAbsolute, win32 } from "node:path";
import type Database from "better-sqlite3";
import type { ScrubPreset } from "../bundle-format.js";
import { dropAttachments, rewriteAttachmentContents } from "./attachments.js";
import { redactTexts, type ScrubWorker, startScrubWorker } from "./scrub-threads.js";
import { containsSecret, RedactionCounts } from "./secrets.js";
import { countTextRows, rewriteTextFields } from "./text-fields.js";

export const SCRUB_PRESETS: readonly ScrubPreset[] = ["standard", "strict", "archive"];

/** What replaces every body under the strict preset. */
export const STRICT_BODY = "[body removed: strict export]";

export interface ScrubInput {
  db: Database.Database;
  preset: ScrubPreset;
  /** Work directory where rewritten attachment blobs are written. */
  workDir: string;
  /** Called as rows are scrubbed: (done, total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * The worker thread that matches secrets alongside the main thread (scrub-threads.ts), started and
   * closed by the caller; null scrubs on the main thread only. Default: one started (`startScrubWorker`)
   * and closed here.
   */
  worker?: ScrubWorker | null;
}

export interface ScrubOutput {
  preset: ScrubPreset;
  /** Redactions per rule (counts only). */
  redactions: Record<string, number>;
  registration_tokens_removed: number;
  human_keys_replaced: number;
  rows_changed: number;
  bodies_removed: number;
  payloads_removed: number;
  attachments_removed: number;
  attachments_rewritten: number;
  attachments_withheld: number;
}

/**
 * Apply a scrub preset to the work copy.
 *
 * - Every preset, `archive` included, drops the `agents.registration_token` column: tokens are
 *   credentials (they let anyone act as the agent), never history.
 * - `archive`: nothing else changes (lossless).
 * - `standard`: every free-text value (text-fields.ts: names, programs, models, task descriptions,
 *   subjects, bodies, thread ids, topics, payload keys and string values, attachment names, contact and
 *   reservation reasons, reservation patterns) and every text attachment has its secrets replaced by
 *   `[REDACTED:<rule>]`: first our own patterns (secrets.ts), then secretlint's recommended preset
 *   (secretlint.ts). Binary attachments in which a secret pattern appears are withheld. A human key that
 *   is an absolute path becomes the project's slug.
 * - `strict`: standard, and every body becomes STRICT_BODY, payloads become NULL and attachments are
 *   deleted.
 * Guarantees: the returned report holds counts per rule and never a secret. The result is the same
 * with or without the worker thread; the thread is stopped before this returns or throws.
 */
export async function applyScrub(input: ScrubInput): Promise<ScrubOutput> {
  const { db, preset } = input;
  const out: ScrubOutput = {
    preset,
    redactions: {},
    registration_tokens_removed: dropRegistrationTokens(db),
    human_keys_replaced: 0,
    rows_changed: 0,
    bodies_removed: 0,
    payloads_removed: 0,
    attachments_removed: 0,
    attachments_rewritten: 0,
    attachments_withheld: 0,
  };
  if (preset === "archive") return out;
  if (preset === "strict") {
    out.bodies_removed = db.prepare("UPDATE messages SET body_md = ?").run(STRICT_BODY).changes;
    out.payloads_removed = db
      .prepare("UPDATE messages SET payload = NULL WHERE payload IS NOT NULL")
      .run().changes;
    out.attachments_removed = dropAttachments(db);
  }
  out.human_keys_replaced = replacePathKeys(db);
  const counts = new RedactionCounts();
  const own = input.worker === undefined ? startScrubWorker() : null;
  const worker = input.worker ?? own;
  try {
    // The worker takes a batch whenever it has fewer than two queued (never idle while the walker reads
    // ahead, text-fields.ts); the main thread matches the rest between its reads and writes.
    const transform = (texts: readonly string[]) =>
      worker !== null && worker.busy < 2 ? worker.run(texts, counts) : redactTexts(texts, counts);
    const total = countTextRows(db);
    let done = 0;
    const stats = await rewriteTextFields(db, transform, (rows) => {
      done += rows;
      input.onProgress?.(done, total);
    });
    out.rows_changed = stats.rows_changed;
    const attachments = await rewriteAttachmentContents(db, input.workDir, transform, containsSecret);
    out.attachments_rewritten = attachments.rewritten;
    out.attachments_withheld = attachments.withheld;
  } finally {
    await own?.close();
  }
  out.redactions = counts.toJSON();
  return out;
}

/** Drop the registration token column; returns how many tokens it held. */
function dropRegistrationTokens(db: Database.Database): number {
  const columns = db.prepare("PRAGMA table_info(agents)").all() as { name: string }[];
  if (!columns.some((c) => c.name === "registration_token")) return 0;
  const n = db.prepare("SELECT COUNT(*) FROM agents WHERE registration_token <> ''").pluck().get() as number;
  db.exec("ALTER TABLE agents DROP COLUMN registration_token");
  return n;
}

/** Human keys that are absolute paths (POSIX or Windows) become the slug (or slug-id when that is taken). */
function replacePathKeys(db: Database.Database): number {
  const rows = db.prepare("SELECT id, slug, human_key FROM projects").all() as {
    id: number;
    slug: string;
    human_key: string;
  }[];
  const taken = db.prepare("SELECT 1 FROM projects WHERE human_key = ? AND id <> ?");
  const set = db.prepare("UPDATE projects SET human_key = ? WHERE id = ?");
  let n = 0;
  for (const row of rows) {
    if (!isAbsolute(row.human_key) && !win32.isAbsolute(row.human_key)) continue;
    set.run(taken.get(row.slug, row.id) ? `${row.slug}-${row.id}` : row.slug, row.id);
    n++;
  }
  return n;
}

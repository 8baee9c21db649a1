import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { PigeonholeError } from "../../engine/errors.js";
import { type AttachmentPlacement, placeAttachments } from "./attachments.js";
import { type TableCounts, tableCounts } from "./counts.js";
import { buildViewerTables } from "./viewer-schema.js";
import type { ViewerWorker } from "./viewer-threads.js";

export interface FinalizeInput {
  db: Database.Database;
  /** Where to write the bundle's database (must not exist). */
  target: string;
  /** Plain bundles: the bundle directory blobs are copied into. Encrypted: null (blobs go into the database). */
  bundleDir: string | null;
  /** Non-private facts for `viewer_meta` (preset, generated_at, ...). */
  meta: Record<string, string>;
  /** The viewer tables' worker thread (viewer-schema.ts): null for none, default one started there. */
  viewerWorker?: ViewerWorker | null;
}

export interface FinalizeOutput {
  /** The bundle's database file (`target`). */
  path: string;
  attachments: AttachmentPlacement;
  counts: TableCounts;
  bytes: number;
}

/**
 * Turn the work copy into the bundle's database at `target`: attachments placed (attachments.ts), viewer
 * tables and the FTS4 index built (viewer-schema.ts), bookkeeping tables dropped, statistics gathered
 * for the query planner (ANALYZE), then `VACUUM INTO target` (one pass, where an in-place VACUUM writes
 * twice), so the file is a single compact SQLite database in `journal_mode=DELETE`, with no free page
 * holding deleted or pre-scrub text. Guarantees (checked, INTERNAL otherwise): no FTS5 table or trigger
 * remains (sql.js has no FTS5) and `foreign_key_check` finds nothing. (VACUUM writes every page afresh;
 * a full `integrity_check` would cost as much as the whole finalize, so the tests run it instead.)
 */
export async function finalizeDatabase(input: FinalizeInput): Promise<FinalizeOutput> {
  const { db } = input;
  const attachments = placeAttachments(db, input.bundleDir);
  await buildViewerTables(db, input.meta, input.viewerWorker);
  const bookkeeping = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'export\\_%' ESCAPE '\\'")
    .pluck()
    .all() as string[];
  for (const name of bookkeeping) db.exec(`DROP TABLE "${name}"`);
  db.exec("ANALYZE");
  assertViewerReady(db);
  db.prepare("VACUUM INTO ?").run(input.target);
  const final = new Database(input.target, { fileMustExist: true });
  try {
    // The work copy runs without a journal; the bundle's database must say DELETE (sql.js reads no WAL).
    final.pragma("journal_mode = DELETE");
    return {
      path: input.target,
      attachments,
      counts: tableCounts(final),
      bytes: statSync(input.target).size,
    };
  } finally {
    final.close();
  }
}

function assertViewerReady(db: Database.Database): void {
  const leftovers = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' OR sql LIKE '%fts5%'")
    .pluck()
    .all() as string[];
  if (leftovers.length > 0) {
    throw new PigeonholeError("INTERNAL", `The exported database still holds ${leftovers.join(", ")}.`);
  }
  const dangling = db.pragma("foreign_key_check") as unknown[];
  if (dangling.length > 0) {
    throw new PigeonholeError(
      "INTERNAL",
      `The exported database has ${dangling.length} rows referencing missing rows (first: ${JSON.stringify(dangling[0])}).`,
    );
  }
}

import { statSync } from "node:fs";
import type Database from "better-sqlite3";
import { PigeonholeError } from "../../engine/errors.js";
import { type AttachmentPlacement, placeAttachments } from "./attachments.js";
import { type TableCounts, tableCounts } from "./counts.js";
import { buildViewerTables } from "./viewer-schema.js";

export interface FinalizeInput {
  db: Database.Database;
  /** The work copy's file (for its final size). */
  path: string;
  /** Plain bundles: the bundle directory blobs are copied into. Encrypted: null (blobs go into the database). */
  bundleDir: string | null;
  /** Non-private facts for `viewer_meta` (preset, generated_at, ...). */
  meta: Record<string, string>;
}

export interface FinalizeOutput {
  attachments: AttachmentPlacement;
  counts: TableCounts;
  bytes: number;
}

/**
 * Turn the work copy into the bundle's database: attachments placed (attachments.ts), viewer tables and
 * the FTS4 index built (viewer-schema.ts), bookkeeping tables dropped, statistics gathered for the query
 * planner (ANALYZE), then `journal_mode=DELETE` and VACUUM, so the file is a single self-contained
 * SQLite database with no free page holding deleted or pre-scrub text. Guarantees (checked, INTERNAL
 * otherwise): no FTS5 table or trigger remains (sql.js has no FTS5) and `foreign_key_check` finds
 * nothing. (VACUUM writes every page afresh; a full `integrity_check` would cost as much as the VACUUM
 * itself, so the tests run it instead.)
 */
export function finalizeDatabase(input: FinalizeInput): FinalizeOutput {
  const { db } = input;
  const attachments = placeAttachments(db, input.bundleDir);
  buildViewerTables(db, input.meta);
  const bookkeeping = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'export\\_%' ESCAPE '\\'")
    .pluck()
    .all() as string[];
  for (const name of bookkeeping) db.exec(`DROP TABLE "${name}"`);
  db.exec("ANALYZE");
  assertViewerReady(db);
  db.pragma("journal_mode = DELETE");
  db.exec("VACUUM");
  const integrity = db.pragma("integrity_check", { simple: true });
  if (integrity !== "ok") {
    throw new PigeonholeError(
      "INTERNAL",
      `The exported database failed its integrity check: ${String(integrity)}`,
    );
  }
  return { attachments, counts: tableCounts(db), bytes: statSync(input.path).size };
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

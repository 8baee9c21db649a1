import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { fail, PigeonholeError } from "../../engine/errors.js";
import { migrate, SCHEMA_VERSION } from "../../engine/schema.js";
import { type TableCounts, tableCounts } from "./counts.js";

export interface SnapshotInput {
  /** The mailbox database (`<home>/mailbox.sqlite3`). */
  database: string;
  /** Private work directory; the copy is written as `snapshot.sqlite3` in it. */
  workDir: string;
}

export interface SnapshotOutput {
  /** The work copy, ready for the next stages (see `openWorkCopy`). */
  path: string;
  bytes: number;
  counts: TableCounts;
}

/**
 * Copy the mailbox database with SQLite's online backup API into `workDir`. The whole copy is made in
 * one backup step, which reads inside one read transaction: the copy is a consistent snapshot of one
 * moment even while other processes write (WAL readers do not block writers, and a single step cannot be
 * restarted by a concurrent write). The mailbox itself is opened read-only and never changed. A copy
 * from an older schema version is migrated to the current one; a newer one is refused (CONFLICT). The
 * copy leaves this stage without the engine's triggers, search index and archive tables
 * (`detachEngineMachinery`).
 */
export async function takeSnapshot(input: SnapshotInput): Promise<SnapshotOutput> {
  if (!existsSync(input.database)) {
    throw fail.notFound(
      `No mailbox database at ${input.database}. Pass --home with the mailbox directory (the one holding mailbox.sqlite3).`,
      { database: input.database },
    );
  }
  const path = join(input.workDir, "snapshot.sqlite3");
  const source = new Database(input.database, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    const version = source.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new PigeonholeError(
        "CONFLICT",
        `The mailbox has schema version ${version}, newer than this release understands (${SCHEMA_VERSION}); export it with a newer pigeonhole.`,
      );
    }
    await source.backup(path, { progress: () => 0x7fffffff });
  } finally {
    source.close();
  }
  const db = openWorkCopy(path);
  try {
    migrate(db);
    detachEngineMachinery(db);
    return { path, bytes: statSync(path).size, counts: tableCounts(db) };
  } finally {
    db.close();
  }
}

/**
 * Open the work copy for the rewriting stages: no journal and no fsync (the copy is scratch, rebuilt by
 * the next export if this one dies), foreign keys off (the stages delete in dependency order themselves).
 * finalize.ts restores `journal_mode=DELETE` before the copy becomes the bundle's database.
 */
export function openWorkCopy(path: string): Database.Database {
  const db = new Database(path, { fileMustExist: true });
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("foreign_keys = OFF");
  db.pragma("temp_store = MEMORY");
  db.pragma("cache_size = -65536");
  return db;
}

/**
 * Strip the engine's live machinery from the work copy: every trigger (the FTS5 sync triggers would
 * otherwise re-index each row the scrubber rewrites), the FTS5 index (the viewer's sql.js has no FTS5;
 * finalize.ts builds an FTS4 one), the Git archive's outbox and lease, and the contact policies'
 * `thread_participants`. Guarantees: afterwards the copy has no trigger, no virtual table and none of
 * those tables.
 */
export function detachEngineMachinery(db: Database.Database): void {
  const objects = db
    .prepare("SELECT type, name FROM sqlite_schema WHERE type IN ('trigger', 'table') AND sql IS NOT NULL")
    .all() as { type: string; name: string }[];
  db.transaction(() => {
    for (const { type, name } of objects) {
      if (type === "trigger") db.exec(`DROP TRIGGER "${name.replaceAll('"', '""')}"`);
    }
    const virtual = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
      .pluck()
      .all() as string[];
    for (const name of virtual) db.exec(`DROP TABLE "${name.replaceAll('"', '""')}"`);
    db.exec("DROP TABLE IF EXISTS archive_jobs; DROP TABLE IF EXISTS archive_lease;");
    // Contact-policy bookkeeping kept by triggers; its thread keys are text the scrubber would have to
    // rewrite, and viewer_threads.participants says the same for the viewer.
    db.exec("DROP TABLE IF EXISTS thread_participants;");
    const sequence = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").get();
    if (sequence) db.exec("DELETE FROM sqlite_sequence WHERE name NOT IN (SELECT name FROM sqlite_schema)");
  })();
}

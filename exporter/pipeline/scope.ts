import type Database from "better-sqlite3";
import { fail } from "../../engine/errors.js";
import { normalizeHumanKey } from "../../engine/projects.js";
import { type TableCounts, tableCounts } from "./counts.js";

export interface ScopeInput {
  db: Database.Database;
  /** Slugs or human keys of the projects to keep; empty keeps every project. */
  projects: readonly string[];
}

export interface ScopeOutput {
  /** Projects chosen (all of them when none was named). */
  projects_in_scope: number;
  /** Projects kept only because an agent of them appears in kept mail (see below). */
  projects_referenced: number;
  counts: TableCounts;
}

/**
 * Keep only the chosen projects. Deleted: the messages of other projects (with their recipients and
 * attachments), their file reservations, and every agent that neither belongs to a kept project nor
 * appears in kept mail or reservations. Kept: agents of other projects that sent or received kept mail
 * (cross-project mail stays readable), and the project rows those agents belong to, marked out of scope
 * in the `export_scope` table (finalize.ts turns it into `viewer_projects.in_scope`) with their human
 * key replaced by their slug, so no other project's path leaves. Contact links survive only between
 * kept agents; a `reply_to` pointing at a deleted message becomes NULL. Guarantees: no row of the result
 * references a deleted row. Throws NOT_FOUND for a project the mailbox does not have.
 */
export function applyScope(input: ScopeInput): ScopeOutput {
  const { db } = input;
  const ids = input.projects.length === 0 ? allProjectIds(db) : input.projects.map((p) => resolve(db, p));
  db.transaction(() => {
    db.exec("CREATE TABLE export_scope (project_id INTEGER PRIMARY KEY)");
    const insert = db.prepare("INSERT OR IGNORE INTO export_scope (project_id) VALUES (?)");
    for (const id of ids) insert.run(id);
    if (input.projects.length > 0) prune(db);
  })();
  const inScope = db.prepare("SELECT COUNT(*) FROM export_scope").pluck().get() as number;
  const total = db.prepare("SELECT COUNT(*) FROM projects").pluck().get() as number;
  return { projects_in_scope: inScope, projects_referenced: total - inScope, counts: tableCounts(db) };
}

function prune(db: Database.Database): void {
  db.exec(`
    DELETE FROM messages WHERE project_id NOT IN (SELECT project_id FROM export_scope);
    DELETE FROM message_recipients WHERE message_id NOT IN (SELECT id FROM messages);
    DELETE FROM message_attachments WHERE message_id NOT IN (SELECT id FROM messages);
    UPDATE messages SET reply_to = NULL
      WHERE reply_to IS NOT NULL AND reply_to NOT IN (SELECT id FROM messages);
    DELETE FROM file_reservations WHERE project_id NOT IN (SELECT project_id FROM export_scope);
    DELETE FROM agents WHERE id NOT IN (
      SELECT id FROM agents WHERE project_id IN (SELECT project_id FROM export_scope)
      UNION SELECT sender_id FROM messages
      UNION SELECT agent_id FROM message_recipients
      UNION SELECT agent_id FROM file_reservations
    );
    DELETE FROM agent_links
      WHERE from_agent_id NOT IN (SELECT id FROM agents) OR to_agent_id NOT IN (SELECT id FROM agents);
    DELETE FROM projects
      WHERE id NOT IN (SELECT project_id FROM export_scope) AND id NOT IN (SELECT project_id FROM agents);
  `);
  // Out-of-scope projects keep only their slug as key. Human keys are unique: in the rare case a slug is
  // already another project's human key, the id disambiguates.
  const foreign = db
    .prepare("SELECT id, slug FROM projects WHERE id NOT IN (SELECT project_id FROM export_scope)")
    .all() as { id: number; slug: string }[];
  const taken = db.prepare("SELECT 1 FROM projects WHERE human_key = ? AND id <> ?");
  const setKey = db.prepare("UPDATE projects SET human_key = ? WHERE id = ?");
  for (const { id, slug } of foreign) {
    setKey.run(taken.get(slug, id) ? `${slug}-${id}` : slug, id);
  }
}

function allProjectIds(db: Database.Database): number[] {
  return db.prepare("SELECT id FROM projects ORDER BY id").pluck().all() as number[];
}

/** A project id by human key (normalized like the engine does) or slug; the human key wins, as in the engine. */
function resolve(db: Database.Database, key: string): number {
  let normalized = key;
  try {
    normalized = normalizeHumanKey(key);
  } catch {
    // Not a valid human key: it can still be a slug.
  }
  const byKey = db.prepare("SELECT id FROM projects WHERE human_key = ?").pluck().get(normalized) as
    | number
    | undefined;
  if (byKey !== undefined) return byKey;
  const bySlug = db.prepare("SELECT id FROM projects WHERE slug = ?").pluck().get(key) as number | undefined;
  if (bySlug !== undefined) return bySlug;
  const known = db.prepare("SELECT slug FROM projects ORDER BY slug").pluck().all() as string[];
  throw fail.notFound(
    `--project ${JSON.stringify(key)} is not a project of this mailbox; pass a slug or human key (projects: ${known.join(", ") || "none"}).`,
    { project: key },
  );
}

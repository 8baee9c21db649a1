import type { ViewerDatabase } from "../database.js";
import { toFts4Query } from "../fts4-query.js";
import type { SearchFilters } from "../router.js";

/**
 * The FTS4 table the exporter builds over messages (subject, body_md; docid = messages.id). sql.js ships
 * FTS4, not the engine's FTS5.
 */
export const SEARCH_TABLE = "messages_fts4";

/** Marks around highlighted words in snippets: control characters no message text can contain. */
export const MARK_START = "\u0002";
export const MARK_END = "\u0003";

/** Ids of the messages matching `q` and `filters`, newest first. A blank `q` lists by filters alone. */
export function searchIds(db: ViewerDatabase, q: string, filters: SearchFilters): number[] {
  const match = q.trim() === "" ? null : toFts4Query(q);
  if (q.trim() !== "" && match === null) return [];
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (match !== null) {
    where.push(`m.id IN (SELECT docid FROM ${SEARCH_TABLE} WHERE ${SEARCH_TABLE} MATCH :match)`);
    params[":match"] = match;
  }
  if (filters.project) {
    where.push("m.project_id = (SELECT id FROM projects WHERE slug = :project)");
    params[":project"] = filters.project;
  }
  if (filters.sender) {
    where.push("m.sender_id = (SELECT id FROM agents WHERE name = :sender COLLATE NOCASE)");
    params[":sender"] = filters.sender;
  }
  if (filters.recipient) {
    where.push(`m.id IN (SELECT message_id FROM message_recipients
      WHERE agent_id = (SELECT id FROM agents WHERE name = :recipient COLLATE NOCASE))`);
    params[":recipient"] = filters.recipient;
  }
  if (filters.importance) {
    where.push("m.importance = :importance");
    params[":importance"] = filters.importance;
  }
  if (filters.from) {
    where.push("m.created_ts >= :from");
    params[":from"] = filters.from;
  }
  if (filters.to) {
    // A date means the whole day: compare with the next day's start.
    where.push("m.created_ts < :to");
    params[":to"] = /^\d{4}-\d{2}-\d{2}$/.test(filters.to) ? nextDay(filters.to) : filters.to;
  }
  if (where.length === 0) return [];
  return db.column<number>(
    `SELECT m.id FROM messages m WHERE ${where.join(" AND ")} ORDER BY m.id DESC`,
    params,
  );
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * Highlighted snippets for `ids` (one query for the page on screen), keyed by id. Words are wrapped in
 * MARK_START/MARK_END, which the view turns into <mark> elements without ever parsing HTML.
 */
export function snippets(db: ViewerDatabase, q: string, ids: number[]): Map<number, string> {
  const match = toFts4Query(q);
  if (match === null || ids.length === 0) return new Map();
  const rows = db.all<{ id: number; snippet: string }>(
    `SELECT docid AS id, snippet(${SEARCH_TABLE}, '${MARK_START}', '${MARK_END}', '…', -1, 24) AS snippet
       FROM ${SEARCH_TABLE} WHERE ${SEARCH_TABLE} MATCH ? AND docid IN (SELECT value FROM json_each(?))`,
    [match, JSON.stringify(ids)],
  );
  return new Map(rows.map((r) => [r.id, r.snippet]));
}

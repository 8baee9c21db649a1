import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type Database from "better-sqlite3";
import { startViewerWorker, type ViewerWorker } from "./viewer-threads.js";

/**
 * The tables the viewer reads besides the mailbox's own: precomputed so that the overview, the thread
 * list and the agent directory of a 100,000-message bundle are each one indexed query in sql.js. The
 * README's "Bundle database schema" documents them for the viewer; `VIEWER_SCHEMA_VERSION` changes when
 * they change.
 */

export const VIEWER_SCHEMA_VERSION = 1;

/** The FTS4 table over messages(subject, body_md); docid = messages.id. */
export const FTS_TABLE = "messages_fts4";

/** The viewer's own tables and their indexes, created empty. */
export const VIEWER_TABLES = `
  CREATE TABLE viewer_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE viewer_overview (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    projects INTEGER NOT NULL,
    agents INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    recipients INTEGER NOT NULL,
    attachments INTEGER NOT NULL,
    reservations INTEGER NOT NULL,
    first_ts TEXT,
    last_ts TEXT
  );

  CREATE TABLE viewer_activity (
    day TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    PRIMARY KEY (day, project_id)
  ) WITHOUT ROWID;

  CREATE TABLE viewer_projects (
    project_id INTEGER PRIMARY KEY,
    in_scope INTEGER NOT NULL,
    agents INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    reservations INTEGER NOT NULL,
    first_ts TEXT,
    last_ts TEXT
  );

  CREATE TABLE viewer_agents (
    agent_id INTEGER PRIMARY KEY,
    sent INTEGER NOT NULL,
    received INTEGER NOT NULL,
    unread INTEGER NOT NULL,
    unacked INTEGER NOT NULL,
    last_sent_ts TEXT,
    last_received_ts TEXT
  );

  CREATE TABLE viewer_threads (
    thread_key TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL,
    root_message_id INTEGER NOT NULL,
    subject TEXT NOT NULL,
    messages INTEGER NOT NULL,
    first_ts TEXT NOT NULL,
    last_ts TEXT NOT NULL,
    last_message_id INTEGER NOT NULL,
    participants TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX viewer_threads_by_last ON viewer_threads (last_message_id DESC);
  CREATE INDEX viewer_threads_by_project ON viewer_threads (project_id, last_message_id DESC);
`;

/** Indexes of the mailbox tables for the viewer's queries. */
const MAILBOX_INDEXES = `
  CREATE INDEX messages_by_project ON messages (project_id, id);
  CREATE INDEX messages_by_created ON messages (created_ts);
  CREATE INDEX messages_by_reply ON messages (reply_to) WHERE reply_to IS NOT NULL;
  CREATE INDEX attachments_by_status ON message_attachments (status);
`;

/**
 * A message's thread key is its thread_id, or its own id for a thread root without one (replies carry
 * the root's id as thread_id). Participants are the senders and recipients of a thread's messages.
 *
 * Every aggregate reads `export_msg`, a narrow temporary copy of the message columns they need, made in
 * one scan of `messages`: the messages table holds the bodies, so each further scan or lookup of it
 * would read tens of megabytes again.
 */
export const VIEWER_AGGREGATES = `
  CREATE TEMP TABLE export_msg (
    id INTEGER PRIMARY KEY,
    thread_key TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    created_ts TEXT NOT NULL,
    ack_required INTEGER NOT NULL
  );
  INSERT INTO export_msg
    SELECT id, COALESCE(thread_id, CAST(id AS TEXT)), project_id, sender_id, created_ts, ack_required
    FROM messages ORDER BY id;

  -- (thread, agent) pairs, deduplicated on insert; the key order gives each thread's agents ascending.
  CREATE TEMP TABLE export_pairs (
    thread_key TEXT NOT NULL,
    agent_id INTEGER NOT NULL,
    PRIMARY KEY (thread_key, agent_id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO export_pairs SELECT thread_key, sender_id FROM export_msg;
  INSERT OR IGNORE INTO export_pairs
    SELECT t.thread_key, r.agent_id FROM message_recipients r JOIN export_msg t ON t.id = r.message_id;
  CREATE TEMP TABLE export_participants AS
    SELECT thread_key, json_group_array(agent_id) AS participants FROM export_pairs GROUP BY thread_key;
  DROP TABLE temp.export_pairs;

  INSERT INTO viewer_threads
  SELECT g.thread_key, root_m.project_id, g.root_id, root.subject, g.messages, g.first_ts, g.last_ts, g.last_id,
         COALESCE(p.participants, '[]')
  FROM (
    SELECT thread_key, MIN(id) AS root_id, MAX(id) AS last_id, COUNT(*) AS messages,
           MIN(created_ts) AS first_ts, MAX(created_ts) AS last_ts
    FROM export_msg GROUP BY thread_key
  ) g
  JOIN export_msg root_m ON root_m.id = g.root_id
  JOIN messages root ON root.id = g.root_id
  LEFT JOIN export_participants p ON p.thread_key = g.thread_key;

  DROP TABLE temp.export_participants;

  INSERT INTO viewer_activity (day, project_id, messages)
  SELECT substr(created_ts, 1, 10), project_id, COUNT(*) FROM export_msg GROUP BY 1, 2;

  INSERT INTO viewer_projects
  SELECT p.id,
         EXISTS (SELECT 1 FROM export_scope s WHERE s.project_id = p.id),
         (SELECT COUNT(*) FROM agents a WHERE a.project_id = p.id),
         COALESCE(m.messages, 0),
         (SELECT COUNT(*) FROM viewer_threads t WHERE t.project_id = p.id),
         (SELECT COUNT(*) FROM file_reservations f WHERE f.project_id = p.id),
         m.first_ts, m.last_ts
  FROM projects p
  LEFT JOIN (
    SELECT project_id, COUNT(*) AS messages, MIN(created_ts) AS first_ts, MAX(created_ts) AS last_ts
    FROM export_msg GROUP BY project_id
  ) m ON m.project_id = p.id;

  INSERT INTO viewer_agents
  SELECT a.id,
         COALESCE(s.sent, 0), COALESCE(r.received, 0), COALESCE(r.unread, 0), COALESCE(r.unacked, 0),
         s.last_ts, r.last_ts
  FROM agents a
  LEFT JOIN (SELECT sender_id, COUNT(*) AS sent, MAX(created_ts) AS last_ts FROM export_msg GROUP BY sender_id) s
    ON s.sender_id = a.id
  LEFT JOIN (
    SELECT r.agent_id, COUNT(*) AS received, SUM(r.read_ts IS NULL) AS unread,
           SUM(m.ack_required AND r.ack_ts IS NULL) AS unacked, MAX(m.created_ts) AS last_ts
    FROM message_recipients r JOIN export_msg m ON m.id = r.message_id GROUP BY r.agent_id
  ) r ON r.agent_id = a.id;

  INSERT INTO viewer_overview
  SELECT 1, (SELECT COUNT(*) FROM projects), (SELECT COUNT(*) FROM agents), (SELECT COUNT(*) FROM export_msg),
         (SELECT COUNT(*) FROM viewer_threads), (SELECT COUNT(*) FROM message_recipients),
         (SELECT COUNT(*) FROM message_attachments), (SELECT COUNT(*) FROM file_reservations),
         (SELECT MIN(created_ts) FROM export_msg), (SELECT MAX(created_ts) FROM export_msg);

  DROP TABLE temp.export_msg;
`;

/** Viewer tables filled by VIEWER_AGGREGATES (viewer_meta is filled from `meta`). */
const AGGREGATED = [
  "viewer_threads",
  "viewer_activity",
  "viewer_projects",
  "viewer_agents",
  "viewer_overview",
];

/**
 * Create and fill the viewer tables and indexes, and the FTS4 index over subject and body (external
 * content: the text is stored once, in `messages`). Needs `export_scope` (scope.ts). `meta` goes into
 * `viewer_meta` as strings; it must hold nothing private (it is inside the database, but the viewer may
 * show it before anything else). With `worker` (viewer-threads.ts, not yet asked; default: one started
 * here) the aggregates are computed on it while this thread builds the indexes; the tables hold the
 * same rows either way. Guarantees: the worker is stopped and its scratch database removed before this
 * returns or throws.
 */
export async function buildViewerTables(
  db: Database.Database,
  meta: Record<string, string>,
  worker?: ViewerWorker | null,
): Promise<void> {
  const aggregates = worker === undefined ? startViewerWorker() : worker;
  if (aggregates === null) {
    db.transaction(() => {
      db.exec(VIEWER_TABLES);
      db.exec(MAILBOX_INDEXES);
      db.exec(VIEWER_AGGREGATES);
      insertMeta(db, meta);
      buildFtsIndex(db);
    })();
    return;
  }
  const scratch = join(dirname(db.name), "viewer-tables.sqlite3");
  try {
    aggregates.start({ workCopy: db.name, scratch });
    await aggregates.reading;
    const timeout = db.pragma("busy_timeout", { simple: true }) as number;
    // While the worker holds its read lock, a page-cache spill cannot write to the file: with no wait,
    // SQLite grows the cache instead of stalling until the worker is done.
    db.pragma("busy_timeout = 0");
    db.exec("BEGIN");
    try {
      db.exec(VIEWER_TABLES);
      db.exec(MAILBOX_INDEXES);
      buildFtsIndex(db);
      await aggregates.done;
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
    db.prepare("ATTACH ? AS viewer_scratch").run(scratch);
    try {
      db.transaction(() => {
        for (const table of AGGREGATED) {
          db.exec(`INSERT INTO main.${table} SELECT * FROM viewer_scratch.${table}`);
        }
        insertMeta(db, meta);
      })();
    } finally {
      db.exec("DETACH viewer_scratch");
    }
  } finally {
    await aggregates.close();
    rmSync(scratch, { force: true });
  }
}

function insertMeta(db: Database.Database, meta: Record<string, string>): void {
  const insert = db.prepare("INSERT INTO viewer_meta (key, value) VALUES (?, ?)");
  for (const [key, value] of Object.entries({ schema_version: String(VIEWER_SCHEMA_VERSION), ...meta })) {
    insert.run(key, value);
  }
}

/**
 * The statement is stored verbatim in the bundle's `sqlite_schema`, whitespace included: changing its
 * layout changes the bundle's bytes.
 */
const CREATE_FTS = `CREATE VIRTUAL TABLE ${FTS_TABLE} USING fts4(
        content="messages", subject, body_md, tokenize=unicode61 "remove_diacritics=2"
      )`;

function buildFtsIndex(db: Database.Database): void {
  db.exec(`
    ${CREATE_FTS};
    INSERT INTO ${FTS_TABLE}(${FTS_TABLE}) VALUES ('rebuild');
    INSERT INTO ${FTS_TABLE}(${FTS_TABLE}) VALUES ('optimize');
  `);
}

import type Database from "better-sqlite3";
import { PigeonholeError } from "./errors.js";

/**
 * The database schema, as forward-only migrations keyed on `PRAGMA user_version`. Migration N brings a
 * database from version N-1 to N; a released migration is never edited, only followed by a new one.
 * The exporter reads this module to know the tables it snapshots.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: projects, agents, messages, recipients, attachments, search, contacts, reservations, archive outbox.
  `
  CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    human_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );

  CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL COLLATE NOCASE UNIQUE,
    program TEXT NOT NULL,
    model TEXT NOT NULL,
    task_description TEXT NOT NULL DEFAULT '',
    inception_ts TEXT NOT NULL,
    last_active_ts TEXT NOT NULL,
    attachments_policy TEXT NOT NULL DEFAULT 'auto',
    contact_policy TEXT NOT NULL DEFAULT 'auto'
      CHECK (contact_policy IN ('open', 'auto', 'contacts_only', 'block_all')),
    registration_token TEXT NOT NULL,
    retired_ts TEXT
  );
  CREATE INDEX agents_by_project ON agents(project_id);

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    sender_id INTEGER NOT NULL REFERENCES agents(id),
    thread_id TEXT,
    reply_to INTEGER REFERENCES messages(id),
    topic TEXT,
    subject TEXT NOT NULL,
    body_md TEXT NOT NULL,
    importance TEXT NOT NULL DEFAULT 'normal' CHECK (importance IN ('low', 'normal', 'high', 'urgent')),
    ack_required INTEGER NOT NULL DEFAULT 0,
    must_read INTEGER NOT NULL DEFAULT 0,
    payload TEXT,
    expires_ts TEXT,
    created_ts TEXT NOT NULL,
    -- 'contact_request' marks the intro message of request_contact, which creates no relationship.
    purpose TEXT NOT NULL DEFAULT 'message' CHECK (purpose IN ('message', 'contact_request'))
  );
  CREATE INDEX messages_by_sender ON messages(sender_id, id);
  CREATE INDEX messages_by_thread ON messages(thread_id, id) WHERE thread_id IS NOT NULL;
  CREATE INDEX messages_by_topic ON messages(project_id, topic, id) WHERE topic IS NOT NULL;

  CREATE TABLE message_recipients (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    kind TEXT NOT NULL CHECK (kind IN ('to', 'cc', 'bcc')),
    read_ts TEXT,
    ack_ts TEXT,
    -- Position in the sender's to/cc/bcc lists, so recipients read back in the order they were given.
    ordinal INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, agent_id)
  ) WITHOUT ROWID;
  CREATE INDEX recipients_by_agent ON message_recipients(agent_id, message_id);

  CREATE TABLE message_attachments (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    disposition TEXT NOT NULL CHECK (disposition IN ('inline', 'file')),
    data_base64 TEXT,
    PRIMARY KEY (message_id, ordinal)
  ) WITHOUT ROWID;
  CREATE INDEX attachments_by_sha ON message_attachments(sha256);

  CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject, body_md, content='messages', content_rowid='id', tokenize='porter unicode61', prefix='2 3'
  );
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, subject, body_md) VALUES (new.id, new.subject, new.body_md);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, subject, body_md) VALUES ('delete', old.id, old.subject, old.body_md);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body_md ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, subject, body_md) VALUES ('delete', old.id, old.subject, old.body_md);
    INSERT INTO messages_fts(rowid, subject, body_md) VALUES (new.id, new.subject, new.body_md);
  END;

  -- Who took part in which thread (sender or any recipient) and when last: the "shared thread" rule of
  -- contact policies in one index lookup. The intro of a contact request creates no relationship.
  CREATE TABLE thread_participants (
    thread_key TEXT NOT NULL,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    last_ts TEXT NOT NULL,
    PRIMARY KEY (thread_key, agent_id)
  ) WITHOUT ROWID;
  CREATE INDEX thread_participants_by_agent ON thread_participants(agent_id, last_ts);
  CREATE TRIGGER thread_participants_sender AFTER INSERT ON messages WHEN new.purpose = 'message' BEGIN
    INSERT INTO thread_participants (thread_key, agent_id, last_ts)
    VALUES (COALESCE(new.thread_id, CAST(new.id AS TEXT)), new.sender_id, new.created_ts)
    ON CONFLICT (thread_key, agent_id) DO UPDATE SET last_ts = MAX(last_ts, excluded.last_ts);
  END;
  CREATE TRIGGER thread_participants_recipient AFTER INSERT ON message_recipients BEGIN
    INSERT INTO thread_participants (thread_key, agent_id, last_ts)
    SELECT COALESCE(m.thread_id, CAST(m.id AS TEXT)), new.agent_id, m.created_ts
    FROM messages m WHERE m.id = new.message_id AND m.purpose = 'message'
    ON CONFLICT (thread_key, agent_id) DO UPDATE SET last_ts = MAX(last_ts, excluded.last_ts);
  END;

  CREATE TABLE agent_links (
    id INTEGER PRIMARY KEY,
    from_agent_id INTEGER NOT NULL REFERENCES agents(id),
    to_agent_id INTEGER NOT NULL REFERENCES agents(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'blocked')),
    reason TEXT NOT NULL DEFAULT '',
    created_ts TEXT NOT NULL,
    updated_ts TEXT NOT NULL,
    expires_ts TEXT,
    UNIQUE (from_agent_id, to_agent_id)
  );

  CREATE TABLE file_reservations (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    path_pattern TEXT NOT NULL,
    exclusive INTEGER NOT NULL DEFAULT 1,
    reason TEXT NOT NULL DEFAULT '',
    created_ts TEXT NOT NULL,
    expires_ts TEXT NOT NULL,
    released_ts TEXT
  );
  CREATE INDEX reservations_by_project ON file_reservations(project_id, released_ts, expires_ts);
  CREATE INDEX reservations_by_agent ON file_reservations(agent_id);

  -- Transactional outbox for the Git archive: a job is inserted in the same transaction as its data.
  CREATE TABLE archive_jobs (
    -- AUTOINCREMENT: ids are never reused after the queue empties, so "every job up to id N" is exact.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('project', 'agent', 'message', 'reservation', 'read_state')),
    ref INTEGER NOT NULL,
    created_ts TEXT NOT NULL
  );

  -- One archive writer at a time across processes: whoever holds an unexpired lease.
  CREATE TABLE archive_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT,
    expires_ms INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO archive_lease (id, holder, expires_ms) VALUES (1, NULL, 0);
  `,
];

/** The schema version this code writes and expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Bring `db` up to SCHEMA_VERSION, each migration in its own immediate transaction so concurrent openers
 * serialize and none applies a migration twice. Refuses a database from a newer release.
 */
export function migrate(db: Database.Database): void {
  for (;;) {
    const step = db.transaction(() => {
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new PigeonholeError(
          "CONFLICT",
          `database schema version ${version} is newer than this release understands (${SCHEMA_VERSION}); upgrade pigeonhole`,
        );
      }
      if (version === SCHEMA_VERSION) return false;
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
      return true;
    });
    if (!step.immediate()) return;
  }
}

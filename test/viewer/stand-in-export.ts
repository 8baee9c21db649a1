import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { getPublicKeyAsync, signAsync } from "@noble/ed25519";
import { Encrypter } from "age-encryption";
import Database from "better-sqlite3";
import { blobRelativePath, sha256Hex } from "../../engine/messages/attachment-store.js";
import {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  chunkPath,
  type Manifest,
  type ManifestFile,
  type SignatureFile,
  UNLISTED_FILES,
} from "../../exporter/bundle-format.js";

/**
 * A stand-in for `pigeonhole export` while the exporter is being written: it writes the documented bundle
 * format (exporter/bundle-format.ts) around a mailbox home, with the viewer's build copied in, and a
 * database in the README's "Bundle database schema": FTS5 replaced by the FTS4 table `messages_fts4`,
 * the viewer tables, attachment `status`/`path` (files in plain bundles, `attachment_blobs` in encrypted
 * ones), registration tokens removed, journal_mode=DELETE, VACUUM.
 */

export const VIEWER_DIST = join(import.meta.dirname, "../../viewer/dist");

/** The viewer tables of the README's "Bundle database schema" (version 1), as the exporter builds them. */
const VIEWER_TABLES = `
  CREATE TABLE viewer_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  INSERT INTO viewer_meta VALUES ('schema_version', '1');
  CREATE TABLE viewer_overview AS SELECT 1 AS id, (SELECT count(*) FROM projects) AS projects,
    (SELECT count(*) FROM agents) AS agents, (SELECT count(*) FROM messages) AS messages,
    (SELECT count(DISTINCT coalesce(thread_id, CAST(id AS TEXT))) FROM messages) AS threads,
    (SELECT count(*) FROM message_recipients) AS recipients, (SELECT count(*) FROM message_attachments) AS attachments,
    (SELECT count(*) FROM file_reservations) AS reservations,
    (SELECT min(created_ts) FROM messages) AS first_ts, (SELECT max(created_ts) FROM messages) AS last_ts;
  CREATE TABLE viewer_activity AS SELECT substr(created_ts, 1, 10) AS day, project_id, count(*) AS messages
    FROM messages GROUP BY 1, 2;
  CREATE TABLE viewer_projects AS SELECT p.id AS project_id, 1 AS in_scope,
    (SELECT count(*) FROM agents a WHERE a.project_id = p.id) AS agents,
    (SELECT count(*) FROM messages m WHERE m.project_id = p.id) AS messages,
    (SELECT count(DISTINCT coalesce(thread_id, CAST(id AS TEXT))) FROM messages m WHERE m.project_id = p.id) AS threads,
    (SELECT count(*) FROM file_reservations f WHERE f.project_id = p.id) AS reservations,
    (SELECT min(created_ts) FROM messages m WHERE m.project_id = p.id) AS first_ts,
    (SELECT max(created_ts) FROM messages m WHERE m.project_id = p.id) AS last_ts
    FROM projects p;
  CREATE TABLE viewer_agents AS SELECT a.id AS agent_id,
    (SELECT count(*) FROM messages m WHERE m.sender_id = a.id) AS sent,
    (SELECT count(*) FROM message_recipients r WHERE r.agent_id = a.id) AS received,
    (SELECT count(*) FROM message_recipients r WHERE r.agent_id = a.id AND r.read_ts IS NULL) AS unread,
    (SELECT count(*) FROM message_recipients r JOIN messages m ON m.id = r.message_id
      WHERE r.agent_id = a.id AND m.ack_required AND r.ack_ts IS NULL) AS unacked,
    NULL AS last_sent_ts, NULL AS last_received_ts
    FROM agents a;
  CREATE TABLE viewer_threads AS
    SELECT g.thread_key, r.project_id, g.root_id AS root_message_id, r.subject, g.messages, g.first_ts, g.last_ts,
      g.last_id AS last_message_id, '[]' AS participants
    FROM (SELECT coalesce(thread_id, CAST(id AS TEXT)) AS thread_key, min(id) AS root_id, max(id) AS last_id,
            count(*) AS messages, min(created_ts) AS first_ts, max(created_ts) AS last_ts
          FROM messages GROUP BY 1) g JOIN messages r ON r.id = g.root_id;
  CREATE INDEX viewer_threads_by_project ON viewer_threads (project_id, last_message_id DESC);
  CREATE INDEX messages_by_project ON messages (project_id, id);
  CREATE INDEX messages_by_created ON messages (created_ts);
  CREATE VIRTUAL TABLE messages_fts4 USING fts4(content="messages", subject, body_md, tokenize=unicode61 "remove_diacritics=2");
  INSERT INTO messages_fts4(messages_fts4) VALUES ('rebuild');
  ANALYZE;
`;

export interface StandInOptions {
  home: string;
  out: string;
  /** 32-byte Ed25519 secret key; unsigned when absent. */
  signKey?: Uint8Array;
  passphrase?: string;
  /** age X25519 recipients (`age1…`). */
  recipients?: string[];
  chunkSize?: number;
}

function sha256(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(root, full).split(sep).join("/"));
    }
  };
  walk(root);
  return out.sort();
}

/** Write a bundle directory; returns the manifest written. */
export async function standInExport(options: StandInOptions): Promise<Manifest> {
  const { home, out } = options;
  const encrypted = Boolean(options.passphrase || options.recipients?.length);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  if (!existsSync(join(VIEWER_DIST, "index.html")))
    throw new Error("viewer/dist is missing: run npm run build");
  cpSync(VIEWER_DIST, out, { recursive: true });

  const snapshot = join(out, "..", `${Date.now()}-${Math.random().toString(36).slice(2)}.sqlite3`);
  const source = new Database(join(home, "mailbox.sqlite3"), { readonly: true });
  source.exec(`VACUUM INTO '${snapshot.replaceAll("'", "''")}'`);
  source.close();
  const db = new Database(snapshot);
  db.exec(`
    DROP TRIGGER IF EXISTS messages_fts_insert;
    DROP TRIGGER IF EXISTS messages_fts_delete;
    DROP TRIGGER IF EXISTS messages_fts_update;
    DROP TABLE IF EXISTS messages_fts;
    UPDATE agents SET registration_token = '';
    ALTER TABLE message_attachments ADD COLUMN status TEXT;
    ALTER TABLE message_attachments ADD COLUMN path TEXT;
    UPDATE message_attachments SET status = 'inline' WHERE data_base64 IS NOT NULL;
    CREATE TABLE attachment_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
  `);
  const attachments = db
    .prepare("SELECT DISTINCT sha256, media_type FROM message_attachments WHERE data_base64 IS NULL")
    .all() as { sha256: string; media_type: string }[];
  for (const a of attachments) {
    const path = blobRelativePath(a.sha256, a.media_type);
    const blob = join(home, path);
    const setStatus = db.prepare(
      "UPDATE message_attachments SET status = ?, path = ? WHERE sha256 = ? AND media_type = ?",
    );
    if (!/^[0-9a-f]{64}$/.test(a.sha256) || !existsSync(blob)) {
      setStatus.run("missing", null, a.sha256, a.media_type);
    } else if (encrypted) {
      db.prepare("INSERT OR IGNORE INTO attachment_blobs (sha256, media_type, data) VALUES (?, ?, ?)").run(
        a.sha256,
        a.media_type,
        readFileSync(blob),
      );
      setStatus.run("embedded", null, a.sha256, a.media_type);
    } else {
      mkdirSync(dirname(join(out, path)), { recursive: true });
      copyFileSync(blob, join(out, path));
      setStatus.run("file", path, a.sha256, a.media_type);
    }
  }
  db.exec(VIEWER_TABLES);
  db.pragma("journal_mode = DELETE");
  db.exec("VACUUM");
  db.close();
  let payload: Uint8Array = readFileSync(snapshot);
  rmSync(snapshot, { force: true });

  if (encrypted) {
    const e = new Encrypter();
    if (options.passphrase) {
      e.setPassphrase(options.passphrase);
      // Light scrypt keeps the browser tests quick; the format is the same.
      e.setScryptWorkFactor(12);
    }
    for (const r of options.recipients ?? []) e.addRecipient(r);
    payload = await e.encrypt(payload);
  }
  const chunkSize = options.chunkSize ?? 8 * 1024 * 1024;
  const chunks: ManifestFile[] = [];
  for (let i = 0, at = 0; at < payload.length || i === 0; i++, at += chunkSize) {
    const bytes = payload.subarray(at, at + chunkSize);
    const path = chunkPath(i);
    mkdirSync(join(out, dirname(path)), { recursive: true });
    writeFileSync(join(out, path), bytes);
    chunks.push({ path, size: bytes.length, sha256: sha256(bytes) });
  }
  writeFileSync(join(out, BUNDLE_FILES.readme), "# Pigeonhole bundle\n");
  writeFileSync(join(out, BUNDLE_FILES.nojekyll), "");

  const files = listFiles(out)
    .filter((p) => !UNLISTED_FILES.has(p))
    .map((path) => {
      const bytes = readFileSync(join(out, path));
      return { path, size: bytes.length, sha256: sha256(bytes) };
    });
  const counts = new Database(join(home, "mailbox.sqlite3"), { readonly: true });
  const count = (table: string) =>
    (counts.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    format_version: BUNDLE_FORMAT_VERSION,
    generated_at: "2026-03-01T12:00:00.000Z",
    generator: { name: "pigeonhole-test-stand-in", version: "0" },
    database: {
      chunks,
      size: payload.length,
      chunk_size: chunkSize,
      sha256: sha256(payload),
      encrypted,
    },
    encryption: encrypted
      ? {
          format: "age",
          mode: options.passphrase ? "scrypt" : "x25519",
          recipients: options.recipients?.length ?? 0,
        }
      : null,
    scrub: { preset: "standard", redactions: {} },
    pseudonymized: false,
    counts: {
      projects: count("projects"),
      agents: count("agents"),
      messages: count("messages"),
      attachments: count("message_attachments"),
    },
    files,
  };
  counts.close();
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(out, BUNDLE_FILES.manifest), manifestBytes);
  if (options.signKey) {
    const signature: SignatureFile = {
      algorithm: "ed25519",
      signature: Buffer.from(await signAsync(manifestBytes, options.signKey)).toString("base64"),
      manifest_sha256: sha256(manifestBytes),
      public_key: Buffer.from(await getPublicKeyAsync(options.signKey)).toString("base64"),
      generated_at: manifest.generated_at,
    };
    writeFileSync(join(out, BUNDLE_FILES.signature), `${JSON.stringify(signature, null, 2)}\n`);
  }
  return manifest;
}

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { blobRelativePath } from "../../engine/messages/attachment-store.js";

/**
 * The attachments of the snapshot on their way to the bundle. `message_attachments` gains two columns,
 * `status` and `path` (see the README's "Bundle database schema"), and the work copy gains a
 * bookkeeping table `export_blobs` (one row per file blob: where its bytes are now and whether they
 * can go into the bundle), dropped by `placeAttachments`.
 *
 *   inline     the engine's inline images: bytes already in `data_base64`
 *   file       copied into the bundle at `path` (plain bundles)
 *   embedded   bytes in the `attachment_blobs` table (encrypted bundles: nothing private outside the ciphertext)
 *   omitted    larger than the huge threshold (`maxAttachmentBytes`, default 10 MiB): left out
 *   missing    the blob was not in the mailbox's store at export time
 *   withheld   binary content in which a secret pattern (or, when pseudonymizing, an agent name) was
 *              found: it cannot be rewritten, so it is left out
 */

/** Attachments above this many bytes are left out of a bundle (status `omitted`). */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** Media types whose bytes are UTF-8 text that the scrubber and pseudonymizer rewrite. */
export function isTextMedia(mediaType: string): boolean {
  return (
    mediaType.startsWith("text/") ||
    mediaType === "application/json" ||
    mediaType === "image/svg+xml" ||
    /\+(?:json|xml)$/.test(mediaType)
  );
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Add `status`/`path` to `message_attachments` and list every file blob in `export_blobs` with its
 * state: `ok` (exists, at most `maxBytes`), `omitted` (larger) or `missing`. Blob paths are built only
 * from a well-formed sha256 (anything else is `missing`), so a tampered database cannot point the
 * exporter at another file. Returns the number of blobs listed.
 */
export function inventoryAttachments(db: Database.Database, home: string, maxBytes: number): number {
  db.exec(`
    ALTER TABLE message_attachments ADD COLUMN status TEXT;
    ALTER TABLE message_attachments ADD COLUMN path TEXT;
    UPDATE message_attachments SET status = 'inline' WHERE disposition = 'inline' AND data_base64 IS NOT NULL;
    UPDATE message_attachments SET status = 'missing' WHERE disposition = 'inline' AND data_base64 IS NULL;
    CREATE TABLE export_blobs (
      sha256 TEXT NOT NULL,
      media_type TEXT NOT NULL,
      source TEXT,
      bytes INTEGER,
      state TEXT NOT NULL,
      PRIMARY KEY (sha256, media_type)
    ) WITHOUT ROWID;
  `);
  const blobs = db
    .prepare("SELECT DISTINCT sha256, media_type FROM message_attachments WHERE disposition = 'file'")
    .all() as { sha256: string; media_type: string }[];
  const insert = db.prepare(
    "INSERT INTO export_blobs (sha256, media_type, source, bytes, state) VALUES (?, ?, ?, ?, ?)",
  );
  db.transaction(() => {
    for (const { sha256, media_type } of blobs) {
      const source = SHA256.test(sha256) ? join(home, blobRelativePath(sha256, media_type)) : null;
      const size = source === null ? null : fileSize(source);
      const state = size === null ? "missing" : size > maxBytes ? "omitted" : "ok";
      insert.run(sha256, media_type, source, size, state);
    }
  })();
  return blobs.length;
}

function fileSize(path: string): number | null {
  try {
    const info = statSync(path);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

/** What a content pass did to the attachments. */
export interface AttachmentRewriteStats {
  rewritten: number;
  withheld: number;
}

/**
 * Rewrite attachment contents: every available text blob goes through `transform` (a changed blob is
 * written to `workDir/blobs` under its new sha256, and its attachment rows follow it); every binary blob
 * and inline image for which `binaryHit` (given the bytes as latin1) is true becomes `withheld`.
 */
export async function rewriteAttachmentContents(
  db: Database.Database,
  workDir: string,
  transform: (texts: readonly string[]) => string[] | Promise<string[]>,
  binaryHit: (latin1: string) => boolean,
): Promise<AttachmentRewriteStats> {
  const stats: AttachmentRewriteStats = { rewritten: 0, withheld: 0 };
  const blobs = db
    .prepare("SELECT sha256, media_type, source FROM export_blobs WHERE state = 'ok'")
    .all() as { sha256: string; media_type: string; source: string }[];
  for (const blob of blobs) {
    const bytes = readFileSync(blob.source);
    const text = isTextMedia(blob.media_type) ? decodeUtf8(bytes) : null;
    if (text === null) {
      if (binaryHit(bytes.toString("latin1"))) {
        db.prepare("UPDATE export_blobs SET state = 'withheld' WHERE sha256 = ? AND media_type = ?").run(
          blob.sha256,
          blob.media_type,
        );
        stats.withheld++;
      }
      continue;
    }
    const [rewritten] = await transform([text]);
    if (rewritten === undefined || rewritten === text) continue;
    replaceBlob(db, workDir, blob, Buffer.from(rewritten, "utf8"));
    stats.rewritten++;
  }
  const inline = db
    .prepare("SELECT message_id, ordinal, data_base64 FROM message_attachments WHERE status = 'inline'")
    .all() as { message_id: number; ordinal: number; data_base64: string }[];
  const withhold = db.prepare(
    "UPDATE message_attachments SET status = 'withheld', data_base64 = NULL WHERE message_id = ? AND ordinal = ?",
  );
  for (const row of inline) {
    if (binaryHit(Buffer.from(row.data_base64, "base64").toString("latin1"))) {
      withhold.run(row.message_id, row.ordinal);
      stats.withheld++;
    }
  }
  return stats;
}

function replaceBlob(
  db: Database.Database,
  workDir: string,
  blob: { sha256: string; media_type: string },
  bytes: Buffer,
): void {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const dir = join(workDir, "blobs");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const source = join(dir, `${sha256}.blob`);
  writeFileSync(source, bytes, { mode: 0o600 });
  db.transaction(() => {
    db.prepare(
      `INSERT INTO export_blobs (sha256, media_type, source, bytes, state) VALUES (?, ?, ?, ?, 'ok')
       ON CONFLICT (sha256, media_type) DO NOTHING`,
    ).run(sha256, blob.media_type, source, bytes.length);
    db.prepare(
      `UPDATE message_attachments SET sha256 = ?, bytes = ?
       WHERE disposition = 'file' AND sha256 = ? AND media_type = ?`,
    ).run(sha256, bytes.length, blob.sha256, blob.media_type);
    db.prepare("DELETE FROM export_blobs WHERE sha256 = ? AND media_type = ?").run(
      blob.sha256,
      blob.media_type,
    );
  })();
}

/** The UTF-8 text of `bytes`, or null when they are not valid UTF-8 or hold a NUL (then: binary). */
function decodeUtf8(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Delete every attachment (the strict preset). */
export function dropAttachments(db: Database.Database): number {
  const n = db.prepare("SELECT COUNT(*) FROM message_attachments").pluck().get() as number;
  db.exec("DELETE FROM message_attachments; DELETE FROM export_blobs;");
  return n;
}

/** Attachments by final status. */
export interface AttachmentPlacement {
  inline: number;
  file: number;
  embedded: number;
  omitted: number;
  missing: number;
  withheld: number;
  /** Bytes copied into the bundle or embedded in the database. */
  bytes: number;
}

/**
 * Give every attachment its final status and put the available blobs where the bundle keeps them: with
 * `bundleDir`, copied to `attachments/<ab>/<sha256><ext>` in it (status `file`, `path` set); without,
 * embedded into `attachment_blobs(sha256 PRIMARY KEY, media_type, data)` (status `embedded`). Drops
 * `export_blobs`. Guarantees: every attachment row has a status, and a `file` row's `path` exists in
 * the bundle with exactly the bytes of its sha256.
 */
export function placeAttachments(db: Database.Database, bundleDir: string | null): AttachmentPlacement {
  const blobs = db.prepare("SELECT sha256, media_type, source, bytes, state FROM export_blobs").all() as {
    sha256: string;
    media_type: string;
    source: string | null;
    bytes: number | null;
    state: "ok" | "omitted" | "missing" | "withheld";
  }[];
  let bytes = 0;
  db.transaction(() => {
    if (bundleDir === null) {
      db.exec(
        "CREATE TABLE attachment_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID",
      );
    }
    const setStatus = db.prepare(
      `UPDATE message_attachments SET status = ?, path = ?
       WHERE disposition = 'file' AND sha256 = ? AND media_type = ?`,
    );
    const embed =
      bundleDir === null
        ? db.prepare(
            "INSERT INTO attachment_blobs (sha256, media_type, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
          )
        : null;
    for (const blob of blobs) {
      if (blob.state !== "ok" || blob.source === null) {
        setStatus.run(blob.state, null, blob.sha256, blob.media_type);
        continue;
      }
      const data = readFileSync(blob.source);
      if (createHash("sha256").update(data).digest("hex") !== blob.sha256) {
        // The store's file no longer matches its name (corrupted on disk): not the attachment we list.
        setStatus.run("missing", null, blob.sha256, blob.media_type);
        continue;
      }
      bytes += data.length;
      if (embed !== null) {
        embed.run(blob.sha256, blob.media_type, data);
        setStatus.run("embedded", null, blob.sha256, blob.media_type);
      } else {
        const path = blobRelativePath(blob.sha256, blob.media_type);
        mkdirSync(join(bundleDir as string, path, ".."), { recursive: true });
        writeFileSync(join(bundleDir as string, path), data);
        setStatus.run("file", path, blob.sha256, blob.media_type);
      }
    }
    db.exec(
      "UPDATE message_attachments SET status = 'missing' WHERE status IS NULL; DROP TABLE export_blobs;",
    );
  })();
  const counts = Object.fromEntries(
    (
      db.prepare("SELECT status, COUNT(*) AS n FROM message_attachments GROUP BY status").all() as {
        status: string;
        n: number;
      }[]
    ).map((row) => [row.status, row.n]),
  );
  return {
    inline: counts.inline ?? 0,
    file: counts.file ?? 0,
    embedded: counts.embedded ?? 0,
    omitted: counts.omitted ?? 0,
    missing: counts.missing ?? 0,
    withheld: counts.withheld ?? 0,
    bytes,
  };
}

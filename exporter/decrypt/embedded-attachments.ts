import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { blobRelativePath } from "../../engine/messages/attachment-store.js";
import type { ManifestFile } from "../bundle-format.js";

/**
 * An encrypted bundle keeps its attachments inside the database (table `attachment_blobs(sha256,
 * media_type, data)`, rows of `message_attachments` with status `embedded`), so that nothing private lies
 * outside the ciphertext. A plain bundle keeps them as files. This moves them out, as a plain export
 * would have placed them: each blob becomes `attachments/<ab>/<sha256><ext>` in `bundleDir`, its rows
 * get status `file` and that `path`, the table is dropped and the database vacuumed. A blob whose bytes
 * do not match its sha256 is not written and its rows become `missing`. A database without the table
 * is left untouched. Returns the files written, sorted by path.
 */
export function extractEmbeddedAttachments(databaseFile: string, bundleDir: string): ManifestFile[] {
  const db = new Database(databaseFile);
  try {
    const hasTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attachment_blobs'")
      .get();
    if (!hasTable) return [];
    const files = new Map<string, ManifestFile>();
    const setStatus = db.prepare(
      "UPDATE message_attachments SET status = ?, path = ? WHERE status = 'embedded' AND sha256 = ? AND media_type = ?",
    );
    // Keys first, then one blob at a time: the statement updating rows cannot run inside an iteration.
    const keys = db.prepare("SELECT sha256, media_type FROM attachment_blobs").all() as {
      sha256: string;
      media_type: string;
    }[];
    const blob = db.prepare("SELECT data FROM attachment_blobs WHERE sha256 = ? AND media_type = ?");
    db.transaction(() => {
      for (const key of keys) {
        const row = { ...key, data: (blob.get(key.sha256, key.media_type) as { data: Buffer }).data };
        const actual = createHash("sha256").update(row.data).digest("hex");
        // The sha256 also names the file: only a well-formed, matching one may become a path.
        if (!/^[0-9a-f]{64}$/.test(row.sha256) || actual !== row.sha256) {
          setStatus.run("missing", null, row.sha256, row.media_type);
          continue;
        }
        const path = blobRelativePath(row.sha256, row.media_type);
        if (!files.has(path)) {
          mkdirSync(dirname(join(bundleDir, path)), { recursive: true });
          writeFileSync(join(bundleDir, path), row.data, { flag: "wx" });
          files.set(path, { path, size: row.data.length, sha256: actual });
        }
        setStatus.run("file", path, row.sha256, row.media_type);
      }
      db.exec("DROP TABLE attachment_blobs");
    })();
    db.exec("VACUUM");
    return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  } finally {
    db.close();
  }
}

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
 * format (exporter/bundle-format.ts) around a mailbox home, with the viewer's build copied in. The
 * finalize step mirrors what the viewer needs: FTS5 replaced by an FTS4 table `messages_fts4`
 * (docid = message id), registration tokens removed, journal_mode=DELETE, VACUUM.
 */

export const VIEWER_DIST = join(import.meta.dirname, "../../viewer/dist");

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
    CREATE VIRTUAL TABLE messages_fts4 USING fts4(subject, body_md, tokenize=unicode61);
    INSERT INTO messages_fts4 (docid, subject, body_md) SELECT id, subject, body_md FROM messages;
  `);
  const attachments = db
    .prepare("SELECT DISTINCT sha256, media_type FROM message_attachments WHERE data_base64 IS NULL")
    .all() as {
    sha256: string;
    media_type: string;
  }[];
  for (const a of attachments) {
    const blob = join(home, blobRelativePath(a.sha256, a.media_type));
    if (!existsSync(blob)) continue;
    if (encrypted) {
      // Encrypted bundles keep attachments inside the (encrypted) database.
      db.prepare("UPDATE message_attachments SET data_base64 = ? WHERE sha256 = ?").run(
        readFileSync(blob).toString("base64"),
        a.sha256,
      );
    } else {
      const target = join(out, blobRelativePath(a.sha256, a.media_type));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(blob, target);
    }
  }
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

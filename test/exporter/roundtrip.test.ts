import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import type Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { chunkPath, type ScrubPreset } from "../../exporter/bundle-format.js";
import { decryptBundle } from "../../exporter/decrypt/decrypt.js";
import { exportBundle } from "../../exporter/export.js";
import { generateKeyFiles, parsePublicKey } from "../../exporter/keys.js";
import { STRICT_BODY } from "../../exporter/pipeline/scrub.js";
import { openBundle } from "../../exporter/verify/open.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import {
  bundleFiles,
  concatenatedChunks,
  databaseBytes,
  decryptWithAgeBinary,
  openBetterSqlite,
  openSqlJs,
  readManifest,
  type SampleMailbox,
  sampleMailbox,
  sqlJsRows,
  tempDir,
} from "./helpers.js";

/**
 * Export (signed) → verify → (decrypt → verify) → open: every preset, plain and encrypted, one chunk
 * and many; the database must open with better-sqlite3 and with sql.js (as the viewer does) and hold
 * the expected rows.
 */

let sample: SampleMailbox;
let identity: string;
let recipient: string;
let signKeyFile: string;
let publicKey: Uint8Array;

beforeAll(async () => {
  sample = await sampleMailbox(true);
  identity = await generateX25519Identity();
  recipient = await identityToRecipient(identity);
  signKeyFile = join(tempDir("ph-key-", true), "bundle-key");
  const key = await generateKeyFiles(signKeyFile);
  publicKey = parsePublicKey(key.publicKey, "test key");
});

/** The bundle verifies against the test key (signed) or as an unsigned bundle. */
async function expectVerifies(path: string, signed: boolean): Promise<void> {
  const result = await verifyBundle(await openBundle(path), signed ? { publicKey } : { allowUnsigned: true });
  expect(result.problems).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.signed).toBe(signed);
}

/** Check the rows every preset must keep: structure, threads, recipients, viewer tables, no FTS5. */
function checkCommonRows(db: Database.Database): void {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  expect(count("SELECT COUNT(*) FROM projects")).toBe(2);
  expect(count("SELECT COUNT(*) FROM agents")).toBe(5);
  expect(count("SELECT COUNT(*) FROM messages")).toBe(
    sample.appMessages.length + sample.otherMessages.length,
  );
  expect(count("SELECT COUNT(*) FROM message_recipients")).toBe(8);
  expect(count("SELECT COUNT(*) FROM file_reservations")).toBe(2);
  expect(count("SELECT COUNT(*) FROM agent_links")).toBe(1);
  expect(count("SELECT COUNT(*) FROM sqlite_schema WHERE sql LIKE '%fts5%' OR type = 'trigger'")).toBe(0);
  expect(count("SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE 'archive%' OR name LIKE 'export%'")).toBe(
    0,
  );
  expect(db.pragma("journal_mode", { simple: true })).toBe("delete");
  expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  expect(db.pragma("foreign_key_check")).toEqual([]);
  const reply = db
    .prepare("SELECT thread_id, reply_to, subject FROM messages WHERE reply_to IS NOT NULL")
    .get();
  expect(reply).toEqual({
    thread_id: String(sample.appMessages[0]),
    reply_to: sample.appMessages[0],
    subject: "Re: Parser refactor plan",
  });
  const first = db
    .prepare("SELECT kind FROM message_recipients WHERE message_id = ? ORDER BY ordinal, kind")
    .pluck()
    .all(sample.appMessages[0]);
  expect(first.sort()).toEqual(["cc", "to"]);
  const overview = db.prepare("SELECT * FROM viewer_overview").get() as Record<string, number>;
  expect(overview).toMatchObject({
    projects: 2,
    agents: 5,
    messages: 6,
    threads: 5,
    recipients: 8,
    reservations: 2,
  });
  const thread = db
    .prepare("SELECT messages, participants, root_message_id FROM viewer_threads WHERE thread_key = ?")
    .get(String(sample.appMessages[0]));
  expect(thread).toEqual({ messages: 2, participants: "[1,2,3]", root_message_id: sample.appMessages[0] });
  const activity = db.prepare("SELECT SUM(messages) FROM viewer_activity").pluck().get();
  expect(activity).toBe(6);
  const agents = db.prepare("SELECT COUNT(*) FROM viewer_agents").pluck().get();
  expect(agents).toBe(5);
  const meta = Object.fromEntries(
    (db.prepare("SELECT key, value FROM viewer_meta").all() as { key: string; value: string }[]).map((r) => [
      r.key,
      r.value,
    ]),
  );
  expect(meta.schema_version).toBe("1");
  const columns = (db.prepare("PRAGMA table_info(agents)").all() as { name: string }[]).map((c) => c.name);
  expect(columns).not.toContain("registration_token");
}

/** The two file attachments are copied into the bundle, each at its path with its sha256 and size. */
function checkCopiedAttachments(db: Database.Database, bundle: string): void {
  const files = db
    .prepare("SELECT path, sha256, bytes FROM message_attachments WHERE status = 'file' ORDER BY path")
    .all() as { path: string; sha256: string; bytes: number }[];
  expect(files.length).toBe(2);
  for (const file of files) {
    const content = readFileSync(join(bundle, file.path));
    expect(createHash("sha256").update(content).digest("hex")).toBe(file.sha256);
    expect(content.length).toBe(file.bytes);
  }
}

/** Per-preset expectations on content. */
function checkPreset(db: Database.Database, preset: ScrubPreset): void {
  const body = db.prepare("SELECT body_md FROM messages WHERE id = ?").pluck().get(sample.appMessages[0]);
  const payload = db.prepare("SELECT payload FROM messages WHERE id = ?").pluck().get(sample.appMessages[0]);
  const key = db.prepare("SELECT human_key FROM projects WHERE slug = ?").pluck().get(sample.appSlug);
  const attachments = db.prepare("SELECT COUNT(*) FROM message_attachments").pluck().get();
  if (preset === "strict") {
    expect(body).toBe(STRICT_BODY);
    expect(payload).toBeNull();
    expect(attachments).toBe(0);
  } else {
    expect(body).toBe("Quillfeather, the tokenizer needs a rewrite. Marmaduke please review.");
    expect(JSON.parse(payload as string)).toEqual({ files: ["src/parser.ts"], owner: "Zanzibar" });
    expect(attachments).toBe(3);
  }
  expect(key).toBe(preset === "archive" ? sample.appDir : sample.appSlug);
}

async function sqlJsChecks(bytes: Buffer, preset: ScrubPreset): Promise<void> {
  const db = await openSqlJs(bytes);
  const hits = sqlJsRows(db, "SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ? ORDER BY docid", [
    "refactor",
  ]);
  expect(hits.map((r) => r.docid)).toEqual(sample.appMessages.slice(0, 2));
  const body = sqlJsRows(db, "SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ?", ["tokeniz*"]);
  expect(body.length).toBe(preset === "strict" ? 0 : 1);
  const phrase = sqlJsRows(db, "SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ?", [
    '"release checklist" OR maintenance',
  ]);
  expect(phrase.length).toBe(2);
  const not = sqlJsRows(db, "SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ?", [
    "gateway NOT maintenance",
  ]);
  expect(not.length).toBe(preset === "strict" ? 0 : 2);
  const snippet = sqlJsRows(
    db,
    "SELECT snippet(messages_fts4, '[', ']') AS s FROM messages_fts4 WHERE messages_fts4 MATCH 'maintenance'",
  );
  expect(String(snippet[0]?.s)).toContain("[maintenance]");
  const inbox = sqlJsRows(
    db,
    `SELECT m.id FROM message_recipients r JOIN messages m ON m.id = r.message_id
     WHERE r.agent_id = (SELECT id FROM agents WHERE name = 'Zanzibar') ORDER BY m.id DESC`,
  );
  expect(inbox.length).toBe(2);
}

describe("round trip", () => {
  for (const preset of ["standard", "strict", "archive"] as const) {
    for (const chunkSize of [64 * 1024, undefined]) {
      const label = `${preset}, ${chunkSize ? "64 KiB chunks" : "one chunk"}`;

      it(`${label}, plain`, async () => {
        const out = join(tempDir(), "bundle");
        const summary = await exportBundle({
          home: sample.home,
          out,
          scrub: preset,
          chunkSize,
          viewerDir: null,
        });
        const manifest = readManifest(out);
        expect(manifest.database.encrypted).toBe(false);
        expect(manifest.encryption).toBeNull();
        expect(manifest.database.chunks.length).toBe(summary.chunks);
        if (chunkSize) {
          expect(summary.chunks).toBeGreaterThan(1);
          for (const chunk of manifest.database.chunks.slice(0, -1)) expect(chunk.size).toBe(chunkSize);
        } else {
          expect(manifest.database.chunks.map((c) => c.path)).toEqual([chunkPath(0)]);
        }
        const bytes = await databaseBytes(out);
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(manifest.database.sha256);
        expect(bytes.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
        const db = openBetterSqlite(bytes);
        checkCommonRows(db);
        checkPreset(db, preset);
        await sqlJsChecks(bytes, preset);
        if (preset !== "strict") {
          checkCopiedAttachments(db, out);
          const inline = db
            .prepare(
              "SELECT status, data_base64 IS NOT NULL AS has FROM message_attachments WHERE disposition = 'inline'",
            )
            .get();
          expect(inline).toEqual({ status: "inline", has: 1 });
        }
      });

      it(`${label}, encrypted to an age recipient`, async () => {
        const out = join(tempDir(), "bundle");
        await exportBundle({
          home: sample.home,
          out,
          scrub: preset,
          chunkSize,
          recipients: [recipient],
          viewerDir: null,
        });
        const manifest = readManifest(out);
        expect(manifest.database.encrypted).toBe(true);
        expect(manifest.encryption).toEqual({ format: "age", mode: "x25519", recipients: 1 });
        expect(concatenatedChunks(out).subarray(0, 21).toString("latin1")).toBe("age-encryption.org/v1");
        const bytes = await databaseBytes(out, { identity });
        expect(decryptWithAgeBinary(out, identity).equals(bytes)).toBe(true);
        const db = openBetterSqlite(bytes);
        checkCommonRows(db);
        checkPreset(db, preset);
        await sqlJsChecks(bytes, preset);
        // Everything private is inside the ciphertext: no attachment file next to it.
        expect([...bundleFiles(out).keys()].filter((p) => p.startsWith("attachments/"))).toEqual([]);
        // pigeonhole decrypt turns it into a plain bundle that verifies and holds the same database.
        const plain = join(tempDir(), "plain");
        await decryptBundle(await openBundle(out), { out: plain, secret: { identities: [identity] } });
        await expectVerifies(plain, false);
        const plainDb = openBetterSqlite(await databaseBytes(plain));
        checkCommonRows(plainDb);
        checkPreset(plainDb, preset);
        if (preset !== "strict") checkCopiedAttachments(plainDb, plain);
        if (preset !== "strict") {
          const embedded = db
            .prepare(
              `SELECT a.sha256, b.data FROM message_attachments a JOIN attachment_blobs b ON b.sha256 = a.sha256
               WHERE a.status = 'embedded'`,
            )
            .all() as { sha256: string; data: Buffer }[];
          expect(embedded.length).toBe(2);
          for (const row of embedded)
            expect(createHash("sha256").update(row.data).digest("hex")).toBe(row.sha256);
        }
      });
    }
  }

  it("passphrase encryption decrypts with the passphrase only", async () => {
    const dir = tempDir();
    const passphraseFile = join(dir, "pass.txt");
    writeFileSync(passphraseFile, "correct horse battery staple\n");
    const out = join(dir, "bundle");
    await exportBundle({ home: sample.home, out, passphraseFile, viewerDir: null });
    expect(readManifest(out).encryption).toEqual({ format: "age", mode: "scrypt", recipients: 0 });
    const bytes = await databaseBytes(out, { passphrase: "correct horse battery staple" });
    checkCommonRows(openBetterSqlite(bytes));
    await expect(databaseBytes(out, { passphrase: "wrong" })).rejects.toThrow();
  });

  it("several recipients can each decrypt", async () => {
    const other = await generateX25519Identity();
    const out = join(tempDir(), "bundle");
    await exportBundle({
      home: sample.home,
      out,
      recipients: [recipient, await identityToRecipient(other)],
      viewerDir: null,
    });
    expect(readManifest(out).encryption?.recipients).toBe(2);
    const a = await databaseBytes(out, { identity });
    const b = decryptWithAgeBinary(out, other);
    expect(a.equals(b)).toBe(true);
  });

  it("a zip holds exactly the files of the directory bundle, byte for byte", async () => {
    const dir = tempDir();
    const plain = join(dir, "bundle");
    const zipped = join(dir, "bundle.zip");
    const viewer = join(dir, "viewer");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(viewer, "_astro"), { recursive: true });
    writeFileSync(join(viewer, "index.html"), "<!doctype html><title>viewer</title>");
    writeFileSync(join(viewer, "_astro", "app.js"), "console.log('viewer');");
    const now = () => new Date("2026-03-01T00:00:00.000Z");
    const a = await exportBundle({ home: sample.home, out: plain, viewerDir: viewer, now });
    const b = await exportBundle({ home: sample.home, out: zipped, viewerDir: viewer, now, zip: true });
    expect(a.viewer).toBe(true);
    expect(b.format).toBe("zip");
    expect(statSync(zipped).isFile()).toBe(true);
    expect(b.bytes.zip).toBe(statSync(zipped).size);
    await expectVerifies(zipped, false);
    const fromDir = bundleFiles(plain);
    const fromZip = bundleFiles(zipped);
    expect([...fromZip.keys()].sort()).toEqual([...fromDir.keys()].sort());
    const manifest = readManifest(plain);
    expect(manifest.files.map((f) => f.path)).toContain("_astro/app.js");
    for (const [path, bytes] of fromDir) {
      expect(Buffer.from(fromZip.get(path)!).equals(Buffer.from(bytes)), path).toBe(true);
    }
  });
});

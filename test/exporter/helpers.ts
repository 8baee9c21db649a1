import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { Decrypter } from "age-encryption";
import Database from "better-sqlite3";
import { unzipSync } from "fflate";
import sharp from "sharp";
import initSqlJs, { type Database as SqlJsDatabase } from "sql.js";
import { afterAll, onTestFinished } from "vitest";
import {
  ensureProject,
  fileReservationPaths,
  type Mailbox,
  openMailbox,
  registerAgent,
  replyMessage,
  requestContact,
  sendMessage,
  setContactPolicy,
} from "../../engine/index.js";
import { BUNDLE_FILES, type Manifest } from "../../exporter/bundle-format.js";

/** A temp directory removed after the test (or, with `suite`, after the file's tests: call it in beforeAll). */
export function tempDir(prefix = "ph-export-", suite = false): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (suite) afterAll(remove);
  else onTestFinished(remove);
  return dir;
}

/** A small but complete mailbox built through the engine. */
export interface SampleMailbox {
  home: string;
  /** The directory that is project `app`'s human key (attachments are read from it). */
  appDir: string;
  appSlug: string;
  otherSlug: string;
  /** Agent names: app has Zanzibar, Quillfeather, Marmaduke; other has Oberon (open to cross-project mail) and Titania. */
  names: string[];
  /** Ids of messages in project app. */
  appMessages: number[];
  /** Ids of messages in project other. */
  otherMessages: number[];
}

const PNG_PIXELS = { width: 8, height: 8, channels: 3 as const, background: { r: 200, g: 10, b: 10 } };

/**
 * Build a mailbox: two projects (`app`, whose human key is a real directory, and `other`), four
 * agents, messages with cc/bcc, a reply thread, a topic, a payload, a text attachment, an inline image
 * and a binary file, a cross-project message, a contact request and file reservations. Closed on return.
 */
export async function sampleMailbox(suite = false): Promise<SampleMailbox> {
  const root = tempDir("ph-export-", suite);
  const home = join(root, "home");
  const appDir = join(root, "work", "app");
  mkdirSync(appDir, { recursive: true });
  writeFileSync(join(appDir, "notes.md"), "# Notes\n\nZanzibar wrote the parser; see src/parser.ts.\n");
  writeFileSync(join(appDir, "blob.bin"), Buffer.from([0, 1, 2, 3, 254, 255, 0, 7]));
  await sharp({ create: PNG_PIXELS }).png().toFile(join(appDir, "shot.png"));
  const mb = openMailbox({ home, archive: false });
  try {
    const app = ensureProject(mb, { human_key: appDir });
    const other = ensureProject(mb, { human_key: "/srv/other-project" });
    for (const name of ["Zanzibar", "Quillfeather", "Marmaduke"]) {
      registerAgent(mb, {
        project_key: app.slug,
        program: "claude-code",
        model: "opus",
        name,
        task_description: `${name} works on the parser`,
      });
    }
    registerAgent(mb, { project_key: other.slug, program: "codex-cli", model: "gpt-5", name: "Oberon" });
    registerAgent(mb, {
      project_key: other.slug,
      program: "gemini-cli",
      model: "gemini-2.5-pro",
      name: "Titania",
    });
    setContactPolicy(mb, { project_key: other.slug, agent_name: "Oberon", policy: "open" });
    const send = (input: Parameters<typeof sendMessage>[1]) => sendMessage(mb, input);
    const first = await send({
      project_key: app.slug,
      sender_name: "Zanzibar",
      to: ["Quillfeather"],
      cc: ["Marmaduke"],
      subject: "Parser refactor plan",
      body_md: "Quillfeather, the tokenizer needs a rewrite. Marmaduke please review.",
      topic: "parser",
      payload: { files: ["src/parser.ts"], owner: "Zanzibar" },
      attachment_paths: ["notes.md", "shot.png", "blob.bin"],
      ack_required: true,
    });
    const firstId = first.deliveries[0]!.payload.id;
    const reply = await replyMessage(mb, {
      project_key: app.slug,
      message_id: firstId,
      sender_name: "Quillfeather",
      body_md: "On it, Zanzibar. The lexer tests are green.",
    });
    const secret = await send({
      project_key: app.slug,
      sender_name: "Marmaduke",
      to: ["Zanzibar"],
      bcc: ["Quillfeather"],
      subject: "Release checklist",
      body_md: "The release needs the changelog and the migration notes.",
      importance: "high",
    });
    const cross = await send({
      project_key: app.slug,
      sender_name: "Zanzibar",
      to: [`Oberon@${other.slug}`],
      subject: "Cross-project question",
      body_md: "Oberon, does the gateway accept the new header?",
    });
    await requestContact(mb, {
      project_key: app.slug,
      from_agent: "Marmaduke",
      to_agent: "Oberon",
      to_project: other.slug,
      reason: "Coordinate the gateway release",
    });
    const otherOnly = await send({
      project_key: other.slug,
      sender_name: "Oberon",
      to: ["Titania"],
      subject: "Gateway maintenance window",
      body_md: "Gateway goes down at noon.",
    });
    fileReservationPaths(mb, {
      project_key: app.slug,
      agent_name: "Quillfeather",
      paths: ["src/parser/**"],
      reason: "Rewriting the tokenizer",
    });
    fileReservationPaths(mb, {
      project_key: other.slug,
      agent_name: "Oberon",
      paths: ["gateway/**"],
      reason: "Maintenance",
    });
    const messageIds = (project: number) =>
      mb.db
        .prepare("SELECT id FROM messages WHERE project_id = ? ORDER BY id")
        .pluck()
        .all(project) as number[];
    void reply;
    void secret;
    void cross;
    void otherOnly;
    return {
      home,
      appDir,
      appSlug: app.slug,
      otherSlug: other.slug,
      names: ["Zanzibar", "Quillfeather", "Marmaduke", "Oberon", "Titania"],
      appMessages: messageIds(app.id),
      otherMessages: messageIds(other.id),
    };
  } finally {
    await mb.close();
  }
}

/** Open a mailbox in `home` (archive off), closed after the test. */
export function openTestMailbox(home: string): Mailbox {
  const mb = openMailbox({ home, archive: false });
  onTestFinished(() => mb.close());
  return mb;
}

/** The bundle's manifest. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, BUNDLE_FILES.manifest), "utf8")) as Manifest;
}

/** The chunks of the bundle's database, concatenated in manifest order (ciphertext when encrypted). */
export function concatenatedChunks(dir: string): Buffer {
  const manifest = readManifest(dir);
  return Buffer.concat(manifest.database.chunks.map((c) => readFileSync(join(dir, c.path))));
}

/** The plain database bytes of a bundle: decrypted with age-encryption when encrypted. */
export async function databaseBytes(
  dir: string,
  secret: { identity?: string; passphrase?: string } = {},
): Promise<Buffer> {
  const bytes = concatenatedChunks(dir);
  if (!readManifest(dir).database.encrypted) return bytes;
  const decrypter = new Decrypter();
  if (secret.identity) decrypter.addIdentity(secret.identity);
  if (secret.passphrase) decrypter.addPassphrase(secret.passphrase);
  return Buffer.from(await decrypter.decrypt(bytes));
}

/** Decrypt a bundle's database with the real `age` binary: `cat db/chunk-* | age -d -i identity`. */
export function decryptWithAgeBinary(dir: string, identity: string): Buffer {
  const keyFile = join(tempDir("ph-age-"), "key.txt");
  writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
  return execFileSync("sh", ["-c", `cat "${dir}"/db/chunk-* | age -d -i "${keyFile}"`], {
    maxBuffer: 1 << 30,
  });
}

/** Write `bytes` to a temp file and open it read-only with better-sqlite3 (closed after the test). */
export function openBetterSqlite(bytes: Buffer): Database.Database {
  const file = join(tempDir("ph-db-"), "bundle.sqlite3");
  writeFileSync(file, bytes);
  const db = new Database(file, { readonly: true });
  onTestFinished(() => {
    db.close();
  });
  return db;
}

let sqlJs: Awaited<ReturnType<typeof initSqlJs>> | null = null;

/** Open `bytes` with sql.js, as the viewer does (closed after the test). */
export async function openSqlJs(bytes: Buffer): Promise<SqlJsDatabase> {
  sqlJs ??= await initSqlJs();
  const db = new sqlJs.Database(new Uint8Array(bytes));
  onTestFinished(() => db.close());
  return db;
}

/** Rows of a sql.js query as objects. */
export function sqlJsRows(
  db: SqlJsDatabase,
  sql: string,
  params: (string | number)[] = [],
): Record<string, unknown>[] {
  const statement = db.prepare(sql);
  statement.bind(params);
  const rows: Record<string, unknown>[] = [];
  while (statement.step()) rows.push(statement.getAsObject());
  statement.free();
  return rows;
}

/** Every file of a bundle directory (or of a zip, unpacked), as path → bytes. */
export function bundleFiles(path: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  if (statSync(path).isFile()) {
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(path)))) files.set(name, bytes);
    return files;
  }
  for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(path, full).split(sep).join("/"), readFileSync(full));
  }
  return files;
}

/** The paths of `files` whose bytes contain `needle` (UTF-8). */
export function filesContaining(files: Map<string, Uint8Array>, needle: string): string[] {
  const bytes = Buffer.from(needle, "utf8");
  return [...files].filter(([, content]) => Buffer.from(content).includes(bytes)).map(([path]) => path);
}

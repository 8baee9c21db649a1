import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chunkPath, type Manifest } from "../../exporter/bundle-format.js";
import { signingKeyFromSeed } from "../../exporter/keys.js";
import { STAGING_PREFIX } from "../../exporter/pipeline/staging.js";
import { ageEncrypt, writeBundle } from "../../fixtures/bundle-builder.js";
import {
  buildVectorDatabase,
  VECTOR_ATTACHMENT_PATH,
  VECTOR_MESSAGES,
  VECTOR_VIEWER_FILES,
} from "../../fixtures/bundle-vectors.js";
import { killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace } from "./bundles.js";

/**
 * decrypt: encrypted vectors become plain bundles that verify, with the real `age` binary on both sides
 * of the interop; a wrong secret or a damaged input writes nothing.
 */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
beforeAll(async () => {
  ws = await vectorWorkspace("decrypt");
});
afterAll(() => ws?.cleanup());
afterEach(killAll);

const readManifest = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;

function concatenatedChunks(dir: string): Buffer {
  return Buffer.concat(readManifest(dir).database.chunks.map((c) => readFileSync(join(dir, c.path))));
}

/** Open `bytes` as a real SQLite file and run `read` on it. */
function withDatabase<T>(bytes: Buffer, read: (db: Database.Database) => T): T {
  const file = join(ws.root, `db-${Date.now()}-${Math.random()}.sqlite3`);
  writeFileSync(file, bytes);
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const messagesIn = (db: Database.Database) =>
  db.prepare("SELECT id, sender, subject, body FROM messages ORDER BY id").all();
const tablesIn = (db: Database.Database) =>
  (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((t) => t.name);

/** The rows of the `messages` table of the plain bundle at `dir`. */
function messagesOf(dir: string) {
  return withDatabase(concatenatedChunks(dir), messagesIn);
}

/** Entries of `dir`'s parent that are staging leftovers of a decrypt into `dir`. */
function leftovers(dir: string): string[] {
  return readdirSync(dirname(dir)).filter((name) => name.startsWith(STAGING_PREFIX));
}

async function decrypt(vector: string, secretArgs: string[], extra: string[] = []) {
  const out = ws.path(`plain-${vector}`);
  const run = await runCli(["decrypt", ws.vector(vector).dir, "--out", out, ...secretArgs, ...extra]);
  return { out, run };
}

describe("pigeonhole decrypt", () => {
  it("turns the x25519 vector into a plain bundle that verifies and holds the database", async () => {
    const { out, run } = await decrypt("encrypted-x25519", ["--identity", ws.vectors.keys.ageIdentityFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^decrypted: .*unsigned/);
    const manifest = readManifest(out);
    expect(manifest.encryption).toBeNull();
    expect(manifest.database.encrypted).toBe(false);
    expect(manifest.database.chunk_size).toBe(
      readManifest(ws.vector("encrypted-x25519").dir).database.chunk_size,
    );
    expect(manifest.database.chunks.length).toBeGreaterThanOrEqual(2);
    expect(messagesOf(out)).toEqual(VECTOR_MESSAGES.map((m) => ({ ...m })));
    for (const [path, content] of Object.entries(VECTOR_VIEWER_FILES)) {
      expect(readFileSync(join(out, path), "utf8")).toBe(content);
    }
    expect(existsSync(join(out, "manifest.sig.json"))).toBe(false);
    // The attachment embedded in the encrypted database is a file again, where a plain export puts it.
    expect(readFileSync(join(out, VECTOR_ATTACHMENT_PATH), "utf8")).toBe(
      "An attachment of the bundle vectors.\n",
    );
    withDatabase(concatenatedChunks(out), (db) => {
      expect(tablesIn(db)).not.toContain("attachment_blobs");
      expect(db.prepare("SELECT status, path FROM message_attachments").all()).toEqual([
        { status: "file", path: VECTOR_ATTACHMENT_PATH },
      ]);
    });
    const nonChunks = (dir: string) =>
      readManifest(dir)
        .files.map((f) => f.path)
        .filter((p) => !p.startsWith("db/"));
    expect(nonChunks(out)).toEqual(nonChunks(ws.vector("good-unsigned").dir));
    expect(run.stdout).toContain("1 attachments");
    const verify = await runCli(["verify", out, "--allow-unsigned"]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(leftovers(out)).toEqual([]);
  });

  it("turns the passphrase vector into a plain bundle; --sign-key signs it", async () => {
    const { out, run } = await decrypt(
      "encrypted-passphrase",
      ["--passphrase-file", ws.vectors.keys.passphraseFile],
      ["--sign-key", ws.vectors.keys.signing.file],
    );
    expect(run.code, run.stderr).toBe(0);
    expect(messagesOf(out)).toEqual(VECTOR_MESSAGES.map((m) => ({ ...m })));
    const verify = await runCli(["verify", out, "--public-key", ws.vectors.keys.signing.publicKey]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain("pinned");
  });

  it("the real age binary decrypts the concatenated chunks of our ciphertext (cat db/* | age -d -i)", async () => {
    const dir = ws.vector("encrypted-x25519").dir;
    const plain = execFileSync("sh", ["-c", `cat db/* | age -d -i '${ws.vectors.keys.ageIdentityFile}'`], {
      cwd: dir,
    });
    expect(plain.subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
    withDatabase(plain, (db) => {
      expect(messagesIn(db)).toEqual(VECTOR_MESSAGES.map((m) => ({ ...m })));
      expect(tablesIn(db)).toContain("attachment_blobs");
    });
  });

  it("the real age binary decrypts the passphrase vector (typed on a terminal, which `script` provides)", async () => {
    const work = ws.path("age-scrypt");
    mkdirSync(work);
    writeFileSync(join(work, "db.age"), concatenatedChunks(ws.vector("encrypted-passphrase").dir));
    // age reads a passphrase only from a terminal; `script` runs it on a pseudo-terminal fed from stdin.
    const typed = spawnSync("script", ["-qec", "age -d -o db.sqlite3 db.age", "/dev/null"], {
      cwd: work,
      input: `${ws.vectors.keys.passphrase}\n`,
      timeout: 30_000,
    });
    expect(typed.status, String(typed.stdout)).toBe(0);
    withDatabase(readFileSync(join(work, "db.sqlite3")), (db) => {
      expect(messagesIn(db)).toEqual(VECTOR_MESSAGES.map((m) => ({ ...m })));
    });
  });

  it("decrypts a bundle whose ciphertext the real age binary made (age -r)", async () => {
    const work = ws.path("age-r");
    mkdirSync(work, { recursive: true });
    const database = await buildVectorDatabase(work);
    writeFileSync(join(work, "db.sqlite3"), database);
    const encrypted = spawnSync("age", ["-r", ws.vectors.keys.ageRecipient, "-o", "db.age", "db.sqlite3"], {
      cwd: work,
    });
    expect(encrypted.status, String(encrypted.stderr)).toBe(0);
    const bundle = join(work, "bundle");
    await writeBundle(bundle, {
      payload: new Uint8Array(readFileSync(join(work, "db.age"))),
      encryption: { format: "age", mode: "x25519", recipients: 1 },
      chunkSize: 4096,
      files: VECTOR_VIEWER_FILES,
    });
    const out = join(work, "plain");
    const run = await runCli([
      "decrypt",
      bundle,
      "--out",
      out,
      "--identity",
      ws.vectors.keys.ageIdentityFile,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(concatenatedChunks(out).equals(Buffer.from(database))).toBe(true);
  });

  it("a wrong identity or passphrase fails with one line and writes nothing", async () => {
    const wrongIdentity = join(ws.root, "wrong-identity.txt");
    writeFileSync(wrongIdentity, `${execFileSync("age-keygen", { stdio: ["ignore", "pipe", "ignore"] })}`);
    const wrongPassphrase = join(ws.root, "wrong-passphrase.txt");
    writeFileSync(wrongPassphrase, "not the passphrase\n");
    const cases: [string, string[], RegExp][] = [
      [
        "encrypted-x25519",
        ["--identity", wrongIdentity],
        /^error: Wrong identity: .*Nothing was written\.\n$/,
      ],
      [
        "encrypted-passphrase",
        ["--passphrase-file", wrongPassphrase],
        /^error: Wrong passphrase: .*Nothing was written\.\n$/,
      ],
      [
        "encrypted-x25519",
        ["--passphrase-file", wrongPassphrase],
        /^error: .*not a passphrase: use --identity/,
      ],
      ["encrypted-passphrase", ["--identity", wrongIdentity], /^error: .*use --passphrase-file/],
    ];
    for (const [vector, args, message] of cases) {
      const { out, run } = await decrypt(vector, args);
      expect(run.code, vector).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain("AGE-SECRET-KEY");
      expect(existsSync(out)).toBe(false);
      expect(leftovers(out)).toEqual([]);
    }
  });

  it("refuses an input that does not verify, before decrypting anything", async () => {
    const dir = ws.copy("encrypted-x25519");
    const chunk = join(dir, chunkPath(1));
    const bytes = readFileSync(chunk);
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    writeFileSync(chunk, bytes);
    const out = ws.path("tampered");
    const run = await runCli(["decrypt", dir, "--out", out, "--identity", ws.vectors.keys.ageIdentityFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .* does not verify \(db\/chunk-00001: sha256/);
    expect(existsSync(out)).toBe(false);
  });

  it("a damaged age stream that the manifest faithfully lists fails part-way and writes nothing", async () => {
    const work = ws.path("damaged");
    const database = await buildVectorDatabase(ws.root);
    const ciphertext = await ageEncrypt(database, { recipients: [ws.vectors.keys.ageRecipient] });
    await writeBundle(work, {
      payload: ciphertext.subarray(0, ciphertext.length - 30),
      encryption: { format: "age", mode: "x25519", recipients: 1 },
      chunkSize: 4096,
      files: VECTOR_VIEWER_FILES,
      signKey: await signingKeyFromSeed(new Uint8Array(32).fill(7)),
    });
    const out = ws.path("damaged-out");
    const run = await runCli(["decrypt", work, "--out", out, "--identity", ws.vectors.keys.ageIdentityFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: Decryption failed part-way .*damaged/);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(out)).toEqual([]);
  });

  it("refuses a plain bundle, a non-empty --out that is not a bundle, and needs exactly one secret", async () => {
    const identity = ["--identity", ws.vectors.keys.ageIdentityFile];
    const plain = await runCli(["decrypt", ws.vector("good-signed").dir, "--out", ws.path("p"), ...identity]);
    expect(plain.stderr).toMatch(/is not encrypted/);
    const busy = ws.path("busy");
    mkdirSync(busy);
    writeFileSync(join(busy, "notes.txt"), "mine");
    const refused = await runCli([
      "decrypt",
      ws.vector("encrypted-x25519").dir,
      "--out",
      busy,
      ...identity,
      "--force",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not empty and is not a bundle/);
    expect(readFileSync(join(busy, "notes.txt"), "utf8")).toBe("mine");
    const none = await runCli(["decrypt", ws.vector("encrypted-x25519").dir, "--out", ws.path("n")]);
    expect(none.stderr).toMatch(/exactly one of --identity FILE or --passphrase-file FILE/);
  });

  it("--force replaces a previous bundle at --out; without it the bundle is kept", async () => {
    const out = ws.path("again");
    cpSync(ws.vector("good-unsigned").dir, out, { recursive: true });
    const args = [
      "decrypt",
      ws.vector("encrypted-x25519").dir,
      "--out",
      out,
      "--identity",
      ws.vectors.keys.ageIdentityFile,
    ];
    const kept = await runCli(args);
    expect(kept.code).toBe(1);
    expect(kept.stderr).toMatch(/already holds a bundle.*--force/);
    const manifestBefore = readFileSync(join(out, "manifest.json"), "utf8");
    expect(manifestBefore).toBe(readFileSync(join(ws.vector("good-unsigned").dir, "manifest.json"), "utf8"));
    writeFileSync(join(out, "from-before.txt"), "old");
    const replaced = await runCli([...args, "--force"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(existsSync(join(out, "from-before.txt"))).toBe(false);
    expect(readFileSync(join(out, "manifest.json"), "utf8")).not.toBe(manifestBefore);
    expect(readManifest(out).encryption).toBeNull();
    expect(leftovers(out)).toEqual([]);
  });
});

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Decrypter } from "age-encryption";
import { fail, isPigeonholeError } from "../../engine/errors.js";
import { BUNDLE_FILES, type Manifest, type ManifestFile } from "../bundle-format.js";
import { writeChunks } from "../pipeline/chunk.js";
import { assertOutAvailable, createStaging, publish, removeStaging } from "../pipeline/staging.js";
import { type SigningKey, writeBundleSignatures } from "../signing.js";
import type { BundleReader } from "../verify/reader.js";
import { verifyBundle } from "../verify/verify.js";
import { extractEmbeddedAttachments } from "./embedded-attachments.js";

/** The secret for an encrypted bundle: age identities (X25519) or the passphrase (scrypt). */
export type DecryptSecret = { identities: string[] } | { passphrase: string };

export interface DecryptOptions {
  /** Directory to create (absent, empty, or with `force` a previous bundle). */
  out: string;
  secret: DecryptSecret;
  force?: boolean;
  /** Sign the plain bundle's manifest with this key; without it the result is unsigned. */
  signKey?: SigningKey;
  /** Pinned key the encrypted bundle must be signed by. */
  publicKey?: Uint8Array;
}

export interface DecryptResult {
  out: string;
  /** Plaintext database bytes and chunk count. */
  database: { size: number; chunks: number; sha256: string };
  /** Attachments moved out of the database into files. */
  attachments: number;
  /** Other files copied unchanged (viewer, README, ...). */
  files_copied: number;
  signed: boolean;
}

const SQLITE_HEADER = "SQLite format 3\0";

/**
 * Turn the encrypted bundle `reader` reads into a plain bundle at `options.out`: verify the input first
 * (every hash; its signature when signed), decrypt the concatenated chunks as one age stream, move
 * attachments embedded in the database out into files (`extractEmbeddedAttachments`), re-chunk the
 * SQLite database with the same chunk size, copy every other listed file, and write a manifest with
 * `encryption: null`, signed only with `signKey`. The result is built in a staging directory and
 * published with one rename: on any failure (wrong identity or passphrase included) nothing is written.
 * Throws INVALID_ARGUMENT naming the problem.
 */
export async function decryptBundle(reader: BundleReader, options: DecryptOptions): Promise<DecryptResult> {
  const verified = await verifyBundle(reader, {
    allowUnsigned: true,
    ...(options.publicKey ? { publicKey: options.publicKey } : {}),
  });
  const manifest = verified.manifest;
  if (!verified.ok || !manifest) {
    const first = verified.problems
      .slice(0, 3)
      .map((p) => `${p.path}: ${p.problem}`)
      .join("; ");
    throw fail.invalid(
      `${reader.source} does not verify (${first}); run pigeonhole verify for every problem.`,
    );
  }
  if (!manifest.encryption)
    throw fail.invalid(`${reader.source} is not encrypted; there is nothing to decrypt.`);
  const decrypter = makeDecrypter(manifest, options.secret);
  const force = options.force === true;
  await assertOutAvailable(options.out, force);
  const staged = await createStaging(options.out);
  try {
    // SQLite needs a file to open: the plaintext goes to private scratch space, never published.
    const databaseFile = join(staged.work, "database.sqlite3");
    await writePlaintext(await decryptDatabase(reader, manifest, decrypter), databaseFile);
    const attachments = extractEmbeddedAttachments(databaseFile, staged.bundle);
    const database = await writeChunks({
      source: createReadStream(databaseFile),
      bundleDir: staged.bundle,
      chunkSize: manifest.database.chunk_size,
    });
    const chunkPaths = new Set(manifest.database.chunks.map((c) => c.path));
    const others = manifest.files.filter((f) => !chunkPaths.has(f.path));
    for (const file of others) await copyFile(reader, file, staged.bundle);
    const chunksListed = manifest.files.some((f) => chunkPaths.has(f.path));
    const plainManifest: Manifest = {
      ...manifest,
      database: {
        chunks: database.chunks,
        size: database.size,
        chunk_size: manifest.database.chunk_size,
        sha256: database.sha256,
        encrypted: false,
      },
      encryption: null,
      files: [...others, ...attachments, ...(chunksListed ? database.chunks : [])].sort((a, b) =>
        compare(a.path, b.path),
      ),
    };
    await writeFile(
      join(staged.bundle, BUNDLE_FILES.manifest),
      `${JSON.stringify(plainManifest, null, 2)}\n`,
    );
    if (options.signKey) await writeBundleSignatures(staged.bundle, options.signKey);
    await publish(staged, staged.bundle, options.out, { force, zip: false });
    return {
      out: options.out,
      database: { size: database.size, chunks: database.chunks.length, sha256: database.sha256 },
      attachments: attachments.length,
      files_copied: others.length,
      signed: options.signKey !== undefined,
    };
  } finally {
    await removeStaging(staged, options.out);
  }
}

function makeDecrypter(manifest: Manifest, secret: DecryptSecret): Decrypter {
  const mode = manifest.encryption?.mode;
  const decrypter = new Decrypter();
  if ("passphrase" in secret) {
    if (mode === "x25519") {
      throw fail.invalid(
        "This bundle is encrypted to age recipients (X25519), not a passphrase: use --identity.",
      );
    }
    decrypter.addPassphrase(secret.passphrase);
  } else {
    if (mode === "scrypt") {
      throw fail.invalid(
        "This bundle is encrypted to a passphrase, not to age recipients: use --passphrase-file.",
      );
    }
    for (const identity of secret.identities) {
      try {
        decrypter.addIdentity(identity);
      } catch {
        throw fail.invalid(
          "An identity in the identity file is malformed (not a valid AGE-SECRET-KEY-1...).",
        );
      }
    }
  }
  return decrypter;
}

/** The plaintext stream of the database; fails with one clear line for a wrong identity or passphrase. */
async function decryptDatabase(
  reader: BundleReader,
  manifest: Manifest,
  decrypter: Decrypter,
): Promise<ReadableStream<Uint8Array>> {
  const chunks = [...manifest.database.chunks];
  const ciphertext = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = chunks.shift();
      if (!chunk) return controller.close();
      controller.enqueue(await readChecked(reader, chunk));
    },
  });
  try {
    return await decrypter.decrypt(ciphertext);
  } catch (error) {
    if (isPigeonholeError(error)) throw error;
    if (error instanceof Error && /no identity matched/.test(error.message)) {
      throw fail.invalid(
        manifest.encryption?.mode === "scrypt"
          ? "Wrong passphrase: it does not decrypt this bundle. Nothing was written."
          : "Wrong identity: none of the given age identities is a recipient of this bundle. Nothing was written.",
      );
    }
    throw fail.invalid(
      `Cannot decrypt the database: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
}

/** Stream the plaintext to `file`, failing with one line when it is damaged or not a SQLite database. */
async function writePlaintext(plain: ReadableStream<Uint8Array>, file: string): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  const stream = plain.getReader();
  let size = 0;
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof stream.read>>;
      try {
        read = await stream.read();
      } catch (error) {
        if (isPigeonholeError(error)) throw error;
        throw fail.invalid(
          `Decryption failed part-way (${error instanceof Error ? error.message : String(error)}); the ciphertext is damaged.`,
        );
      }
      if (read.done) break;
      if (size === 0 && !startsWithSqliteHeader(read.value)) {
        throw fail.invalid(
          "The decrypted payload is not a SQLite database; this is not a Pigeonhole bundle.",
        );
      }
      size += read.value.length;
      await handle.write(read.value);
    }
  } finally {
    await handle.close();
  }
}

function startsWithSqliteHeader(bytes: Uint8Array): boolean {
  // The first read may be shorter than the header only for a damaged payload; the check then fails too.
  return new TextDecoder("latin1").decode(bytes.subarray(0, SQLITE_HEADER.length)) === SQLITE_HEADER;
}

/** Read a listed file again, checking its hash: it may have changed since `verifyBundle` read it. */
async function readChecked(reader: BundleReader, file: ManifestFile): Promise<Uint8Array> {
  const bytes = await reader.read(file.path, file.size);
  if (
    !bytes ||
    bytes.length !== file.size ||
    createHash("sha256").update(bytes).digest("hex") !== file.sha256
  ) {
    throw fail.invalid(`${file.path} changed while decrypting; run pigeonhole verify and try again.`);
  }
  return bytes;
}

async function copyFile(reader: BundleReader, file: ManifestFile, root: string): Promise<void> {
  const bytes = await readChecked(reader, file);
  const target = join(root, ...file.path.split("/"));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, bytes, { flag: "wx" });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The bundle format: file names, the manifest and the signature file. This module is shared by the
 * exporter (Node) and the viewer (browser), so it imports nothing and does no I/O. A bundle is a
 * directory (or a zip of one) that any static host serves:
 *
 *   index.html, _astro/...        the viewer
 *   manifest.json                 this format's Manifest: what the bundle is, and size + sha256 of every other file
 *   manifest.sig.json             SignatureFile: Ed25519 over the exact bytes of manifest.json
 *   manifest.json.minisig         the same signature in minisign format
 *   db/chunk-00000 ...            the SQLite snapshot in fixed-size chunks; one age stream when encrypted
 *   attachments/ab/<sha256>.ext   content-addressed files (plain bundles only; inside the database when encrypted)
 *   README.md, .nojekyll
 */

export const BUNDLE_FORMAT = "pigeonhole-bundle";
export const BUNDLE_FORMAT_VERSION = 1;

/** Fixed file names at the bundle root. */
export const BUNDLE_FILES = {
  manifest: "manifest.json",
  signature: "manifest.sig.json",
  minisign: "manifest.json.minisig",
  readme: "README.md",
  nojekyll: ".nojekyll",
} as const;

/** Directory of the database chunks; chunk N is `db/chunk-NNNNN` so `cat db/*` concatenates in order. */
export const DB_DIR = "db";
export const ATTACHMENTS_DIR = "attachments";

/** The path of database chunk `index` (0-based). */
export function chunkPath(index: number): string {
  return `${DB_DIR}/chunk-${String(index).padStart(5, "0")}`;
}

/** Default chunk size in bytes: small enough for any static host and for range-free fetches. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/** One file listed in the manifest. Paths are relative, with `/` separators, never `..` or absolute. */
export interface ManifestFile {
  path: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
}

export type ScrubPreset = "standard" | "strict" | "archive";

/** How the database payload is encrypted; null for a plain bundle. Reveals no private data. */
export interface ManifestEncryption {
  format: "age";
  /** `x25519`: to recipients' public keys; `scrypt`: to a passphrase. */
  mode: "x25519" | "scrypt";
  /** Number of X25519 recipients (their keys are not listed). */
  recipients: number;
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  format_version: typeof BUNDLE_FORMAT_VERSION;
  generated_at: string;
  generator: { name: string; version: string };
  database: {
    /** The chunks in order; concatenated they are the SQLite file (or its age ciphertext). */
    chunks: ManifestFile[];
    /** Total bytes of the chunks. */
    size: number;
    chunk_size: number;
    /** sha256 of the concatenated chunks (ciphertext when encrypted): a cache key that reveals nothing. */
    sha256: string;
    encrypted: boolean;
  };
  encryption: ManifestEncryption | null;
  scrub: { preset: ScrubPreset; redactions: Record<string, number> };
  pseudonymized: boolean;
  /** Counts only; names, subjects and bodies never appear in the manifest. */
  counts: { projects: number; agents: number; messages: number; attachments: number };
  /** Every file of the bundle except manifest.json and its two signature files, sorted by path. */
  files: ManifestFile[];
}

/** manifest.sig.json. Binary values are base64 (standard alphabet, padded). */
export interface SignatureFile {
  algorithm: "ed25519";
  /** Ed25519 signature over the exact bytes of manifest.json. */
  signature: string;
  /** Lower-case hex sha256 of manifest.json. */
  manifest_sha256: string;
  /** The 32-byte Ed25519 public key. */
  public_key: string;
  generated_at: string;
}

/** The files that are never listed in `files` (they describe or sign the manifest itself). */
export const UNLISTED_FILES: ReadonlySet<string> = new Set([
  BUNDLE_FILES.manifest,
  BUNDLE_FILES.signature,
  BUNDLE_FILES.minisign,
]);

/**
 * True when `path` is a safe bundle-relative path: `/`-separated, no empty, `.` or `..` segment, not
 * absolute, no backslash or control character. Every path read from a manifest or a zip is checked
 * with this before it is used.
 */
export function isSafeBundlePath(path: string): boolean {
  if (path === "" || path.length > 1024 || path.startsWith("/") || path.includes("\\")) return false;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

/**
 * Check that a parsed JSON value has the Manifest shape this version understands; returns a list of
 * problems (empty when valid). Used by verify (Node) and the viewer (browser) alike.
 */
export function manifestProblems(value: unknown): string[] {
  const problems: string[] = [];
  const m = value as Partial<Manifest> | null;
  if (typeof m !== "object" || m === null) return ["manifest is not a JSON object"];
  if (m.format !== BUNDLE_FORMAT) problems.push(`format is not ${BUNDLE_FORMAT}`);
  if (m.format_version !== BUNDLE_FORMAT_VERSION) {
    problems.push(
      `format_version ${String(m.format_version)} is not supported (expected ${BUNDLE_FORMAT_VERSION})`,
    );
  }
  const checkFiles = (files: unknown, where: string) => {
    if (!Array.isArray(files)) return problems.push(`${where} is not a list`);
    for (const f of files as Partial<ManifestFile>[]) {
      if (typeof f?.path !== "string" || !isSafeBundlePath(f.path))
        problems.push(`${where}: unsafe path ${JSON.stringify(f?.path)}`);
      if (typeof f?.size !== "number" || !Number.isSafeInteger(f.size) || f.size < 0)
        problems.push(`${where}: bad size for ${f?.path}`);
      if (typeof f?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(f.sha256))
        problems.push(`${where}: bad sha256 for ${f?.path}`);
    }
    return 0;
  };
  checkFiles(m.files, "files");
  checkFiles(m.database?.chunks, "database.chunks");
  problems.push(...databaseProblems(m));
  return problems;
}

/** The `database` and `encryption` fields agree with each other and with the chunk sizes. */
function databaseProblems(m: Partial<Manifest>): string[] {
  const db = m.database;
  if (typeof db !== "object" || db === null) return ["database is not an object"];
  const problems: string[] = [];
  const isCount = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (!isCount(db.chunk_size) || db.chunk_size === 0)
    problems.push("database.chunk_size is not a positive integer");
  if (!isCount(db.size)) problems.push("database.size is not a whole number");
  if (typeof db.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(db.sha256))
    problems.push("bad database.sha256");
  if (typeof db.encrypted !== "boolean") problems.push("database.encrypted is not a boolean");
  const encryption = m.encryption;
  if (
    encryption !== null &&
    (encryption?.format !== "age" || !["x25519", "scrypt"].includes(encryption.mode))
  ) {
    problems.push("encryption is neither null nor an age x25519/scrypt description");
  }
  if (db.encrypted !== (encryption !== null && encryption !== undefined)) {
    problems.push("database.encrypted disagrees with encryption");
  }
  // Chunks are cut at chunk_size: every one full but the last, so offsets are computable.
  if (Array.isArray(db.chunks) && problems.length === 0) {
    db.chunks.forEach((chunk, i) => {
      const last = i === db.chunks.length - 1;
      if (last ? chunk.size > db.chunk_size || chunk.size === 0 : chunk.size !== db.chunk_size) {
        problems.push(
          `database.chunks: ${chunk.path} is ${chunk.size} bytes, not cut at chunk_size ${db.chunk_size}`,
        );
      }
    });
  }
  return problems;
}

/**
 * Every file the manifest lists, `files` and `database.chunks` together, by path: what a verifier
 * expects to find besides `UNLISTED_FILES`. A path listed twice with different sizes or hashes is
 * reported in `conflicts` (the manifest contradicts itself) and kept with its first entry.
 */
export function listedFiles(manifest: Manifest): { files: Map<string, ManifestFile>; conflicts: string[] } {
  const files = new Map<string, ManifestFile>();
  const conflicts: string[] = [];
  for (const file of [...manifest.files, ...manifest.database.chunks]) {
    const seen = files.get(file.path);
    if (!seen) files.set(file.path, file);
    else if (seen.size !== file.size || seen.sha256 !== file.sha256) conflicts.push(file.path);
  }
  return { files, conflicts };
}

/**
 * The fingerprint shown for an Ed25519 public key wherever a person compares keys (keygen, verify, the
 * viewer): the first 8 bytes of sha256(public key) as lower-case hex in four groups, e.g.
 * `3f2a:91bc:04de:7711`. A display aid only: pinning always compares the whole key. Uses WebCrypto, so
 * Node and the browser compute the same string.
 */
export async function publicKeyFingerprint(publicKey: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey as Uint8Array<ArrayBuffer>));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g)?.join(":") ?? hex;
}

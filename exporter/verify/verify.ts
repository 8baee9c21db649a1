import { verifyAsync } from "@noble/ed25519";
import { sha256 } from "@noble/hashes/sha2.js";
import { LIMITS } from "../../engine/limits.js";
import { base64ToBytes } from "../base64.js";
import {
  BUNDLE_FILES,
  listedFiles,
  type Manifest,
  type ManifestFile,
  manifestProblems,
  publicKeyFingerprint,
  type SignatureFile,
  UNLISTED_FILES,
} from "../bundle-format.js";
import { minisignKeyId, minisignProblem, minisignTrustedTimestamp } from "../minisign.js";
import type { BundleReader } from "./reader.js";

/**
 * Verify a bundle: its signature and every byte of every file. Browser-safe (WebCrypto, noble), so the
 * viewer can run the very same checks on what it fetched.
 */

export interface VerifyOptions {
  /** Pinned Ed25519 public key (32 bytes): the bundle must be signed by exactly this key. */
  publicKey?: Uint8Array;
  /** Accept a bundle with no signature (still checking every file against the manifest). */
  allowUnsigned?: boolean;
  /** Files read at once; default 4. */
  concurrency?: number;
}

/** One thing wrong with one file. `path` is bundle-relative (`manifest.json` for the manifest itself). */
export interface VerifyProblem {
  path: string;
  problem: string;
}

/** The outcome of `verifyBundle`; also the `--json` output of `pigeonhole verify`. */
export interface VerifyResult {
  /** True only when `problems` is empty. */
  ok: boolean;
  /** A signature file is present (whether or not it is valid). */
  signed: boolean;
  /** Fingerprint of the key in the signature file, or null when unsigned or unreadable. */
  key_fingerprint: string | null;
  /**
   * When the manifest was signed (ISO-8601, whole seconds): the `timestamp:` of the minisign file's
   * trusted comment, which the signature covers. Null unless both signatures verified and the comment
   * has a timestamp. The
   * `generated_at` of manifest.sig.json is not signed; it is only accepted when it names the same second.
   */
  signed_at: string | null;
  /** A key was pinned: `ok` then implies the bundle is signed by that key. */
  pinned: boolean;
  problems: VerifyProblem[];
  /** Listed files read and compared (whatever the outcome). */
  files_checked: number;
  /** False when the source cannot be listed (a URL), so unlisted files could not be looked for. */
  unlisted_checked: boolean;
  /** The parsed manifest when it could be read and has the expected shape. */
  manifest: Manifest | null;
}

const SIGNATURE_FILE_BYTES = 64 * 1024;
// RFC 8032 verification (as OpenSSL does), not ZIP-215: one accepted signature per message and key.
const STRICT = { zip215: false };

/**
 * Check the bundle `reader` reads. `ok` is true only when: manifest.json parses with no
 * `manifestProblems`; it is signed (unless `allowUnsigned` and no key is pinned) with a valid Ed25519
 * signature by the pinned key, or by the key in the signature file when none is pinned; the signature
 * file's `manifest_sha256` and the minisign file agree, and the signature file's unsigned `generated_at`
 * names the second in the minisign trusted comment's signed `timestamp:`; every listed file exists with its listed size and
 * sha256; the chunks add up to `database`; and no unlisted file is present (when the reader can list).
 * Every problem names its file. Never throws for a bad bundle; throws only if the reader does.
 */
export async function verifyBundle(reader: BundleReader, options: VerifyOptions = {}): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const result: VerifyResult = {
    ok: false,
    signed: false,
    key_fingerprint: null,
    signed_at: null,
    pinned: options.publicKey !== undefined,
    problems,
    files_checked: 0,
    unlisted_checked: false,
    manifest: null,
  };
  const manifestBytes = await readProblem(
    reader,
    BUNDLE_FILES.manifest,
    LIMITS.bundleManifestBytes,
    problems,
  );
  if (!manifestBytes) return finish(result);
  const manifest = parseJson(manifestBytes) as Manifest | undefined;
  const shape = manifest === undefined ? ["not valid JSON"] : manifestProblems(manifest);
  for (const problem of shape) problems.push({ path: BUNDLE_FILES.manifest, problem });
  if (shape.length > 0 || !manifest) return finish(result);
  result.manifest = manifest;

  await checkSignature(reader, manifestBytes, options, result);
  await checkFiles(reader, manifest, options.concurrency ?? 4, result);
  return finish(result);
}

function finish(result: VerifyResult): VerifyResult {
  result.ok = result.problems.length === 0;
  return result;
}

async function checkSignature(
  reader: BundleReader,
  manifestBytes: Uint8Array,
  options: VerifyOptions,
  result: VerifyResult,
): Promise<void> {
  const { problems } = result;
  const sigPath = BUNDLE_FILES.signature;
  const sigBytes = await readOptional(reader, sigPath, SIGNATURE_FILE_BYTES, problems);
  const minisig = await readOptional(reader, BUNDLE_FILES.minisign, SIGNATURE_FILE_BYTES, problems);
  if (sigBytes === null) {
    if (options.publicKey)
      problems.push({ path: sigPath, problem: "missing: the bundle is unsigned, but a key is pinned" });
    else if (!options.allowUnsigned)
      problems.push({ path: sigPath, problem: "missing: the bundle is unsigned" });
    if (minisig) problems.push({ path: BUNDLE_FILES.minisign, problem: "present without manifest.sig.json" });
    return;
  }
  if (sigBytes === undefined) return;
  result.signed = true;
  const parsed = parseSignatureFile(sigBytes);
  if (typeof parsed === "string") {
    problems.push({ path: sigPath, problem: parsed });
    return;
  }
  result.key_fingerprint = await publicKeyFingerprint(parsed.publicKey);
  const actualSha256 = hex(await digest(manifestBytes));
  let signatureValid = false;
  if (options.publicKey && !equalBytes(options.publicKey, parsed.publicKey)) {
    const pinned = await publicKeyFingerprint(options.publicKey);
    problems.push({
      path: sigPath,
      problem: `signed by key ${result.key_fingerprint}, not by the pinned key ${pinned}`,
    });
  } else {
    const valid = await verifyAsync(parsed.signature, manifestBytes, parsed.publicKey, STRICT);
    const shaMatches = parsed.file.manifest_sha256 === actualSha256;
    if (!valid) {
      // A valid signature with a wrong manifest_sha256 blames the signature file; an invalid one with a
      // stale manifest_sha256 means the manifest changed after signing.
      problems.push(
        shaMatches
          ? { path: sigPath, problem: "the Ed25519 signature does not verify over manifest.json" }
          : { path: BUNDLE_FILES.manifest, problem: "changed after signing: its signature does not verify" },
      );
    } else if (!shaMatches) {
      problems.push({ path: sigPath, problem: "manifest_sha256 does not match manifest.json" });
    }
    signatureValid = valid;
  }
  if (minisig === null) {
    problems.push({ path: BUNDLE_FILES.minisign, problem: "missing (written with every manifest.sig.json)" });
  } else if (minisig && signatureValid) {
    // The minisign file must carry the same key's signature over the same manifest. When the main
    // signature already failed, the same failure would only be reported twice.
    const text = new TextDecoder().decode(minisig);
    const keyId = await minisignKeyId(parsed.publicKey);
    const problem = await minisignProblem(text, manifestBytes, parsed.publicKey, keyId);
    if (problem) problems.push({ path: BUNDLE_FILES.minisign, problem });
    else checkSigningTime(text, parsed.file, result);
  }
}

/**
 * The signing time an auditor reads must be a signed one. manifest.sig.json's `generated_at` lies outside
 * every signature (Ed25519 covers manifest.json only), so it is compared with the `timestamp:` of the
 * minisign trusted comment, which the (already checked) global signature covers. Minisign counts whole
 * seconds, so the comparison drops the milliseconds.
 */
function checkSigningTime(minisig: string, file: SignatureFile, result: VerifyResult): void {
  const signedAt = minisignTrustedTimestamp(minisig);
  if (signedAt === null) {
    result.problems.push({
      path: BUNDLE_FILES.minisign,
      problem:
        "its trusted comment has no timestamp: field, so the signing time (and generated_at in manifest.sig.json) cannot be checked; sign the bundle again",
    });
    return;
  }
  result.signed_at = signedAt.toISOString();
  const claimed = typeof file.generated_at === "string" ? Date.parse(file.generated_at) : Number.NaN;
  if (Number.isNaN(claimed)) {
    result.problems.push({
      path: BUNDLE_FILES.signature,
      problem: `generated_at ${JSON.stringify(file.generated_at)} is not an ISO-8601 time (the signed time is ${result.signed_at})`,
    });
  } else if (Math.floor(claimed / 1000) !== signedAt.getTime() / 1000) {
    result.problems.push({
      path: BUNDLE_FILES.signature,
      problem: `generated_at ${file.generated_at} disagrees with the signed time ${result.signed_at} in the trusted comment of ${BUNDLE_FILES.minisign}: the field is not signed and was changed after signing`,
    });
  }
}

function parseSignatureFile(
  bytes: Uint8Array,
): { file: SignatureFile; signature: Uint8Array; publicKey: Uint8Array } | string {
  const file = parseJson(bytes) as Partial<SignatureFile> | undefined;
  if (typeof file !== "object" || file === null) return "not valid JSON";
  if (file.algorithm !== "ed25519") return `algorithm ${JSON.stringify(file.algorithm)} is not ed25519`;
  const signature = typeof file.signature === "string" ? base64ToBytes(file.signature) : null;
  if (signature?.length !== 64) return "signature is not 64 bytes of base64";
  const publicKey = typeof file.public_key === "string" ? base64ToBytes(file.public_key) : null;
  if (publicKey?.length !== 32) return "public_key is not 32 bytes of base64";
  return { file: file as SignatureFile, signature, publicKey };
}

async function checkFiles(
  reader: BundleReader,
  manifest: Manifest,
  concurrency: number,
  result: VerifyResult,
): Promise<void> {
  const { problems } = result;
  const { files, conflicts } = listedFiles(manifest);
  for (const path of conflicts) {
    problems.push({
      path: BUNDLE_FILES.manifest,
      problem: `lists ${path} twice with different sizes or hashes`,
    });
  }
  for (const path of UNLISTED_FILES) {
    if (files.delete(path))
      problems.push({ path: BUNDLE_FILES.manifest, problem: `lists ${path}, which it cannot` });
  }
  // Chunks first and in order, so the concatenated database hashes as it streams by.
  const chunkPaths = new Set(manifest.database.chunks.map((c) => c.path));
  const order = [
    ...manifest.database.chunks.map((c) => c.path),
    ...[...files.keys()].filter((p) => !chunkPaths.has(p)),
  ];
  const database = sha256.create();
  let databaseSize = 0;
  let databaseIntact = true;
  for await (const { path, bytes } of readAhead(order, concurrency, async (path) => {
    const file = files.get(path) as ManifestFile;
    return readProblem(reader, path, file.size, problems);
  })) {
    result.files_checked++;
    const file = files.get(path) as ManifestFile;
    const good = bytes !== undefined && (await fileProblem(file, bytes, problems));
    if (chunkPaths.has(path)) {
      databaseIntact &&= good;
      if (good && bytes) {
        database.update(bytes);
        databaseSize += bytes.length;
      }
    }
  }
  if (databaseIntact) {
    const db = manifest.database;
    if (databaseSize !== db.size) {
      problems.push({
        path: BUNDLE_FILES.manifest,
        problem: `database.size is ${db.size}, but the chunks hold ${databaseSize} bytes`,
      });
    } else if (hex(database.digest()) !== db.sha256) {
      problems.push({
        path: BUNDLE_FILES.manifest,
        problem: "database.sha256 does not match the concatenated chunks",
      });
    }
  }
  const present = await reader.list();
  result.unlisted_checked = present !== null;
  for (const path of (present ?? []).sort()) {
    if (!files.has(path) && !UNLISTED_FILES.has(path))
      problems.push({ path, problem: "unlisted: not in the manifest" });
  }
}

/** Compare one read file with its manifest entry; true when it matches. */
async function fileProblem(
  file: ManifestFile,
  bytes: Uint8Array,
  problems: VerifyProblem[],
): Promise<boolean> {
  if (bytes.length > file.size) {
    problems.push({ path: file.path, problem: `larger than its listed ${file.size} bytes` });
  } else if (bytes.length < file.size) {
    problems.push({ path: file.path, problem: `${bytes.length} bytes, listed as ${file.size} (truncated)` });
  } else if (hex(await digest(bytes)) !== file.sha256) {
    problems.push({ path: file.path, problem: "sha256 does not match the manifest (content changed)" });
  } else {
    return true;
  }
  return false;
}

/** Read a file that must exist; a problem is recorded (and undefined returned) when it cannot be. */
async function readProblem(
  reader: BundleReader,
  path: string,
  limit: number,
  problems: VerifyProblem[],
): Promise<Uint8Array | undefined> {
  const bytes = await readOptional(reader, path, limit, problems);
  if (bytes === null) problems.push({ path, problem: "missing" });
  return bytes ?? undefined;
}

/** Read a file that may be absent (null); undefined, with a problem, when reading fails. */
async function readOptional(
  reader: BundleReader,
  path: string,
  limit: number,
  problems: VerifyProblem[],
): Promise<Uint8Array | null | undefined> {
  try {
    return await reader.read(path, limit);
  } catch (error) {
    problems.push({
      path,
      problem: `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    });
    return undefined;
  }
}

/**
 * Run `load` over `items` with at most `concurrency` loads in flight or waiting to be consumed, yielding
 * results in input order: bounded memory, and the consumer sees files in manifest order.
 */
async function* readAhead<T>(
  items: string[],
  concurrency: number,
  load: (item: string) => Promise<T>,
): AsyncGenerator<{ path: string; bytes: T }> {
  const pending: Promise<T>[] = [];
  let next = 0;
  const fill = () => {
    while (next < items.length && pending.length < Math.max(1, concurrency)) {
      pending.push(load(items[next++] as string));
    }
  };
  fill();
  for (let i = 0; i < items.length; i++) {
    const bytes = await (pending.shift() as Promise<T>);
    fill();
    yield { path: items[i] as string, bytes };
  }
}

async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

import type { Manifest } from "../../../exporter/bundle-format.js";
import { cachedPayload, cachePayload } from "./cache.js";
import { openDatabase, type ViewerDatabase } from "./database.js";
import { decryptAge, type Secret } from "./decrypt.js";
import { fromBase64 } from "./encoding.js";
import { schemaProblem } from "./queries/meta.js";
import { type BundleSource, concatBytes, httpSource, SourceError, zipSource } from "./source.js";
import { checkManifest, chunkProblems, databaseProblems, type Signer } from "./verify.js";

/** What the loader is doing, for the progress bar. `total` is in bytes when known. */
export interface Progress {
  step: string;
  done?: number;
  total?: number;
}

/** A bundle whose signature and chunks checked out, still encrypted. */
export interface LockedBundle {
  source: BundleSource;
  manifest: Manifest;
  signer: Signer | null;
  ciphertext: Uint8Array;
}

/** A bundle ready to read. `signer` is null for an unsigned bundle. */
export interface OpenBundle {
  source: BundleSource;
  manifest: Manifest;
  signer: Signer | null;
  db: ViewerDatabase;
}

/** Thrown when a verified (and decrypted) database cannot be read by this viewer. */
export class UnreadableError extends Error {}

export type LoadResult =
  | { state: "ready"; bundle: OpenBundle }
  | { state: "locked"; locked: LockedBundle }
  | { state: "tampered"; problems: string[]; label: string }
  | { state: "unreadable"; message: string; manifest: Manifest; signer: Signer | null };

/**
 * The source named by the page URL: `?bundle=<url>` (a bundle directory, or a `.zip` file), else the
 * directory the viewer itself is served from.
 */
export async function sourceFromPage(
  pageUrl: string,
  onProgress: (p: Progress) => void,
): Promise<BundleSource> {
  const page = new URL(pageUrl);
  const param = page.searchParams.get("bundle");
  if (!param) return httpSource(new URL(".", page));
  const url = new URL(param, page);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SourceError(`?bundle= must be an http(s) URL, not ${url.protocol}`);
  }
  if (!/\.zip$/i.test(url.pathname)) return httpSource(url);
  onProgress({ step: `Downloading ${url.pathname.split("/").pop()}` });
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new SourceError(`${url.href} answered HTTP ${response.status}`);
  return zipSource(new Uint8Array(await response.arrayBuffer()), url.href);
}

/**
 * Open a bundle: check the manifest's signature (against `pinnedKey`, a base64 key from the link, when
 * given), download every database chunk and check its size and sha256, then either open the database or
 * stop at `locked` for an encrypted one. Any failed check gives `tampered` with every problem found, and
 * no data from such a bundle is ever opened. Throws NoBundleError when the source holds no bundle.
 */
export async function loadBundle(
  source: BundleSource,
  pinnedKey: string | null,
  onProgress: (p: Progress) => void,
): Promise<LoadResult> {
  let pinned: Uint8Array | null = null;
  if (pinnedKey !== null) {
    pinned = fromBase64(pinnedKey);
    if (pinned?.length !== 32) {
      return {
        state: "tampered",
        label: source.label,
        problems: ["the key pinned in the link (#key=…) is not a base64 Ed25519 public key of 32 bytes"],
      };
    }
  }
  onProgress({ step: "Checking the signature" });
  const check = await checkManifest(source, pinned);
  if (check.state === "tampered") return { state: "tampered", problems: check.problems, label: source.label };
  const { manifest } = check;
  const signer = check.state === "verified" ? check.signer : null;

  const payload = await downloadPayload(source, manifest, onProgress);
  if (payload.problems.length > 0)
    return { state: "tampered", problems: payload.problems, label: source.label };
  if (manifest.database.encrypted) {
    return { state: "locked", locked: { source, manifest, signer, ciphertext: payload.bytes } };
  }
  try {
    return {
      state: "ready",
      bundle: { source, manifest, signer, db: await readable(payload.bytes, onProgress) },
    };
  } catch (error) {
    if (!(error instanceof UnreadableError)) throw error;
    return { state: "unreadable", message: error.message, manifest, signer };
  }
}

/** Open the database and check that this viewer can read it; UnreadableError otherwise. */
async function readable(bytes: Uint8Array, onProgress: (p: Progress) => void): Promise<ViewerDatabase> {
  onProgress({ step: "Opening the database" });
  let db: ViewerDatabase;
  try {
    db = await openDatabase(bytes);
  } catch (error) {
    throw new UnreadableError((error as Error).message);
  }
  const problem = schemaProblem(db);
  if (problem) {
    db.close();
    throw new UnreadableError(problem);
  }
  return db;
}

async function downloadPayload(
  source: BundleSource,
  manifest: Manifest,
  onProgress: (p: Progress) => void,
): Promise<{ bytes: Uint8Array; problems: string[] }> {
  const total = manifest.database.size;
  const cached = await cachedPayload(manifest.database.sha256);
  if (cached && (await databaseProblems(manifest, cached)).length === 0)
    return { bytes: cached, problems: [] };

  const parts: Uint8Array[] = [];
  const problems: string[] = [];
  let before = 0;
  for (const chunk of manifest.database.chunks) {
    const step = manifest.database.encrypted
      ? "Downloading the encrypted database"
      : "Downloading the database";
    onProgress({ step, done: before, total });
    const bytes = await source.read(chunk.path, (loaded) =>
      onProgress({ step, done: before + loaded, total }),
    );
    problems.push(...(await chunkProblems(manifest, chunk, bytes)));
    if (bytes) parts.push(bytes);
    before += chunk.size;
  }
  if (problems.length > 0) return { bytes: new Uint8Array(), problems };
  onProgress({ step: "Checking the database", done: total, total });
  const bytes = concatBytes(parts);
  const whole = await databaseProblems(manifest, bytes);
  if (whole.length === 0) await cachePayload(manifest.database.sha256, bytes);
  return { bytes, problems: whole };
}

/**
 * Decrypt a locked bundle with `secret` and open its database. Throws DecryptError for a wrong secret,
 * UnreadableError when the decrypted database is not one this viewer reads.
 */
export async function unlockBundle(
  locked: LockedBundle,
  secret: Secret,
  onProgress: (p: Progress) => void,
): Promise<OpenBundle> {
  const mode = locked.manifest.encryption?.mode ?? "scrypt";
  onProgress({ step: mode === "scrypt" ? "Deriving the key from the passphrase" : "Decrypting" });
  // Let the progress message paint before scrypt blocks the main thread.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const plaintext = await decryptAge(locked.ciphertext, secret, mode, (done, total) =>
    onProgress({ step: "Decrypting", done, total }),
  );
  const db = await readable(plaintext, onProgress);
  return { source: locked.source, manifest: locked.manifest, signer: locked.signer, db };
}

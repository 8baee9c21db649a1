import type { Manifest, ManifestFile } from "../../../exporter/bundle-format.js";
import { cachedPayload, cachePayload } from "./cache.js";
import { openDatabase, type ViewerDatabase, warmUpDatabase } from "./database.js";
import { decryptAge, type Secret } from "./decrypt.js";
import { fromBase64 } from "./encoding.js";
import { schemaProblem } from "./queries/meta.js";
import { type BundleSource, concatBytes, httpSource, SourceError, zipSource } from "./source.js";
import {
  checkManifest,
  chunkProblems,
  databaseProblems,
  listingProblems,
  manifestConflicts,
  readManifest,
  type Signer,
} from "./verify.js";

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
  mark("start");
  warmUpDatabase();
  const read = await readManifest(source);
  // The chunks download while the signature is checked; nothing downloaded is used unless it passes.
  let live = true;
  const report = (p: Progress) => live && onProgress(p);
  const download = read.manifest ? downloadPayload(source, read.manifest, report) : null;
  download?.catch(() => undefined);
  const check = await checkManifest(read, pinned);
  mark("manifest");
  if (check.state === "tampered") {
    live = false;
    return { state: "tampered", problems: check.problems, label: source.label };
  }
  const { manifest } = check;
  const signer = check.state === "verified" ? check.signer : null;
  const problems = [...manifestConflicts(manifest), ...(await listingProblems(manifest, source))];
  if (problems.length > 0) {
    live = false;
    return { state: "tampered", problems, label: source.label };
  }

  const payload = await (download as Promise<{ bytes: Uint8Array; problems: string[] }>);
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
  mark("opened");
  const problem = schemaProblem(db);
  if (problem) {
    db.close();
    throw new UnreadableError(problem);
  }
  return db;
}

/** Chunks fetched at once: enough to fill a connection, few enough to keep memory flat. */
const PARALLEL_CHUNKS = 4;

async function downloadPayload(
  source: BundleSource,
  manifest: Manifest,
  onProgress: (p: Progress) => void,
): Promise<{ bytes: Uint8Array; problems: string[] }> {
  const { chunks, size: total, encrypted, sha256 } = manifest.database;
  // A zip or folder is already local: read (and check) its chunks rather than a cached copy.
  const cacheable = source.paths === undefined;
  const cached = cacheable ? await cachedPayload(sha256) : null;
  if (cached && (await databaseProblems(manifest, cached)).length === 0)
    return { bytes: cached, problems: [] };

  const step = encrypted ? "Downloading the encrypted database" : "Downloading the database";
  const loaded = new Array<number>(chunks.length).fill(0);
  const report = () => onProgress({ step, done: loaded.reduce((a, b) => a + b, 0), total });
  report();
  const parts = new Array<Uint8Array | null>(chunks.length).fill(null);
  const problems: string[][] = chunks.map(() => []);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < chunks.length; i = next++) {
      const chunk = chunks[i] as ManifestFile;
      parts[i] = await source.read(chunk.path, (n) => {
        loaded[i] = n;
        report();
      });
      problems[i] = await chunkProblems(chunk, parts[i] ?? null);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_CHUNKS, chunks.length) }, worker));
  mark("downloaded");
  const found = problems.flat();
  if (found.length > 0) return { bytes: new Uint8Array(), problems: found };
  onProgress({ step: "Checking the database", done: total, total });
  const bytes = concatBytes(parts as Uint8Array[]);
  const whole = await databaseProblems(manifest, bytes);
  mark("verified");
  // Caching is a convenience: it must not hold up the first render.
  if (whole.length === 0 && cacheable) void cachePayload(sha256, bytes);
  return { bytes, problems: whole };
}

/** A performance mark (`pigeonhole:<name>`), for the benchmark's breakdown of opening a bundle. */
function mark(name: string): void {
  performance.mark(`pigeonhole:${name}`);
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

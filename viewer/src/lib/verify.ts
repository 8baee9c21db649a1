import { verifyAsync } from "@noble/ed25519";
import {
  BUNDLE_FILES,
  publicKeyFingerprint as keyFingerprint,
  listedFiles,
  type Manifest,
  type ManifestFile,
  manifestProblems,
  type SignatureFile,
  UNLISTED_FILES,
} from "../../../exporter/bundle-format.js";
import { bytesEqual, fromBase64, sha256Hex, toBase64 } from "./encoding.js";
import type { BundleSource } from "./source.js";

/** The signer of a verified manifest. `pinned` says whether the URL pinned a key (it matched if so). */
export interface Signer {
  publicKey: string;
  fingerprint: string;
  pinned: boolean;
}

/**
 * The outcome of checking manifest.json and its signature. A `tampered` result lists every problem found
 * and carries no manifest: nothing of such a bundle may be used.
 */
export type ManifestCheck =
  | { state: "verified"; manifest: Manifest; signer: Signer }
  | { state: "unsigned"; manifest: Manifest }
  | { state: "tampered"; problems: string[] };

/** Thrown when the source has no manifest.json at all: there is no bundle here to verify. */
export class NoBundleError extends Error {}

const decoder = new TextDecoder();

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * manifest.json as read from a bundle: its exact bytes, the manifest when its shape is valid, and the
 * bytes of manifest.sig.json (null when absent).
 */
export interface ManifestRead {
  bytes: Uint8Array;
  manifest: Manifest | null;
  problems: string[];
  signature: Uint8Array | null;
}

/**
 * Read manifest.json and manifest.sig.json and check the manifest's shape (not yet its signature:
 * nothing in it may be trusted before checkManifest). Throws NoBundleError when the source has no
 * manifest.json at all.
 */
export async function readManifest(source: BundleSource): Promise<ManifestRead> {
  const [bytes, signature] = await Promise.all([
    source.read(BUNDLE_FILES.manifest),
    source.read(BUNDLE_FILES.signature),
  ]);
  if (bytes === null) throw new NoBundleError(`${source.label} has no ${BUNDLE_FILES.manifest}`);
  const parsed = parseJson(bytes);
  const problems =
    parsed === undefined
      ? [`${BUNDLE_FILES.manifest} is not valid JSON`]
      : manifestProblems(parsed).map((p) => `${BUNDLE_FILES.manifest}: ${p}`);
  return { bytes, manifest: problems.length === 0 ? (parsed as Manifest) : null, problems, signature };
}

/**
 * Check a manifest read by readManifest against manifest.sig.json: Ed25519 over the exact bytes of
 * manifest.json. When `pinnedKey` is given, only a valid signature by that key verifies; an unsigned
 * bundle then counts as tampered, since dropping the signature file must not get past a pin.
 */
export async function checkManifest(
  read: ManifestRead,
  pinnedKey: Uint8Array | null,
): Promise<ManifestCheck> {
  const signatureBytes = read.signature;
  const problems: string[] = [];
  let signer: Signer | null = null;
  if (signatureBytes === null) {
    if (pinnedKey) {
      problems.push(
        `the link pins signing key ${await keyFingerprint(pinnedKey)} but the bundle is unsigned (${BUNDLE_FILES.signature} is missing)`,
      );
    }
  } else {
    signer = await checkSignature(read.bytes, signatureBytes, pinnedKey, problems);
  }
  problems.push(...read.problems);
  if (problems.length > 0 || read.manifest === null) return { state: "tampered", problems };
  if (signer === null) return { state: "unsigned", manifest: read.manifest };
  return { state: "verified", manifest: read.manifest, signer };
}

async function checkSignature(
  manifestBytes: Uint8Array,
  signatureBytes: Uint8Array,
  pinnedKey: Uint8Array | null,
  problems: string[],
): Promise<Signer | null> {
  const sig = parseJson(signatureBytes) as Partial<SignatureFile> | undefined;
  if (typeof sig !== "object" || sig === null) {
    problems.push(`${BUNDLE_FILES.signature} is not valid JSON`);
    return null;
  }
  if (sig.algorithm !== "ed25519") {
    problems.push(`${BUNDLE_FILES.signature}: algorithm ${JSON.stringify(sig.algorithm)} is not ed25519`);
    return null;
  }
  const publicKey = typeof sig.public_key === "string" ? fromBase64(sig.public_key) : null;
  const signature = typeof sig.signature === "string" ? fromBase64(sig.signature) : null;
  if (publicKey?.length !== 32)
    problems.push(`${BUNDLE_FILES.signature}: public_key is not a 32-byte base64 key`);
  if (signature?.length !== 64)
    problems.push(`${BUNDLE_FILES.signature}: signature is not 64 bytes of base64`);
  if (publicKey?.length !== 32 || signature?.length !== 64) return null;

  if (sig.manifest_sha256 !== (await sha256Hex(manifestBytes))) {
    problems.push(
      `${BUNDLE_FILES.manifest} does not match the manifest_sha256 recorded in ${BUNDLE_FILES.signature}`,
    );
  }
  let valid = false;
  try {
    valid = await verifyAsync(signature, manifestBytes, publicKey);
  } catch {
    valid = false;
  }
  if (!valid) {
    problems.push(
      `the Ed25519 signature does not match ${BUNDLE_FILES.manifest}: the manifest or its signature was changed`,
    );
  }
  if (pinnedKey && !bytesEqual(pinnedKey, publicKey)) {
    problems.push(
      `the bundle is signed by key ${await keyFingerprint(publicKey)}, not by the key pinned in the link (${await keyFingerprint(pinnedKey)})`,
    );
  }
  return {
    publicKey: toBase64(publicKey),
    fingerprint: await keyFingerprint(publicKey),
    pinned: pinnedKey !== null,
  };
}

/**
 * Problems with one downloaded database chunk against its manifest entry (empty when it matches): its
 * size and sha256.
 */
export async function chunkProblems(entry: ManifestFile, bytes: Uint8Array | null): Promise<string[]> {
  if (bytes === null) return [`${entry.path} is missing`];
  if (bytes.length !== entry.size)
    return [`${entry.path} has ${bytes.length} bytes, the manifest says ${entry.size}`];
  if ((await sha256Hex(bytes)) !== entry.sha256)
    return [`${entry.path} does not match its sha256 in the manifest`];
  return [];
}

/** Paths the manifest lists twice with different sizes or hashes: a manifest that contradicts itself. */
export function manifestConflicts(manifest: Manifest): string[] {
  return listedFiles(manifest).conflicts.map(
    (path) => `the manifest lists ${path} twice, with different contents`,
  );
}

/** Problems with the reassembled database (all chunks joined) against the manifest (empty when it matches). */
export async function databaseProblems(manifest: Manifest, bytes: Uint8Array): Promise<string[]> {
  if (bytes.length !== manifest.database.size) {
    return [`the database chunks total ${bytes.length} bytes, the manifest says ${manifest.database.size}`];
  }
  if ((await sha256Hex(bytes)) !== manifest.database.sha256) {
    return ["the joined database chunks do not match database.sha256 in the manifest"];
  }
  return [];
}

/**
 * Check a bundle file fetched on demand (an attachment) against its manifest entry; null when it is
 * listed and matches, else the problem.
 */
export async function fileProblem(
  manifest: Manifest,
  path: string,
  bytes: Uint8Array | null,
): Promise<string | null> {
  const entry = manifest.files.find((f) => f.path === path);
  if (!entry) return `${path} is not listed in the manifest`;
  if (bytes === null) return `${path} is missing`;
  if (bytes.length !== entry.size || (await sha256Hex(bytes)) !== entry.sha256) {
    return `${path} does not match its sha256 in the manifest`;
  }
  return null;
}

/**
 * For a source that can list its files (a zip, a folder): every file the manifest lists besides the
 * database chunks (checked as they download) must be there with its size and sha256, and no other file
 * may be there. Returns the problems, each naming its file.
 */
export async function listingProblems(manifest: Manifest, source: BundleSource): Promise<string[]> {
  if (!source.paths) return [];
  const present = new Set(source.paths());
  const { files } = listedFiles(manifest);
  const chunks = new Set(manifest.database.chunks.map((c) => c.path));
  const problems: string[] = [];
  for (const [path, entry] of files) {
    if (chunks.has(path)) continue;
    const bytes = present.has(path) ? await source.read(path) : null;
    if (bytes === null) problems.push(`${path} is missing`);
    else if (bytes.length !== entry.size || (await sha256Hex(bytes)) !== entry.sha256) {
      problems.push(`${path} does not match its sha256 in the manifest`);
    }
  }
  for (const path of present) {
    if (!files.has(path) && !UNLISTED_FILES.has(path)) problems.push(`${path} is not listed in the manifest`);
  }
  return problems;
}

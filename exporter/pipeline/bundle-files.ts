import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { PigeonholeError } from "../../engine/errors.js";
import {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  DB_DIR,
  isSafeBundlePath,
  type Manifest,
  type ManifestFile,
  UNLISTED_FILES,
} from "../bundle-format.js";

/**
 * The files of a bundle other than the database chunks and attachments: the viewer, README.md,
 * .nojekyll and manifest.json. Nothing written here depends on the mailbox's content beyond counts.
 */

/**
 * Where the built viewer lives: `viewer/dist` at the package root (one level above `exporter/` in the
 * sources, two above `dist/exporter/` when built). Null when it has not been built.
 */
export function defaultViewerDir(): string | null {
  for (const relativePath of ["../../viewer/dist", "../../../viewer/dist"]) {
    const dir = fileURLToPath(new URL(relativePath, import.meta.url));
    if (existsSync(join(dir, "index.html")) && statSync(dir).isDirectory()) return dir;
  }
  return null;
}

/**
 * Copy the viewer's files into the bundle root; the one place a bundle gets its viewer. `viewerDir`
 * null (no built viewer) copies nothing: the bundle is still complete data, readable with any SQLite
 * tool. A viewer file may not use a name the bundle reserves (manifest, db/, attachments/).
 */
export function copyViewer(viewerDir: string | null, bundleDir: string): number {
  if (viewerDir === null) return 0;
  const files = listFiles(viewerDir);
  for (const path of files) {
    if (UNLISTED_FILES.has(path) || path.startsWith(`${DB_DIR}/`) || path.startsWith("attachments/")) {
      throw new PigeonholeError(
        "INTERNAL",
        `The viewer build holds ${path}, a path the bundle format reserves.`,
      );
    }
  }
  cpSync(viewerDir, bundleDir, { recursive: true, dereference: true, force: false, errorOnExist: true });
  return files.length;
}

/** Facts the bundle README states (no private data). */
export interface ReadmeFacts {
  preset: string;
  pseudonymized: boolean;
  encrypted: boolean;
  signed: boolean;
  viewer: boolean;
  generatedAt: string;
}

/** Write README.md (what the bundle is, how to open, verify and read it) and the empty .nojekyll. */
export function writeBundleReadme(bundleDir: string, facts: ReadmeFacts): void {
  const database = facts.encrypted
    ? "`cat db/chunk-* | age -d -i key.txt > mailbox.sqlite3` (or `age -d` alone, which asks for the passphrase)"
    : "`cat db/chunk-* > mailbox.sqlite3`";
  const open = facts.viewer
    ? "Serve this directory with any static web server (or run `pigeonhole preview .`) and open `index.html`: the viewer verifies, decrypts and reads the bundle entirely in the browser."
    : "This bundle was exported without the viewer; read the database with any SQLite tool (below), or export again with a Pigeonhole build that includes it.";
  const text = `# Pigeonhole bundle

A read-only export of a Pigeonhole mailbox: the mail AI coding agents sent each
other (projects, agents, messages, threads, attachments, file reservations), made to be served by any
static host and read in a browser with no server.

- Exported: ${facts.generatedAt}
- Scrub preset: ${facts.preset}${facts.pseudonymized ? " (agent names pseudonymized)" : ""}
- Encrypted: ${facts.encrypted ? "yes (age)" : "no"}
- Signed: ${facts.signed ? "yes (Ed25519, manifest.sig.json and manifest.json.minisig)" : "no"}

## Open

${open}

## Verify

\`manifest.json\` lists every other file with its size and sha256. \`pigeonhole verify <this directory, its zip
or its URL>\` checks each file and, for a signed bundle, the Ed25519 signature over manifest.json
(\`minisign -Vm manifest.json -p <key>\` checks the same signature with standard tools).

## Read the data

The database is SQLite, cut into fixed-size chunks under \`db/\`: ${database}
gives the database file. Its tables are described in Pigeonhole's README, section "Bundle database schema".
`;
  writeFileSync(join(bundleDir, BUNDLE_FILES.readme), text);
  writeFileSync(join(bundleDir, BUNDLE_FILES.nojekyll), "");
}

/**
 * Every file under `dir`, as sorted bundle-relative `/` paths (symbolic links followed). The bundle's
 * file operations are synchronous: a few hundred small files go faster without a round trip through
 * the thread pool each.
 */
export function listFiles(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const full = join(entry.parentPath, entry.name);
    if (statSync(full).isFile()) files.push(relative(dir, full).split(sep).join("/"));
  }
  return files.sort(byPath);
}

/** Code-unit order, so the order is the same in every locale and in the browser. */
export function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hashFile(path: string): { size: number; sha256: string } {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, sha256: hash.digest("hex") };
}

/** The manifest's fields other than `files`, which `writeManifest` fills in. */
export type ManifestBody = Omit<Manifest, "format" | "format_version" | "files">;

/**
 * Write manifest.json listing every file of `bundleDir` except the manifest and its signature files,
 * with size and sha256, sorted by path. Hashes already known (`known`, e.g. the chunks hashed while
 * written) are reused after a size check. Every path is checked with `isSafeBundlePath`. Returns the
 * manifest as written.
 */
export function writeManifest(
  bundleDir: string,
  body: ManifestBody,
  known: readonly ManifestFile[] = [],
): Manifest {
  const knownByPath = new Map(known.map((f) => [f.path, f]));
  const files: ManifestFile[] = [];
  for (const path of listFiles(bundleDir)) {
    if (UNLISTED_FILES.has(path)) continue;
    if (!isSafeBundlePath(path)) {
      throw new PigeonholeError(
        "INTERNAL",
        `Refusing to list an unsafe bundle path: ${JSON.stringify(path)}`,
      );
    }
    const full = join(bundleDir, path);
    const hit = knownByPath.get(path);
    const { size, sha256 } = hit && hit.size === statSync(full).size ? hit : hashFile(full);
    files.push({ path, size, sha256 });
  }
  const manifest: Manifest = { format: BUNDLE_FORMAT, format_version: BUNDLE_FORMAT_VERSION, ...body, files };
  writeFileSync(join(bundleDir, BUNDLE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, renameSync, rmdirSync, rmSync, type Stats, statSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fail } from "../../engine/errors.js";
import { BUNDLE_FILES } from "../bundle-format.js";

/** Prefix of the staging directory created next to `--out`. */
export const STAGING_PREFIX = ".pigeonhole-export-";

/** The private directory an export builds in; removed whatever happens. */
export interface Staging {
  /** `<parent of out>/.pigeonhole-export-<random>`, mode 0700. */
  root: string;
  /** Scratch: the snapshot and rewritten blobs (never published). */
  work: string;
  /** The bundle being built; becomes `out` (or is zipped into it). */
  bundle: string;
}

/**
 * Check that `out` may be written (CONFLICT otherwise, before any work and again at publication). A
 * directory bundle may go where nothing is, or into an empty directory, or with `force` over a previous
 * bundle (a directory holding manifest.json): `force` never replaces a directory that is not a bundle,
 * so a mistyped `--out` cannot delete someone's files. A zip may go where nothing is, or with `force`
 * over an existing file.
 */
export async function assertOutAvailable(out: string, force: boolean, zip = false): Promise<void> {
  const info = await stat(out).catch(() => null);
  if (info === null) return;
  if (zip) {
    if (info.isDirectory())
      throw fail.conflict(`${out} is a directory; --zip writes a file, so choose a file name.`);
    if (!force)
      throw fail.conflict(`${out} already exists; pass --force to replace it, or choose another --out.`);
    return;
  }
  if (!info.isDirectory())
    throw fail.conflict(`${out} is a file; choose a directory for --out (or add --zip).`);
  const entries = await readdir(out);
  if (entries.length === 0) return;
  if (!entries.includes(BUNDLE_FILES.manifest)) {
    throw fail.conflict(
      `${out} is not empty and is not a bundle; choose another --out (--force replaces only a previous bundle).`,
      { out },
    );
  }
  if (!force) {
    throw fail.conflict(
      `${out} already holds a bundle; pass --force to replace it, or choose another --out.`,
      { out },
    );
  }
}

/**
 * Create the staging directory next to `out` (same file system, so publication is a rename); the
 * parent of `out` is created if needed. The directory is private (0700): it holds the unscrubbed
 * snapshot while the export runs.
 */
export async function createStaging(out: string): Promise<Staging> {
  const parent = dirname(resolve(out));
  await mkdir(parent, { recursive: true });
  const root = join(parent, `${STAGING_PREFIX}${randomBytes(8).toString("hex")}`);
  await mkdir(root, { mode: 0o700 });
  const staging = { root, work: join(root, "work"), bundle: join(root, "bundle") };
  await mkdir(staging.work, { mode: 0o700 });
  await mkdir(staging.bundle);
  return staging;
}

/**
 * Remove the staging directory and everything in it. If a `--force` swap was cut between its two
 * renames (the old `out` parked in the staging directory, no new one in place), the old content is
 * first moved back to `out`. Never throws.
 */
export async function removeStaging(staging: Staging, out: string): Promise<void> {
  const previous = join(staging.root, "previous");
  if (existsSync(previous) && !existsSync(out)) await rename(previous, out).catch(() => {});
  await rm(staging.root, { recursive: true, force: true }).catch(() => {});
}

/** `removeStaging` for a process that is exiting (synchronous: an `exit` handler cannot wait). */
export function removeStagingSync(staging: Staging, out: string): void {
  try {
    const previous = join(staging.root, "previous");
    if (existsSync(previous) && !existsSync(out)) renameSync(previous, out);
  } catch {
    // Best effort: the old content stays in the staging directory, whose name says what it is.
  }
  rmSync(staging.root, { recursive: true, force: true });
}

/**
 * Move the finished `built` path (the bundle directory or the zip file, inside `staging`) to `out`
 * atomically: a rename, so readers see the old content or the new one, never a half-written bundle.
 * An empty directory at `out` is replaced. With `force`, an existing `out` is first renamed into the
 * staging directory (and removed with it afterwards); if the second rename fails, it is put back. Only
 * a crash between those two renames leaves `out` absent, with the previous content intact in
 * `<staging>/previous`.
 */
export async function publish(
  staging: Staging,
  built: string,
  out: string,
  options: { force: boolean; zip: boolean },
): Promise<void> {
  await assertOutAvailable(out, options.force, options.zip);
  // Synchronous from here on: nothing else may run between the check and the renames.
  const info = statOrNull(out);
  if (info === null) {
    renameSync(built, out);
    return;
  }
  if (info.isDirectory() && readdirSync(out).length === 0) {
    rmdirSync(out);
    renameSync(built, out);
    return;
  }
  const previous = join(staging.root, "previous");
  renameSync(out, previous);
  try {
    renameSync(built, out);
  } catch (error) {
    renameSync(previous, out);
    throw error;
  }
}

function statOrNull(path: string): Stats | null {
  return statSync(path, { throwIfNoEntry: false }) ?? null;
}

/** The staging directories an interrupted export may have left next to `out` (for diagnostics and tests). */
export async function leftoverStaging(out: string): Promise<string[]> {
  const parent = dirname(resolve(out));
  const entries = await readdir(parent).catch(() => [] as string[]);
  return entries.filter((e) => e.startsWith(STAGING_PREFIX)).map((e) => join(parent, basename(e)));
}

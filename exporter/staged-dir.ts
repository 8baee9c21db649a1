import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fail } from "../engine/errors.js";

/**
 * A directory built in a hidden staging directory next to its destination and published with one
 * rename, so the destination holds either nothing new or the complete result, never a half-written one.
 */
export interface StagedDir {
  /** Where to write; becomes `destination` on `publish()`. */
  readonly path: string;
  /** Move the staging directory to the destination (replacing an empty or, with force, any directory). */
  publish(): Promise<void>;
  /** Remove the staging directory (after a failure). Idempotent; a no-op after publish. */
  discard(): Promise<void>;
}

/**
 * Check that `destination` may be written and create its staging directory. It may be absent, an empty
 * directory, or with `force` a previous bundle (a directory holding manifest.json): `force` never
 * replaces a directory that is not a bundle, so a mistyped --out cannot delete a home directory. Throws
 * CONFLICT, before anything is written, otherwise.
 */
export async function stageDir(destination: string, options: { force?: boolean } = {}): Promise<StagedDir> {
  const target = resolve(destination);
  const existing = await entriesOf(target);
  if (existing === "file") throw fail.conflict(`${destination} is a file; choose a directory for --out.`);
  if (existing !== null && existing.length > 0) {
    if (!existing.includes("manifest.json")) {
      throw fail.conflict(
        `${destination} is not empty and is not a bundle; choose another --out (--force replaces only a bundle).`,
      );
    }
    if (!options.force) {
      throw fail.conflict(
        `${destination} already holds a bundle; choose another --out or pass --force to replace it.`,
      );
    }
  }
  const suffix = randomBytes(6).toString("hex");
  const path = join(dirname(target), `.${basename(target)}.staging-${suffix}`);
  await mkdir(path, { recursive: false });
  let published = false;
  return {
    path,
    async publish() {
      const old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
      const hadTarget = (await entriesOf(target)) !== null;
      if (hadTarget) await rename(target, old);
      try {
        await rename(path, target);
      } catch (error) {
        if (hadTarget) await rename(old, target);
        throw error;
      }
      published = true;
      if (hadTarget) await rm(old, { recursive: true, force: true });
    },
    async discard() {
      if (!published) await rm(path, { recursive: true, force: true });
    },
  };
}

async function entriesOf(path: string): Promise<string[] | "file" | null> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ENOTDIR") return "file";
    throw error;
  }
}

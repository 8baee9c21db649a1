import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fail } from "../engine/errors.js";
import { BUNDLE_FILES } from "./bundle-format.js";

/**
 * A directory built in a hidden staging directory next to its destination and published with one
 * rename, so the destination holds either nothing new or the complete result, never a half-written one.
 */
export interface StagedDir {
  /** Where to write; becomes the destination on `publish()`. */
  readonly path: string;
  /** Private scratch space (mode 0700) on the same file system; never published. */
  readonly work: string;
  /** Move `path` to the destination (replacing an empty directory or, with force, a previous bundle). */
  publish(): Promise<void>;
  /** Remove the staging directory, scratch included. Idempotent; call it whatever happened. */
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
    if (!existing.includes(BUNDLE_FILES.manifest)) {
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
  const root = join(dirname(target), `.${basename(target)}.staging-${randomBytes(6).toString("hex")}`);
  const path = join(root, "bundle");
  const work = join(root, "work");
  await mkdir(root, { mode: 0o700 });
  await mkdir(path);
  await mkdir(work, { mode: 0o700 });
  return {
    path,
    work,
    async publish() {
      const previous = join(root, "previous");
      const hadTarget = (await entriesOf(target)) !== null;
      if (hadTarget) await rename(target, previous);
      try {
        await rename(path, target);
      } catch (error) {
        if (hadTarget) await rename(previous, target);
        throw error;
      }
    },
    discard: () => rm(root, { recursive: true, force: true }),
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

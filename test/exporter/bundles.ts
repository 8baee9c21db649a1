import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { zipSync } from "fflate";
import { type BundleVectorSet, buildBundleVectors } from "../../fixtures/bundle-vectors.js";

/** Shared set-up of the exporter tests: the bundle vectors in a temporary directory, copies, zips. */

/** A temporary directory for one test file, with the vectors built inside (`vectors.root`). */
export async function vectorWorkspace(prefix: string): Promise<{
  root: string;
  vectors: BundleVectorSet;
  vector(name: string): BundleVectorSet["vectors"][number];
  /** A fresh copy of vector `name`'s directory, for tests that modify it. */
  copy(name: string): string;
  /** A fresh empty directory path (not created). */
  path(label: string): string;
  cleanup(): void;
}> {
  const root = mkdtempSync(join(tmpdir(), `pigeonhole-${prefix}-`));
  const vectors = await buildBundleVectors(join(root, "vectors"));
  let counter = 0;
  const vector = (name: string) => {
    const found = vectors.vectors.find((v) => v.name === name);
    if (!found) throw new Error(`no vector ${name}`);
    return found;
  };
  return {
    root,
    vectors,
    vector,
    copy(name) {
      const dir = join(root, `copy-${++counter}-${name}`);
      cpSync(vector(name).dir, dir, { recursive: true });
      return dir;
    },
    path: (label) => join(root, `${label}-${++counter}`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Zip every file of `dir` (names relative to it, under `prefix` when given). */
export function zipDirectory(dir: string, prefix = ""): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files[prefix + relative(dir, full).split(sep).join("/")] = new Uint8Array(readFileSync(full));
  }
  return zipSync(files);
}

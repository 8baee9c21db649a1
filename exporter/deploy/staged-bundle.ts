import { copyFile, lstat, mkdir, realpath, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fail } from "../../engine/errors.js";
import { BUNDLE_FILES, isSafeBundlePath, type Manifest } from "../bundle-format.js";
import { directoryReader } from "../verify/dir-reader.js";
import { openBundle } from "../verify/open.js";
import type { BundleReader } from "../verify/reader.js";
import { type VerifyProblem, type VerifyResult, verifyBundle } from "../verify/verify.js";

/** A bundle copied into a private directory and verified there: exactly what a deploy publishes. */
export interface StagedBundle {
  /** The copy. Nothing else is in it. */
  dir: string;
  /** Every file of the copy, `/`-separated, sorted; `.nojekyll` included. */
  files: string[];
  manifest: Manifest;
  verification: VerifyResult;
  /** The bundle had no `.nojekyll` and one was added (GitHub Pages would hide `_astro/` without it). */
  addedNojekyll: boolean;
}

/** Problems quoted in the one-line refusal; the rest are counted. */
const QUOTED_PROBLEMS = 5;

/**
 * Copy the bundle at `source` (a directory or a .zip) into `dest` (created; must not exist) and verify
 * the copy, so what gets published is byte for byte what was verified, whatever happens to `source`
 * meanwhile. Only regular files are copied: a symbolic link or special file in a bundle directory is
 * refused. Throws INVALID_ARGUMENT naming the problems when the copy does not verify (unsigned bundles
 * pass only with `allowUnsigned`); an http(s) source is refused (a deploy publishes a local bundle).
 * Adds an empty `.nojekyll` after verifying when the bundle lacks one.
 */
export async function stageVerifiedBundle(
  source: string,
  dest: string,
  options: { allowUnsigned?: boolean } = {},
): Promise<StagedBundle> {
  if (/^https?:\/\//i.test(source)) {
    throw fail.invalid(
      `deploy publishes a local bundle; ${source} is a URL. Give a bundle directory or .zip (pigeonhole export --out DIR).`,
    );
  }
  const reader = await openBundle(source);
  try {
    await mkdir(dest, { mode: 0o700 });
    const isDirectory = (await stat(source)).isDirectory();
    await copyBundle(reader, isDirectory ? await realpath(source) : null, dest);
  } finally {
    await reader.close();
  }
  const verification = await verifyBundle(await directoryReader(dest), {
    allowUnsigned: options.allowUnsigned === true,
  });
  if (!verification.ok || !verification.manifest) {
    throw fail.invalid(`Refusing to deploy ${source}: ${describeProblems(verification.problems)}`, {
      problems: verification.problems,
    });
  }
  let addedNojekyll = false;
  const files = (await directoryReader(dest).then((r) => r.list())) ?? [];
  if (!files.includes(BUNDLE_FILES.nojekyll)) {
    await writeFile(join(dest, BUNDLE_FILES.nojekyll), "");
    files.push(BUNDLE_FILES.nojekyll);
    files.sort();
    addedNojekyll = true;
  }
  return { dir: dest, files, manifest: verification.manifest, verification, addedNojekyll };
}

/** "it does not verify (N problems): path: problem; ..." on one line, the first few problems quoted. */
export function describeProblems(problems: readonly VerifyProblem[]): string {
  const quoted = problems.slice(0, QUOTED_PROBLEMS).map(({ path, problem }) => `${path}: ${problem}`);
  const more = problems.length > QUOTED_PROBLEMS ? `; and ${problems.length - QUOTED_PROBLEMS} more` : "";
  const hint = problems.some((p) => p.problem.includes("unsigned"))
    ? " (sign it with pigeonhole export --sign-key, or pass --allow-unsigned)"
    : " (run pigeonhole verify on it for details)";
  return `it does not verify (${problems.length} problem${problems.length === 1 ? "" : "s"}): ${quoted.join("; ")}${more}${hint}.`;
}

async function copyBundle(reader: BundleReader, realRoot: string | null, dest: string): Promise<void> {
  const paths = (await reader.list()) ?? [];
  for (const path of paths) {
    if (!isSafeBundlePath(path)) throw fail.invalid(`${reader.source}: unsafe path ${JSON.stringify(path)}.`);
    const target = join(dest, ...path.split("/"));
    await mkdir(dirname(target), { recursive: true });
    if (realRoot === null) {
      const bytes = await reader.read(path, Number.MAX_SAFE_INTEGER - 1);
      if (bytes) await writeFile(target, bytes, { mode: 0o644 });
      continue;
    }
    // Streamed by the kernel rather than read into memory: chunks can be large.
    const full = join(realRoot, ...path.split("/"));
    const info = await lstat(full);
    if (!info.isFile() || (await realpath(full)) !== full) {
      throw fail.invalid(
        `${reader.source}: ${path} is not a regular file (a symbolic link or special file); bundles hold regular files only.`,
        { path },
      );
    }
    await copyFile(full, target);
  }
}

import { join } from "node:path";
import type { SimpleGit } from "simple-git";
import { argumentChunks } from "../../engine/archive/repo.js";
import { fail } from "../../engine/errors.js";
import { deployGit, redactUrls, runGit } from "./git-client.js";

/** How a deploy changed the branch. */
export type DeployStatus =
  /** The branch did not exist: it now holds one root commit. */
  | "created"
  /** A new commit on top of the branch's previous head (history kept). */
  | "updated"
  /** A new root commit replaced the branch and its history (`orphan`). */
  | "replaced"
  /** The branch already held exactly these files: nothing was committed or pushed. */
  | "unchanged";

export interface GitPublishOptions {
  /** The verified bundle copy (`StagedBundle.dir`) and its files. */
  bundleDir: string;
  files: readonly string[];
  /** Any Git URL or path: `git@github.com:o/r.git`, `https://…`, `/srv/site.git`. */
  remote: string;
  branch: string;
  message: string;
  orphan: boolean;
  /** An empty private directory for the scratch repository (removed by the caller). */
  workDir: string;
}

export interface GitPublishResult {
  status: DeployStatus;
  /** The branch's head after the deploy. */
  commit: string;
  /** The branch's head before (null when it did not exist). */
  previous: string | null;
}

/**
 * Publish the bundle's files as the whole content of `branch` on `remote`, with plumbing in a scratch
 * repository: no checkout, and Git's content filters, attributes, ignore rules and line-ending
 * conversions never touch a byte (`hash-object --no-filters`; every file is mode 100644). Only the
 * branch head is fetched (depth 1). The new commit's parent is that head (history kept) unless `orphan`,
 * which makes a root commit and force-pushes it, with a lease on the head that was seen, so a push that
 * raced ours is never overwritten unseen. A plain push is a fast-forward, refused when the branch moved.
 * When the branch already holds exactly these files nothing is pushed (`unchanged`).
 */
export async function publishWithGit(options: GitPublishOptions): Promise<GitPublishResult> {
  const { remote, branch } = options;
  if (remote.startsWith("-") || /\p{Cc}/u.test(remote)) {
    throw fail.invalid(`${JSON.stringify(redactUrls(remote))} is not a Git URL or path.`);
  }
  const where = `${redactUrls(remote)} (branch ${branch})`;
  const git = await deployGit(options.workDir);
  await runGit(git, ["init", "-q"], "create a scratch repository");
  await runGit(
    git,
    ["check-ref-format", `refs/heads/${branch}`],
    `use ${JSON.stringify(branch)} as a branch`,
  );
  await runGit(git, ["remote", "add", "origin", remote], `use ${redactUrls(remote)} as a remote`);

  const previous = await remoteHead(git, branch, where);
  if (previous !== null && !options.orphan) {
    await runGit(
      git,
      ["fetch", "-q", "--no-tags", "--depth=1", "origin", `refs/heads/${branch}`],
      `fetch ${where}`,
    );
  }
  const tree = await writeTree(git, options.bundleDir, options.files);
  if (previous !== null && !options.orphan) {
    const fetched = await runGit(git, ["rev-parse", "FETCH_HEAD"], "read the fetched head");
    const previousTree = await runGit(git, ["rev-parse", "FETCH_HEAD^{tree}"], "read the fetched tree");
    if (previousTree === tree) return { status: "unchanged", commit: fetched, previous: fetched };
  }
  const parents = previous !== null && !options.orphan ? ["-p", "FETCH_HEAD"] : [];
  const commit = await runGit(
    git,
    ["commit-tree", "--no-gpg-sign", tree, ...parents, "-m", options.message],
    "create the deploy commit",
  );
  const force = options.orphan ? [`--force-with-lease=refs/heads/${branch}:${previous ?? ""}`] : [];
  await runGit(git, ["push", "-q", ...force, "origin", `${commit}:refs/heads/${branch}`], `push to ${where}`);
  const status = previous === null ? "created" : options.orphan ? "replaced" : "updated";
  return { status, commit, previous };
}

/** The commit `refs/heads/<branch>` names on the remote, or null when there is no such branch. */
async function remoteHead(git: SimpleGit, branch: string, where: string): Promise<string | null> {
  const ref = `refs/heads/${branch}`;
  const out = await runGit(git, ["ls-remote", "origin", ref], `read ${where}`);
  // ls-remote matches patterns by their tail; only the exact ref counts.
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (name === ref && sha) return sha;
  }
  return null;
}

/** Hash every file into the object store and build their tree in a fresh index; returns the tree id. */
async function writeTree(git: SimpleGit, bundleDir: string, files: readonly string[]): Promise<string> {
  const shas: string[] = [];
  for (const chunk of argumentChunks(files.map((path) => join(bundleDir, ...path.split("/"))))) {
    const out = await runGit(
      git,
      ["hash-object", "-w", "--no-filters", "--", ...chunk],
      "store the bundle's files",
    );
    shas.push(...out.split("\n").filter((line) => line !== ""));
  }
  if (shas.length !== files.length) throw fail.invalid("git hash-object did not hash every bundle file.");
  const entries = files.flatMap((path, i) => ["--cacheinfo", `100644,${shas[i]},${path}`]);
  // Two arguments per file: chunk by pairs so no `--cacheinfo` is separated from its value.
  const pairs: string[] = [];
  for (let i = 0; i < entries.length; i += 2) pairs.push(`${entries[i]}\0${entries[i + 1]}`);
  for (const chunk of argumentChunks(pairs)) {
    const args = chunk.flatMap((pair) => pair.split("\0"));
    await runGit(git, ["update-index", "--add", ...args], "stage the bundle's files");
  }
  return runGit(git, ["write-tree"], "write the bundle's tree");
}

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fail } from "../../engine/errors.js";
import { type GitPublishResult, publishWithGit } from "./git-publish.js";
import type { RetryPolicy } from "./github-client.js";
import { type GitHubPublishResult, publishWithGitHub } from "./github-publish.js";
import { type StagedBundle, stageVerifiedBundle } from "./staged-bundle.js";

/** The branch `deploy` publishes to unless told otherwise: the one GitHub Pages serves by convention. */
export const DEFAULT_BRANCH = "gh-pages";

/** Where a bundle goes. */
export type DeployTarget =
  | { kind: "git"; remote: string }
  | {
      kind: "github";
      /** `owner/repo`. */
      repo: string;
      token: string;
      tokenEnv: string;
      apiUrl: string;
      userAgent: string;
      retry?: RetryPolicy;
      onUpload?: (done: number, total: number) => void;
    };

export interface DeployOptions {
  /** A bundle directory or .zip. */
  source: string;
  target: DeployTarget;
  /** Default DEFAULT_BRANCH. */
  branch?: string;
  /** Commit message; default `defaultMessage` of the bundle. */
  message?: string;
  /** Replace the branch's history with one new root commit. */
  orphan?: boolean;
  /** Publish a bundle without a signature (its files are still verified). */
  allowUnsigned?: boolean;
}

export type DeployResult = { bundle: Omit<StagedBundle, "dir"> } & (
  | ({ kind: "git" } & GitPublishResult)
  | ({ kind: "github" } & GitHubPublishResult)
);

/**
 * Deploy a bundle: copy it to a private temporary directory, verify the copy (refusing, with its
 * problems, one that does not verify; nothing is pushed then), and publish that copy as the whole
 * content of the branch, by Git push or the GitHub API. The temporary directory is removed whatever
 * happens. Throws INVALID_ARGUMENT for a bad branch name or `owner/repo`.
 */
export async function deployBundle(options: DeployOptions): Promise<DeployResult> {
  const branch = options.branch ?? DEFAULT_BRANCH;
  checkBranch(branch);
  if (options.target.kind === "github") checkRepo(options.target.repo);
  const work = await mkdtemp(join(tmpdir(), "pigeonhole-deploy-"));
  try {
    const staged = await stageVerifiedBundle(options.source, join(work, "bundle"), {
      allowUnsigned: options.allowUnsigned === true,
    });
    const { dir, ...bundle } = staged;
    const common = {
      bundleDir: dir,
      files: staged.files,
      branch,
      message: options.message ?? defaultMessage(staged),
      orphan: options.orphan === true,
    };
    const target = options.target;
    if (target.kind === "git") {
      const result = await publishWithGit({ ...common, remote: target.remote, workDir: join(work, "repo") });
      return { kind: "git", bundle, ...result };
    }
    const result = await publishWithGitHub({
      ...common,
      ...target.retry,
      repo: target.repo,
      token: target.token,
      tokenEnv: target.tokenEnv,
      apiUrl: target.apiUrl,
      userAgent: target.userAgent,
      ...(target.onUpload ? { onUpload: target.onUpload } : {}),
    });
    return { kind: "github", bundle, ...result };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** "Publish Pigeonhole bundle of <generated_at>: N messages, signed by key F" (or "unsigned"). */
export function defaultMessage(bundle: Pick<StagedBundle, "manifest" | "verification">): string {
  const { manifest, verification } = bundle;
  const signer = verification.signed ? `signed by key ${verification.key_fingerprint}` : "unsigned";
  return `Publish Pigeonhole bundle of ${manifest.generated_at}: ${manifest.counts.messages} messages, ${signer}`;
}

/**
 * Branch names Git and GitHub both accept, and that cannot be read as an option: letters, digits and
 * `._/-`, not starting with `-`, `/` or `.`, no `..` or `//`, not ending in `/`, `.` or `.lock`.
 */
export function checkBranch(branch: string): void {
  const ok =
    /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(branch) &&
    !/\.\.|\/\/|\/\.|\/$|\.$|\.lock$/.test(branch) &&
    branch.length <= 200;
  if (!ok) {
    throw fail.invalid(
      `--branch ${JSON.stringify(branch)} is not a usable branch name (letters, digits, . _ / -; e.g. ${DEFAULT_BRANCH}).`,
    );
  }
}

function checkRepo(repo: string): void {
  if (!/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(repo) || /\/\.\.?$/.test(repo)) {
    throw fail.invalid(`--github ${JSON.stringify(repo)} is not OWNER/REPO (e.g. octo-org/audit).`);
  }
}

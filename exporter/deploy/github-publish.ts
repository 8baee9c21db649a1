import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fail, PigeonholeError } from "../../engine/errors.js";
import type { DeployStatus } from "./git-publish.js";
import {
  type GitHubContext,
  githubClient,
  githubFailure,
  isRateLimited,
  type RetryPolicy,
} from "./github-client.js";

export interface GitHubPublishOptions extends RetryPolicy {
  bundleDir: string;
  files: readonly string[];
  /** `owner/repo`. */
  repo: string;
  branch: string;
  message: string;
  orphan: boolean;
  token: string;
  /** Name of the environment variable the token came from (for messages). */
  tokenEnv: string;
  apiUrl: string;
  userAgent: string;
  /** Told after each blob upload. */
  onUpload?: (done: number, total: number) => void;
}

/** Where Pages stands after the deploy. */
export interface PagesState {
  /** `enabled`: this deploy turned Pages on; `already`: it was on. */
  state: "enabled" | "already";
  /** The site's address as GitHub reports it, when it does. */
  url: string | null;
  /** Pages publishes from somewhere else (another branch, or a GitHub Actions workflow). */
  warning: string | null;
}

export interface GitHubPublishResult {
  status: DeployStatus;
  commit: string;
  previous: string | null;
  /** Blobs uploaded; the rest were already in the branch's previous tree. */
  uploaded: number;
  pages: PagesState;
}

type Client = ReturnType<typeof githubClient>;

/**
 * Publish the bundle's files as the whole content of `branch` of a GitHub repository through the REST
 * API, then make sure Pages serves that branch. Steps, in order: read the branch head (a 404 then asks
 * whether the repository itself is visible); read that commit's tree, so files already on the branch
 * are not uploaded again; create a base64 blob for each new file, checking that GitHub stored the
 * git blob id computed here; create a tree holding exactly the bundle's files (no base tree, so
 * anything else on the branch goes); create a commit whose parent is the head (none with `orphan` or a
 * new branch); move the branch to it (a fast-forward, or forced with `orphan`; created when new);
 * `POST /pages` with the branch as source (409: already on, then read to report where it publishes
 * from). When the branch already holds exactly these files, nothing is written (`unchanged`).
 */
export async function publishWithGitHub(o: GitHubPublishOptions): Promise<GitHubPublishResult> {
  const [owner = "", repo = ""] = o.repo.split("/");
  const ctx: GitHubContext = { repo: o.repo, tokenEnv: o.tokenEnv, apiUrl: o.apiUrl };
  const octokit = githubClient({ ...o, apiUrl: o.apiUrl });
  const step = async <T>(doing: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw githubFailure(error, doing, ctx);
    }
  };
  const ref = `heads/${o.branch}`;

  const previous = await step("read the branch", () => branchHead(octokit, owner, repo, ref, ctx));
  const existing = new Map<string, string>();
  if (previous !== null) {
    const commit = await step("read the branch's commit", () =>
      octokit.rest.git.getCommit({ owner, repo, commit_sha: previous }),
    );
    const tree = await step("read the branch's tree", () =>
      octokit.rest.git.getTree({ owner, repo, tree_sha: commit.data.tree.sha, recursive: "1" }),
    );
    for (const entry of tree.data.tree) {
      if (entry.type === "blob" && entry.path && entry.sha) existing.set(entry.path, entry.sha);
    }
  }

  const local = new Map<string, string>();
  for (const path of o.files) local.set(path, gitBlobId(await readFile(fileOf(o.bundleDir, path))));
  if (previous !== null && !o.orphan && sameFiles(local, existing)) {
    const pages = await step("enable Pages", () => ensurePages(octokit, owner, repo, o.branch));
    return { status: "unchanged", commit: previous, previous, uploaded: 0, pages };
  }

  // One upload per new content: a file already on the branch (under any path) or twice in the bundle is sent once at most.
  const known = new Set(existing.values());
  const needed = new Map<string, string>();
  for (const [path, sha] of local) if (!known.has(sha) && !needed.has(sha)) needed.set(sha, path);
  let uploaded = 0;
  for (const [sha, path] of needed) {
    const content = (await readFile(fileOf(o.bundleDir, path))).toString("base64");
    const blob = await step(`upload ${path}`, () =>
      octokit.rest.git.createBlob({ owner, repo, content, encoding: "base64" }),
    );
    if (blob.data.sha !== sha) {
      throw fail.invalid(`GitHub stored ${path} as blob ${blob.data.sha}, not ${sha}; deploy again.`);
    }
    uploaded++;
    o.onUpload?.(uploaded, needed.size);
  }

  const tree = await step("create the tree", () =>
    octokit.rest.git.createTree({
      owner,
      repo,
      tree: [...local].map(([path, sha]) => ({ path, mode: "100644" as const, type: "blob" as const, sha })),
    }),
  );
  const parents = previous !== null && !o.orphan ? [previous] : [];
  const commit = await step("create the commit", () =>
    octokit.rest.git.createCommit({ owner, repo, message: o.message, tree: tree.data.sha, parents }),
  );
  const sha = commit.data.sha;
  if (previous === null) {
    await step("create the branch", () =>
      octokit.rest.git.createRef({ owner, repo, ref: `refs/${ref}`, sha }),
    );
  } else {
    await step("move the branch", () =>
      octokit.rest.git.updateRef({ owner, repo, ref, sha, force: o.orphan }),
    );
  }
  const pages = await step("enable Pages", () => ensurePages(octokit, owner, repo, o.branch)).catch(
    (error: PigeonholeError) => {
      throw new PigeonholeError(error.code, `${o.branch} now holds commit ${sha}, but: ${error.message}`);
    },
  );
  const status = previous === null ? "created" : o.orphan ? "replaced" : "updated";
  return { status, commit: sha, previous, uploaded, pages };
}

/** The id Git gives a file's content: sha1 of `blob <size>\0<bytes>`. */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** The branch head, or null when the branch does not exist in a repository the token can see. */
async function branchHead(
  octokit: Client,
  owner: string,
  repo: string,
  ref: string,
  ctx: GitHubContext,
): Promise<string | null> {
  try {
    return (await octokit.rest.git.getRef({ owner, repo, ref })).data.object.sha;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
  // A missing branch and an invisible repository both answer 404; the repository itself tells them apart.
  try {
    await octokit.rest.repos.get({ owner, repo });
  } catch (error) {
    throw githubFailure(error, "find the repository", ctx);
  }
  return null;
}

async function ensurePages(
  octokit: Client,
  owner: string,
  repo: string,
  branch: string,
): Promise<PagesState> {
  try {
    const created = await octokit.rest.repos.createPagesSite({
      owner,
      repo,
      build_type: "legacy",
      source: { branch, path: "/" },
    });
    return { state: "enabled", url: created.data.html_url ?? null, warning: null };
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 403 && !isRateLimited(error)) {
      throw new PigeonholeError(
        "PERMISSION_DENIED",
        `Cannot enable Pages on ${owner}/${repo}: that takes a repository administrator's token (fine-grained: Administration and Pages, read and write); or enable it once in Settings → Pages (Deploy from a branch: ${branch}, /) and deploy again.`,
      );
    }
    if (status !== 409) throw error;
  }
  const site = (await octokit.rest.repos.getPages({ owner, repo })).data;
  const source = site.source;
  let warning: string | null = null;
  if (site.build_type === "workflow") {
    warning = `Pages publishes from a GitHub Actions workflow, not from ${branch}; switch Settings → Pages → Source to "Deploy from a branch" (${branch}, /) to serve this deploy.`;
  } else if (source && (source.branch !== branch || source.path !== "/")) {
    warning = `Pages publishes from ${source.branch} ${source.path}, not from ${branch} /; change Settings → Pages to serve this deploy.`;
  }
  return { state: "already", url: site.html_url ?? null, warning };
}

function sameFiles(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, sha]) => b.get(path) === sha);
}

function fileOf(dir: string, path: string): string {
  return join(dir, ...path.split("/"));
}

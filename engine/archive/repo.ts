import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { promisify } from "node:util";
import { type SimpleGit, simpleGit } from "simple-git";
import { PigeonholeError } from "../errors.js";
import type { Mailbox } from "../mailbox.js";
import { ARCHIVE_README, type ArchiveFile } from "./layout.js";
import { Staging } from "./staging.js";

const execFileAsync = promisify(execFile);

/** Identity of every archive commit. `.invalid` is a reserved TLD: the address can never reach anyone. */
export const ARCHIVE_AUTHOR = { name: "Pigeonhole Archive", email: "archive@pigeonhole.invalid" } as const;

/**
 * Commits between two `git gc --auto` runs (it repacks once 50 packs or ~6,700 loose objects pile up; a
 * batch adds one pack and a few loose trees). The first commit of a writer runs it too.
 */
const HOUSEKEEPING_EVERY = 16;

/** Files written between two yields to the event loop, so a big batch never stalls the server for long. */
const WRITE_CHUNK = 256;

/** One commit of the archive, as `recentCommits` returns it. */
export interface ArchiveCommit {
  /** Abbreviated commit hash. */
  hexsha: string;
  summary: string;
  /** Author date in the stored timestamp format. */
  authored_ts: string;
}

/**
 * The archive's Git repository and working tree. Only the lease holder calls the writing methods; the
 * reading ones are safe at any time. Git runs with a clean environment (no inherited `GIT_DIR` from a
 * hook, no editor or pager), literal pathspecs, no hooks and no signing, whatever the user's config says.
 */
export class ArchiveRepo {
  readonly dir: string;
  private git: SimpleGit | null = null;
  private gitSetup: { configArgs: string[]; env: Record<string, string> } | null = null;
  private readonly tmpName = `write-${process.pid}-${randomBytes(4).toString("hex")}`;
  /** Commits made by this object, for `HOUSEKEEPING_EVERY`. */
  private commits = 0;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** True once `git init` has run in the archive directory. */
  exists(): boolean {
    return existsSync(join(this.dir, ".git", "HEAD"));
  }

  /**
   * Make sure the repository exists and has a first commit (a README explaining the layout). Returns
   * true when it had to create the repository. Throws when the archive path is not a usable directory.
   */
  async ensure(): Promise<boolean> {
    if (existsSync(this.dir) && !statSync(this.dir).isDirectory()) {
      throw new PigeonholeError(
        "INVALID_ARGUMENT",
        `archive path ${this.dir} exists and is not a directory; move it away or choose another archiveDir`,
      );
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const git = this.client();
    const created = !this.exists();
    if (created) {
      await git.raw(["init", "-q", "--initial-branch=main"]);
      await git.raw(["config", "user.name", ARCHIVE_AUTHOR.name]);
      await git.raw(["config", "user.email", ARCHIVE_AUTHOR.email]);
      await git.raw(["config", "commit.gpgsign", "false"]);
    }
    if (!(await this.hasHead())) {
      if (!existsSync(join(this.dir, "README.md"))) {
        await this.writeFiles([{ path: "README.md", content: ARCHIVE_README }]);
      }
      await git.raw(["add", "--", "README.md"]);
      await git.raw(["commit", "-q", "--no-verify", "-m", "archive: initialize"]);
    }
    return created;
  }

  /**
   * Write each file, creating directories as needed. A file that exists is replaced atomically (temp file
   * in `.git/`, then rename), so a reader never sees it half rewritten. A new file is created in place
   * (exclusively, so it never clobbers one): a crash mid-write can leave it incomplete, but its job is
   * still queued and the next drain replaces it whole. Refuses any path outside the archive or in `.git`.
   */
  async writeFiles(files: readonly ArchiveFile[]): Promise<void> {
    const tmpDir = join(this.dir, ".git", "pigeonhole-tmp");
    mkdirSync(tmpDir, { recursive: true });
    const tmp = join(tmpDir, this.tmpName);
    for (let i = 0; i < files.length; i++) {
      const file = files[i] as ArchiveFile;
      const target = this.resolveInside(file.path);
      if (!createFile(target, file.content)) {
        writeFileSync(tmp, file.content);
        renameSync(tmp, target);
      }
      if ((i + 1) % WRITE_CHUNK === 0) await yieldToEventLoop();
    }
  }

  /**
   * Start staging files as they are written (see `Staging`); `commitStaged` then commits them. Only one
   * staging or commit may run at a time: Git holds the index lock throughout.
   */
  startStaging(): Staging {
    const { configArgs, env } = this.setup();
    return new Staging(this.dir, configArgs, env);
  }

  /** Stage exactly `paths` (never the whole tree) and commit them: `startStaging` then `commitStaged`. */
  async commitPaths(paths: readonly string[], message: string): Promise<boolean> {
    const staging = this.startStaging();
    staging.add(paths);
    await staging.finish();
    return this.commitStaged(message);
  }

  /**
   * Commit what is staged with `message` on the current branch. Returns false, making no commit, when
   * the files already held this content (a job run twice). Throws when the branch moved under us
   * (someone committed by hand meanwhile): the next drain retries.
   */
  async commitStaged(message: string): Promise<boolean> {
    // Plumbing rather than `git commit`, which would lstat every file of the archive to refresh the
    // index (a cost growing with the archive, paid per batch); `write-tree` rehashes only the directories
    // the batch touched, and comparing trees replaces a `diff --cached` listing every staged path.
    const tree = (await this.run(["write-tree"])).trim();
    const [head = "", headTree = ""] = (await this.run(["rev-parse", "HEAD", "HEAD^{tree}"]))
      .trim()
      .split("\n");
    if (tree === headTree) return false;
    const [summary = "archive", ...rest] = message.split("\n");
    const body = rest.join("\n").trim();
    const args = ["commit-tree", tree, "-p", head, "-m", summary];
    if (body !== "") args.push("-m", body);
    const commit = (await this.run(args)).trim();
    // The old value makes the update conditional: a commit made meanwhile is never overwritten.
    await this.run(["update-ref", "-m", `commit: ${summary}`, "HEAD", commit, head]);
    // `git commit` would run this housekeeping itself; without it every batch's pack would pile up.
    if (this.commits++ % HOUSEKEEPING_EVERY === 0) await this.run(["gc", "--auto", "--quiet"]);
    return true;
  }

  /** The newest `limit` commits touching `relPath`, newest first; empty when there are none. */
  async log(relPath: string, limit: number): Promise<ArchiveCommit[]> {
    if (!this.exists() || limit <= 0) return [];
    let out: string;
    try {
      out = await this.client().raw(["log", `-n${limit}`, "--format=%h%x1f%s%x1f%aI", "--", relPath]);
    } catch {
      return []; // No commit yet.
    }
    return out
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const [hexsha = "", summary = "", date = ""] = line.split("\x1f");
        return { hexsha, summary, authored_ts: new Date(date).toISOString() };
      });
  }

  /** Every path committed at HEAD (empty when the repository or its first commit is missing). */
  async trackedPaths(): Promise<Set<string>> {
    if (!this.exists() || !(await this.hasHead())) return new Set();
    const out = await this.client().raw(["ls-tree", "-r", "-z", "--name-only", "HEAD"]);
    return new Set(out.split("\0").filter((p) => p !== ""));
  }

  /**
   * Clean up after a writer that died (or our own failure): lock files, half-written packs and our own
   * temporary files at least `minAgeMs` old are removed. A younger lock means a Git command may still be
   * running: the killed writer's own `git` child outlives it as an orphan and finishes its command. Then
   * `busy` is true and the caller must wait rather than run Git next to it.
   */
  clearLeftovers(minAgeMs: number): { removed: string[]; busy: boolean } {
    const gitDir = join(this.dir, ".git");
    const inDir = (dir: string, keep: (name: string) => boolean) =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter(keep)
            .map((f) => join(dir, f))
        : [];
    const locks = [
      ...["index.lock", "HEAD.lock", "packed-refs.lock"].map((f) => join(gitDir, f)),
      ...inDir(join(gitDir, "refs", "heads"), (f) => f.endsWith(".lock")),
    ];
    const scratch = [
      ...inDir(join(gitDir, "objects", "pack"), (f) => f.startsWith("tmp_")),
      ...inDir(join(gitDir, "pigeonhole-tmp"), (f) => f !== this.tmpName),
    ];
    const removed: string[] = [];
    let busy = false;
    for (const file of [...locks, ...scratch]) {
      try {
        if (Date.now() - statSync(file).mtimeMs >= minAgeMs) {
          unlinkSync(file);
          removed.push(file);
        } else if (locks.includes(file)) {
          busy = true;
        }
      } catch {
        // Gone already: nothing to clean.
      }
    }
    return { removed, busy };
  }

  private async hasHead(): Promise<boolean> {
    try {
      return (await this.client().raw(["rev-parse", "--verify", "-q", "HEAD"])).trim() !== "";
    } catch {
      return false;
    }
  }

  /** `rel` resolved under the archive root; a path escaping it (or into `.git`) is a bug, refused loudly. */
  private resolveInside(rel: string): string {
    const segments = rel.split("/");
    const target = resolve(this.dir, ...segments);
    const bad =
      segments.some((s) => s === "" || s === "." || s === ".." || /[\\\p{Cc}]/u.test(s)) ||
      segments[0] === ".git" ||
      !target.startsWith(this.dir + sep);
    if (bad) throw new PigeonholeError("INTERNAL", `refusing to write archive path ${JSON.stringify(rel)}`);
    return target;
  }

  /**
   * Run one Git command and return its output. The commit path runs Git directly: simple-git waits an
   * extra 50 ms after every command that prints nothing (`update-ref`, `gc --auto`), twice per batch.
   */
  private async run(args: readonly string[]): Promise<string> {
    const { configArgs, env } = this.setup();
    try {
      const { stdout } = await execFileAsync("git", [...configArgs, ...args], {
        cwd: this.dir,
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
      throw new Error(`git ${args[0]} failed: ${stderr || describeExit(error)}`);
    }
  }

  /** Settings every Git command of the archive runs with, whatever the user's own config says. */
  private config(): string[] {
    return [
      `user.name=${ARCHIVE_AUTHOR.name}`,
      `user.email=${ARCHIVE_AUTHOR.email}`,
      "commit.gpgsign=false",
      // Hooks from the user's global core.hooksPath must not run on every archive commit (or index write).
      `core.hooksPath=${join(this.dir, ".git", "no-hooks")}`,
      // Housekeeping runs in the foreground rather than as a detached process outliving the writer.
      "gc.autoDetach=false",
    ];
  }

  /**
   * The `-c` arguments and environment of every Git command, worked out on first use (the archive
   * directory exists by then: its real path bounds repository discovery) and kept for the next ones.
   */
  private setup(): { configArgs: string[]; env: Record<string, string> } {
    this.gitSetup ??= {
      configArgs: this.config().flatMap((pair) => ["-c", pair]),
      env: gitEnvironment(dirname(realpathSync(this.dir))),
    };
    return this.gitSetup;
  }

  private client(): SimpleGit {
    if (!this.git) {
      this.git = simpleGit({
        baseDir: this.dir,
        maxConcurrentProcesses: 1,
        trimmed: false,
        config: this.config(),
        unsafe: { allowUnsafeHooksPath: true },
      }).env(this.setup().env);
    }
    return this.git;
  }
}

/**
 * Create `path` with `content`; false when it already exists. A new message's file needs no temp file and
 * rename: creating a file is the bulk of the work, and a rename doubles the directory updates per file.
 */
function createFile(path: string, content: string): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      // O_EXCL: an existing file, directory or symlink (even a dangling one) is never written through.
      writeFileSync(path, content, { flag: "wx" });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      if (code !== "ENOENT" || attempt > 0) throw error;
    }
    // Directories are created on first need only: most files land in a directory that exists.
    mkdirSync(dirname(path), { recursive: true });
  }
}

/** Why a Git command failed without a message: how it exited, or why it did not start. */
function describeExit(error: unknown): string {
  const { code, signal } = error as { code?: unknown; signal?: unknown };
  if (typeof code === "number") return `exit ${code}`;
  if (signal) return `killed by ${String(signal)}`;
  return error instanceof Error ? error.message : String(error);
}

/** Command-line room for paths per Git call: Windows caps a command line at 32,767 characters. */
const ARGUMENT_CHARS = process.platform === "win32" ? 24_000 : 512_000;

/** Split `paths` into runs that fit on one command line. */
export function argumentChunks(paths: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const path of paths) {
    if (chunk.length > 0 && size + path.length + 1 > ARGUMENT_CHARS) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(path);
    size += path.length + 1;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** glibc malloc settings for Git: 32 MiB mmap threshold, 64 MiB trim threshold (see `gitEnvironment`). */
const GIT_MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864";

/**
 * The environment Git runs in: ours minus anything that would redirect it (`GIT_DIR`, `GIT_INDEX_FILE`
 * and friends, set when we run inside a Git hook) or make it interactive (editor, pager, askpass), and
 * with `ceiling` (the archive's parent) as the limit of repository discovery.
 */
export function gitEnvironment(ceiling: string): Record<string, string> {
  const env: Record<string, string> = {};
  const dropped = new Set(["EDITOR", "VISUAL", "PAGER", "PREFIX", "SSH_ASKPASS"]);
  for (const [key, value] of Object.entries(process.env)) {
    const upper = key.toUpperCase();
    if (value === undefined || upper.startsWith("GIT_") || dropped.has(upper)) continue;
    env[key] = value;
  }
  // Git must never walk up from a broken archive into an enclosing repository (a dotfiles repo in ~).
  env.GIT_CEILING_DIRECTORIES = ceiling;
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_LITERAL_PATHSPECS = "1";
  // Streaming each blob into a pack (core.bigFileThreshold=1) sets up a zlib stream of a few hundred KiB
  // per file. Above glibc's default 128 KiB mmap threshold every one of them is mapped, zeroed by page
  // faults and unmapped again: two thirds of `update-index`'s CPU for a batch of messages. A higher
  // threshold keeps them on the heap. Other C libraries ignore the variable; a user's own setting wins.
  env.GLIBC_TUNABLES ??= GIT_MALLOC_TUNABLES;
  return env;
}

/**
 * The newest `limit` archive commits that touched `relPath` (for `whois`'s `include_recent_commits`),
 * newest first. Empty when the archive is off, not created yet, or has no such commit.
 */
export async function recentCommits(mb: Mailbox, relPath: string, limit: number): Promise<ArchiveCommit[]> {
  if (!mb.archiveEnabled) return [];
  return new ArchiveRepo(mb.paths.archive).log(relPath, limit);
}

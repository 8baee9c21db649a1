import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

/** Characters of Git's error output kept for the error message. */
const STDERR_CHARS = 4000;

/**
 * One `git update-index --add -z --stdin` fed while a batch is being written: Git reads, hashes and packs
 * each file as soon as its path arrives, so staging overlaps writing instead of following it, and a
 * batch's commit only waits for the last few files. `update-index` stages exactly the paths given (where
 * `git add <pathspecs>` would match every file of their directories against every pathspec), and the
 * 1-byte big-file threshold streams all their blobs into one pack file instead of a loose object each.
 * Git holds the index lock from the first path to `finish()`.
 */
export class Staging {
  private child: ChildProcessByStdio<Writable, null, Readable> | null = null;
  private exited: Promise<number | null> = Promise.resolve(0);
  private failure: Error | null = null;
  private stderr = "";

  /** `config` is `-c name=value` pairs for Git; `env` its environment (see `gitEnvironment`). */
  constructor(
    private readonly dir: string,
    private readonly config: readonly string[],
    private readonly env: Record<string, string>,
  ) {}

  /** Hand `paths` (relative to the archive root, already written) to Git. Failures surface in `finish`. */
  add(paths: readonly string[]): void {
    if (paths.length === 0 || this.failure) return;
    const child = this.child ?? this.start();
    // NUL-separated: any character but NUL may appear in a path.
    child.stdin.write(`${paths.join("\0")}\0`);
  }

  /** Wait until Git has staged every path and written the index; throws when it failed. */
  async finish(): Promise<void> {
    if (!this.child) return;
    this.child.stdin.end();
    const code = await this.exited;
    if (this.failure) throw this.failure;
    if (code !== 0) {
      throw new Error(`git update-index failed (exit ${code}): ${this.stderr.trim() || "no message"}`);
    }
  }

  /** Stop Git without staging the rest (it removes its index lock on SIGTERM) and wait for it to exit. */
  async abort(): Promise<void> {
    if (!this.child) return;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.exited;
  }

  private start(): ChildProcessByStdio<Writable, null, Readable> {
    const child = spawn(
      "git",
      [...this.config, "-c", "core.bigFileThreshold=1", "update-index", "--add", "-z", "--stdin"],
      { cwd: this.dir, env: this.env, stdio: ["pipe", "ignore", "pipe"] },
    );
    this.exited = new Promise((resolve) => {
      child.on("close", (code) => resolve(code));
      // A process that never started emits `error` and maybe no `close`.
      child.on("error", (error) => {
        this.failure ??= error;
        resolve(null);
      });
    });
    // EPIPE when Git stopped early (a lock held by someone else): its exit code and message say why.
    child.stdin.on("error", () => {});
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (this.stderr.length < STDERR_CHARS) this.stderr += chunk;
    });
    this.child = child;
    return child;
  }
}

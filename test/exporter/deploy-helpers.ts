import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";

/** Real Git for the deploy tests, with none of the caller's GIT_* variables or prompts. */

function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("GIT_")) out[key] = value;
  }
  out.GIT_TERMINAL_PROMPT = "0";
  return out;
}

/** Run git in `cwd` and return its trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: env(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Create an empty bare repository at `dir` (its parent must exist). */
export function bareRepo(dir: string): string {
  execFileSync("git", ["init", "-q", "--bare", dir], { env: env() });
  return dir;
}

/** Clone `branch` of `remote` into `dest` and drop `.git`, leaving exactly the branch's files. */
export function checkoutBranch(remote: string, branch: string, dest: string): string {
  execFileSync("git", ["clone", "-q", "--branch", branch, "--", remote, dest], { env: env() });
  rmSync(join(dest, ".git"), { recursive: true, force: true });
  return dest;
}

/** Every ref of the repository at `dir` with its commit ("" when it has none). */
export function refs(dir: string): string {
  try {
    return git(dir, "show-ref");
  } catch {
    return "";
  }
}

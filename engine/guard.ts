import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { fail } from "./errors.js";
import { LIMITS } from "./limits.js";
import type { Mailbox } from "./mailbox.js";
import { resolveProject } from "./projects.js";
import { ProjectKey, parseInput } from "./validate.js";

/**
 * Installing the pre-commit guard into a Git repository. The hook is a POSIX sh script that first runs
 * any pre-commit hook that was there before (kept as `pre-commit.pigeonhole-chained`; its failure fails
 * the commit), then `node <dist/server/guard-hook.js> --home <mailbox home> --project <slug>`, whose
 * check lives in guard-check.ts.
 */

/** A line every hook we write contains; how install and uninstall recognize their own hook. */
export const GUARD_MARKER = "# pigeonhole-precommit-guard";
/** The name a pre-existing pre-commit hook is kept under while the guard is installed. */
export const CHAINED_HOOK_NAME = "pre-commit.pigeonhole-chained";

const CodeRepoPath = z
  .string()
  .min(1, "code_repo_path must not be empty")
  .max(LIMITS.humanKeyChars)
  .describe("Absolute path of the Git work tree to guard");

export const InstallPrecommitGuardInput = z.object({ project_key: ProjectKey, code_repo_path: CodeRepoPath });
export type InstallPrecommitGuardInput = z.input<typeof InstallPrecommitGuardInput>;

export const UninstallPrecommitGuardInput = z.object({ code_repo_path: CodeRepoPath });
export type UninstallPrecommitGuardInput = z.input<typeof UninstallPrecommitGuardInput>;

export interface InstallPrecommitGuardResult {
  installed: true;
  hook_path: string;
  /** Where the pre-existing hook now lives (it runs first), or null when there was none. */
  chained_hook_path: string | null;
  /** True when the guard was already installed (the hook was rewritten with current paths). */
  already_installed: boolean;
  project: string;
}

export interface UninstallPrecommitGuardResult {
  removed: boolean;
  /** True when the pre-existing hook was put back as `pre-commit`. */
  restored_hook: boolean;
  hook_path: string;
}

// Variables that would point git at another repository than `code_repo_path`.
const REPO_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY"];

function git(cwd: string, args: string[]): string {
  const env = { ...process.env };
  for (const name of REPO_ENV) delete env[name];
  return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The hooks directory of the work tree at `repoPath` (honouring core.hooksPath), after checking it. */
function hooksDirectory(repoPath: string): string {
  if (!isAbsolute(repoPath)) {
    throw fail.invalid(
      `code_repo_path ${JSON.stringify(repoPath)} is relative; pass the absolute path of the repository.`,
    );
  }
  if (!existsSync(repoPath) || !statSync(repoPath).isDirectory()) {
    throw fail.notFound(`code_repo_path ${repoPath} is not an existing directory.`, {
      code_repo_path: repoPath,
    });
  }
  let inside = "";
  try {
    inside = git(repoPath, ["rev-parse", "--is-inside-work-tree"]);
  } catch {
    // Not a repository at all: reported below.
  }
  if (inside !== "true") {
    throw fail.invalid(
      `${repoPath} is not inside a Git work tree; run git init there first, or pass the repository's path.`,
      { code_repo_path: repoPath },
    );
  }
  return resolve(repoPath, git(repoPath, ["rev-parse", "--git-path", "hooks"]));
}

/** The package root: the nearest ancestor of this module holding our package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "pigeonhole") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("pigeonhole package root not found");
    dir = parent;
  }
}

/** Absolute path of the built hook entry the installed hook runs. */
export function guardHookEntry(): string {
  return join(packageRoot(), "dist", "server", "guard-hook.js");
}

/** `value` as one single-quoted sh word. */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The hook script, with absolute paths baked in. */
export function renderHookScript(options: {
  node: string;
  entry: string;
  home: string;
  project: string;
}): string {
  return `#!/bin/sh
${GUARD_MARKER}
# Installed by install_precommit_guard; remove with uninstall_precommit_guard (restores any earlier hook).
# Refuses commits touching paths another agent reserved exclusively in project ${options.project}.
# Name yourself with PIGEONHOLE_AGENT=<agent>; PIGEONHOLE_GUARD_BYPASS=1 skips the check.
chained="$(dirname -- "$0")/${CHAINED_HOOK_NAME}"
if [ -x "$chained" ]; then
  "$chained" "$@" || exit $?
fi
node_bin=${shQuote(options.node)}
guard_entry=${shQuote(options.entry)}
if [ ! -x "$node_bin" ]; then
  node_bin=$(command -v node 2>/dev/null) || node_bin=""
fi
if [ -z "$node_bin" ] || [ ! -f "$guard_entry" ]; then
  echo "pigeonhole guard: cannot run $guard_entry with node; commit allowed without the reservation check." >&2
  exit 0
fi
exec "$node_bin" "$guard_entry" --home ${shQuote(options.home)} --project ${shQuote(options.project)}
`;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isGuardHook(path: string): boolean {
  try {
    return readFileSync(path, "utf8").includes(GUARD_MARKER);
  } catch {
    return false;
  }
}

/**
 * Install the guard as the `pre-commit` hook of the Git work tree at `code_repo_path` (absolute; the
 * hooks directory honours `core.hooksPath`). An existing foreign hook is never overwritten: it is renamed
 * to `pre-commit.pigeonhole-chained` and run first. Installing again rewrites only our hook (idempotent).
 * The hook runs the built `dist/server/guard-hook.js` with this node binary and the mailbox home.
 */
export function installPrecommitGuard(
  mb: Mailbox,
  input: InstallPrecommitGuardInput,
): InstallPrecommitGuardResult {
  const args = parseInput(InstallPrecommitGuardInput, input);
  const project = resolveProject(mb, args.project_key);
  const hooksDir = hooksDirectory(args.code_repo_path);
  const entry = guardHookEntry();
  if (!existsSync(entry)) {
    throw fail.notFound(
      `The guard's hook entry ${entry} is missing; build the package (npm run build) first.`,
    );
  }
  mkdirSync(hooksDir, { recursive: true });
  const hookPath = join(hooksDir, "pre-commit");
  const chainedPath = join(hooksDir, CHAINED_HOOK_NAME);
  const already = exists(hookPath) && isGuardHook(hookPath);
  if (exists(hookPath) && !already) {
    if (exists(chainedPath)) {
      throw fail.conflict(
        `${hookPath} is not the pigeonhole guard, and ${chainedPath} already exists; merge or remove one of them by hand, then install again.`,
        { hook_path: hookPath, chained_hook_path: chainedPath },
      );
    }
    renameSync(hookPath, chainedPath);
  }
  const script = renderHookScript({
    node: process.execPath,
    entry,
    home: mb.paths.home,
    project: project.slug,
  });
  const temporary = `${hookPath}.pigeonhole-tmp-${process.pid}`;
  writeFileSync(temporary, script, { mode: 0o755 });
  chmodSync(temporary, 0o755);
  renameSync(temporary, hookPath);
  return {
    installed: true,
    hook_path: hookPath,
    chained_hook_path: exists(chainedPath) ? chainedPath : null,
    already_installed: already,
    project: project.slug,
  };
}

/**
 * Remove the guard from the work tree at `code_repo_path` and put back the hook it chained, byte for byte
 * and with its mode (it is renamed back). A `pre-commit` hook that is not ours is left untouched
 * (`removed: false`). Idempotent.
 */
export function uninstallPrecommitGuard(input: UninstallPrecommitGuardInput): UninstallPrecommitGuardResult {
  const args = parseInput(UninstallPrecommitGuardInput, input);
  const hooksDir = hooksDirectory(args.code_repo_path);
  const hookPath = join(hooksDir, "pre-commit");
  const chainedPath = join(hooksDir, CHAINED_HOOK_NAME);
  const ours = exists(hookPath) && isGuardHook(hookPath);
  if (exists(hookPath) && !ours) return { removed: false, restored_hook: false, hook_path: hookPath };
  if (ours) unlinkSync(hookPath);
  const restore = exists(chainedPath);
  if (restore) renameSync(chainedPath, hookPath);
  return { removed: ours, restored_hook: restore, hook_path: hookPath };
}

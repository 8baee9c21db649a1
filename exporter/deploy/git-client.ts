import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";
import { gitEnvironment } from "../../engine/archive/repo.js";
import { fail, PigeonholeError } from "../../engine/errors.js";

/** Author and committer of deploy commits. `.invalid` is a reserved TLD: the address reaches no one. */
export const DEPLOY_AUTHOR = { name: "Pigeonhole Deploy", email: "deploy@pigeonhole.invalid" } as const;

/**
 * A simple-git client for a private scratch repository at `dir`, safe whatever the user's Git setup:
 * the engine's clean environment (no inherited `GIT_*`, no editor, pager or askpass; no terminal prompt
 * for credentials), no hooks (not even a global `core.hooksPath`), no commit signing, the `ext::`
 * transport off, and SSH in batch mode unless the user chose an SSH command, so nothing can ever wait
 * for input (the user's own SSH command, from the environment or `core.sshCommand`, is kept). Credential
 * helpers and ssh-agent still work.
 */
export async function deployGit(dir: string): Promise<SimpleGit> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const env = gitEnvironment(dirname(dir));
  env.GCM_INTERACTIVE = "never";
  // The user's own SSH command (environment or core.sshCommand) wins; otherwise ssh must never prompt.
  const userSsh = process.env.GIT_SSH_COMMAND ?? process.env.GIT_SSH;
  if (userSsh !== undefined)
    env[process.env.GIT_SSH_COMMAND !== undefined ? "GIT_SSH_COMMAND" : "GIT_SSH"] = userSsh;
  const git = simpleGit({
    baseDir: dir,
    maxConcurrentProcesses: 1,
    trimmed: true,
    config: [
      `user.name=${DEPLOY_AUTHOR.name}`,
      `user.email=${DEPLOY_AUTHOR.email}`,
      "commit.gpgsign=false",
      "push.gpgSign=false",
      `core.hooksPath=${join(dir, "no-hooks")}`,
      "protocol.ext.allow=never",
      "gc.auto=0",
    ],
    unsafe: { allowUnsafeHooksPath: true, allowUnsafeSshCommand: true, allowUnsafeProtocolOverride: true },
  }).env(env);
  if (userSsh === undefined && !(await configured(git, "core.sshCommand"))) {
    git.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
  }
  return git;
}

async function configured(git: SimpleGit, key: string): Promise<boolean> {
  try {
    return (await git.raw(["config", "--get", key])) !== "";
  } catch {
    return false;
  }
}

/** `text` with the user:password part of any URL in it replaced by `***`, so no credential is printed. */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}

/**
 * Run one Git command for `what` (e.g. "push to REMOTE"); a failure becomes a one-line PigeonholeError
 * with Git's own reason and a hint: UNAUTHENTICATED when Git could not log in (prompts are off),
 * NOT_FOUND when there is no repository there, CONFLICT when the branch moved under us,
 * PERMISSION_DENIED when the remote refused the push, INVALID_ARGUMENT otherwise. Credentials in URLs are
 * redacted from every message.
 */
export async function runGit(git: SimpleGit, args: string[], what: string): Promise<string> {
  try {
    return await git.raw(args);
  } catch (error) {
    throw gitFailure(error, redactUrls(what));
  }
}

function gitFailure(error: unknown, what: string): PigeonholeError {
  const text = redactUrls(error instanceof Error ? error.message : String(error));
  const reason = gitReason(text);
  const lower = text.toLowerCase();
  if (
    /could not read (username|password)|authentication failed|terminal prompts disabled|permission denied \(publickey|host key verification failed/.test(
      lower,
    )
  ) {
    return new PigeonholeError(
      "UNAUTHENTICATED",
      `Cannot ${what}: Git could not authenticate (prompts are off): ${reason}. Use an SSH URL with a key in ssh-agent, or an https URL with a credential helper (e.g. gh auth setup-git).`,
    );
  }
  if (/\[rejected\]|non-fast-forward|fetch first|stale info|failed to push some refs/.test(lower)) {
    return fail.conflict(
      `Cannot ${what}: the branch changed on the remote while deploying (${reason}); run the deploy again.`,
    );
  }
  if (
    /repository not found|does not appear to be a git repository|not a git repository|no such file or directory|could not resolve host|unable to access/.test(
      lower,
    )
  ) {
    return fail.notFound(`Cannot ${what}: no reachable Git repository there (${reason}); check the URL.`);
  }
  if (/permission to .* denied|access denied|forbidden|\b403\b|denied/.test(lower)) {
    return new PigeonholeError(
      "PERMISSION_DENIED",
      `Cannot ${what}: the remote refused (${reason}); the account needs write access to the repository.`,
    );
  }
  return fail.invalid(`Cannot ${what}: ${reason}.`);
}

/** Git's most telling line: the first `fatal:`/`error:` line, else the last non-empty one. */
function gitReason(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const telling = lines.find((line) => /^(fatal|error):/i.test(line)) ?? lines.at(-1) ?? "git failed";
  return telling.replace(/^(fatal|error):\s*/i, "").replace(/\.$/, "");
}

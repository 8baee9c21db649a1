import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AgentRow } from "./agents.js";
import type { Mailbox } from "./mailbox.js";
import { openMailbox } from "./open.js";
import { resolveProject } from "./projects.js";
import { pathMatchesPattern } from "./reservations/glob-overlap.js";
import { activeReservations } from "./reservations/rows.js";

/** A staged path covered by another agent's active exclusive reservation. */
export interface GuardBlock {
  path: string;
  holder: string;
  path_pattern: string;
  expires_ts: string;
  reservation_id: number;
}

/** What the hook does: exit code (0 allows the commit) and text for stderr (may be empty). */
export interface GuardOutcome {
  exit_code: 0 | 1;
  message: string;
}

const PREFIX = "pigeonhole guard:";
const MAX_LINES = 50;

/**
 * Paths in the index that differ from HEAD, as Git lists them (repository-relative, `/` separators), for
 * the repository at `cwd`. Renames count as their old and new path, deletions as the deleted path. Uses
 * the caller's Git environment, so inside a hook it sees the index being committed (`git commit -a` and
 * `git commit <paths>` use a temporary index named by GIT_INDEX_FILE).
 */
export function listStagedPaths(cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out = execFileSync("git", ["diff", "--cached", "--name-only", "-z", "--no-renames"], {
    cwd,
    env,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out
    .toString("utf8")
    .split("\0")
    .filter((p) => p !== "");
}

/**
 * The blocks for `paths` in project `projectId`: every pair of a path and another agent's active
 * EXCLUSIVE reservation covering it (matched like reservations match, see glob-overlap.ts). Reservations
 * of `agent` (the committer, when known) never block.
 */
export function findGuardBlocks(
  mb: Mailbox,
  projectId: number,
  agent: AgentRow | null,
  paths: readonly string[],
): GuardBlock[] {
  const blocking = activeReservations(mb, projectId).filter(
    (r) => r.exclusive === 1 && r.agent_id !== agent?.id,
  );
  const blocks: GuardBlock[] = [];
  for (const path of paths) {
    for (const r of blocking) {
      if (!pathMatchesPattern(r.path_pattern, path)) continue;
      blocks.push({
        path,
        holder: r.agent_name,
        path_pattern: r.path_pattern,
        expires_ts: r.expires_ts,
        reservation_id: r.id,
      });
    }
  }
  return blocks;
}

/** The refusal text: one line per blocked path and holder, then what to do. */
export function formatGuardRefusal(
  blocks: readonly GuardBlock[],
  project: string,
  agent: string | null,
): string {
  const lines = [
    `${PREFIX} commit refused: staged paths are reserved exclusively by other agents (project ${project}).`,
  ];
  for (const b of blocks.slice(0, MAX_LINES)) {
    lines.push(
      `  ${b.path}: reserved by ${b.holder} (pattern ${b.path_pattern}, expires ${b.expires_ts}, reservation #${b.reservation_id})`,
    );
  }
  if (blocks.length > MAX_LINES) lines.push(`  ... and ${blocks.length - MAX_LINES} more`);
  lines.push(
    "Wait for the reservations to expire, ask the holders to release them (send_message), or unstage those paths.",
  );
  if (agent === null) {
    lines.push("PIGEONHOLE_AGENT is not set, so none of these could be recognized as your own reservations.");
  }
  lines.push("To commit anyway: PIGEONHOLE_GUARD_BYPASS=1 git commit ...");
  return lines.join("\n");
}

function allow(reason: string): GuardOutcome {
  return { exit_code: 0, message: `${PREFIX} ${reason}; commit allowed (the guard is advisory).` };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The pre-commit check, as the installed hook runs it: refuse (exit 1) when a staged path is covered by
 * another agent's active exclusive reservation in `project` (slug), naming holder, pattern and expiry per
 * path. The committer is `PIGEONHOLE_AGENT` (or `AGENT_NAME`); its own reservations never block.
 * `PIGEONHOLE_GUARD_BYPASS=1` (or `true`) skips the check with a one-line notice. Advisory by design: when
 * the mailbox, the project or the staged paths cannot be read, it warns and allows the commit.
 */
export async function runPrecommitGuard(options: {
  home: string;
  project: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}): Promise<GuardOutcome> {
  const { env } = options;
  const bypass = env.PIGEONHOLE_GUARD_BYPASS;
  if (bypass === "1" || bypass === "true") {
    return {
      exit_code: 0,
      message: `${PREFIX} bypassed by PIGEONHOLE_GUARD_BYPASS; file reservations not checked.`,
    };
  }
  if (!existsSync(join(options.home, "mailbox.sqlite3"))) {
    return allow(`no mailbox at ${options.home}`);
  }
  let mb: Mailbox;
  try {
    mb = openMailbox({ home: options.home, archive: false });
  } catch (error) {
    return allow(`could not open the mailbox at ${options.home} (${describe(error)})`);
  }
  try {
    const project = resolveProject(mb, options.project);
    const agentName = env.PIGEONHOLE_AGENT || env.AGENT_NAME || null;
    const agent =
      agentName === null
        ? null
        : (mb
            .statement<AgentRow>("SELECT * FROM agents WHERE name = ? COLLATE NOCASE AND project_id = ?")
            .get(agentName, project.id) ?? null);
    const notice =
      agentName !== null && agent === null
        ? `${PREFIX} ${agentName} is not an agent of project ${project.slug}; checking as an unknown committer.\n`
        : "";
    const blocks = findGuardBlocks(mb, project.id, agent, listStagedPaths(options.cwd, env));
    if (blocks.length === 0) return { exit_code: 0, message: notice.trimEnd() };
    return { exit_code: 1, message: notice + formatGuardRefusal(blocks, project.slug, agentName) };
  } catch (error) {
    return allow(`check failed: ${describe(error)}`);
  } finally {
    await mb.close();
  }
}

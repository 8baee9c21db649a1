import { z } from "zod";
import { type AgentProfile, getAgentProfile } from "./agents.js";
import { agentProfilePath } from "./archive/layout.js";
import { type ArchiveCommit, recentCommits } from "./archive/repo.js";
import type { Mailbox } from "./mailbox.js";
import { AgentNameInput, ProjectKey, parseInput } from "./validate.js";

export const WhoisInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput.describe("The agent to describe"),
  include_recent_commits: z.boolean().default(true).describe("Add the latest archive commits of its profile"),
  commit_limit: z.number().int().min(1).max(100).default(5),
});
export type WhoisInput = z.input<typeof WhoisInput>;

/** An agent's profile (no token) plus the latest archive commits that touched it. */
export type WhoisResult = AgentProfile & { recent_commits: ArchiveCommit[] };

/**
 * Describe an agent: its profile and, from the Git archive, the latest commits of its profile file
 * (empty when the archive is off or the profile is not archived yet).
 */
export async function whois(mb: Mailbox, input: WhoisInput): Promise<WhoisResult> {
  const args = parseInput(WhoisInput, input);
  const profile = getAgentProfile(mb, { project_key: args.project_key, agent_name: args.agent_name });
  const recent_commits = args.include_recent_commits
    ? await recentCommits(mb, agentProfilePath(profile.project_slug, profile.name), args.commit_limit)
    : [];
  return { ...profile, recent_commits };
}

import { type AgentRow, resolveAgent } from "../agents.js";
import type { Mailbox } from "../mailbox.js";
import type { Project } from "../projects.js";

/**
 * Who is looking. With an agent name, operations show only what that agent sent or received; without
 * one, the project-wide view of an operator, in which no BCC name is shown. The server fills in the
 * session's agent, so an agent that omits `agent_name` still sees only its own mail.
 */
export function resolveViewer(mb: Mailbox, project: Project, agentName: string | undefined): AgentRow | null {
  return agentName === undefined ? null : resolveAgent(mb, project, agentName);
}

import { z } from "zod";
import { type RegisteredAgent, registerAgent } from "./agents.js";
import { type ContactRequestResult, requestContact, respondContact } from "./contacts/links.js";
import { LIMITS } from "./limits.js";
import type { Mailbox } from "./mailbox.js";
import { fetchInbox, type InboxItem } from "./messages/inbox.js";
import { type SendMessageResult, sendMessage } from "./messages/send.js";
import { ensureProject, type Project, resolveProject } from "./projects.js";
import { releaseFileReservations } from "./reservations/renew-release.js";
import { type FileReservationPathsResult, fileReservationPaths } from "./reservations/reserve.js";
import { summarizeThread, type ThreadSummaryResult } from "./summaries/summarize.js";
import { AgentNameInput, ProjectKey, parseInput } from "./validate.js";

/**
 * Macros: one call for a common sequence of operations. Each is a composition of public operations, so
 * it obeys exactly their rules and errors; a failure part-way leaves the earlier steps done (each step
 * is idempotent, so calling the macro again is safe).
 */

const Program = z.string().min(1).max(LIMITS.programChars);
const Model = z.string().min(1).max(LIMITS.modelChars);
const InboxLimit = z.number().int().min(1).max(LIMITS.fetchLimit).default(10);

export const MacroStartSessionInput = z.object({
  human_key: z.string().min(1).max(LIMITS.humanKeyChars).describe("Absolute path of the repository"),
  program: Program,
  model: Model,
  task_description: z.string().max(LIMITS.taskDescriptionChars).default(""),
  agent_name: AgentNameInput.optional().describe("Name to register or resume; omit for a generated one"),
  file_reservation_paths: z.array(z.string()).optional().describe("Globs to reserve right away"),
  file_reservation_reason: z.string().default("macro-session"),
  file_reservation_ttl_seconds: z.number().int().positive().default(3600),
  inbox_limit: InboxLimit,
});
export type MacroStartSessionInput = z.input<typeof MacroStartSessionInput>;

export interface MacroStartSessionResult {
  project: Project;
  agent: RegisteredAgent;
  file_reservations: FileReservationPathsResult;
  inbox: InboxItem[];
}

/** Ensure the project, register the agent, reserve files (optional) and fetch the inbox, in that order. */
export function macroStartSession(mb: Mailbox, input: MacroStartSessionInput): MacroStartSessionResult {
  const args = parseInput(MacroStartSessionInput, input);
  const project = ensureProject(mb, { human_key: args.human_key });
  const agent = registerAgent(mb, {
    project_key: project.slug,
    program: args.program,
    model: args.model,
    name: args.agent_name,
    task_description: args.task_description,
  });
  const file_reservations =
    args.file_reservation_paths && args.file_reservation_paths.length > 0
      ? fileReservationPaths(mb, {
          project_key: project.slug,
          agent_name: agent.name,
          paths: args.file_reservation_paths,
          ttl_seconds: args.file_reservation_ttl_seconds,
          reason: args.file_reservation_reason,
        })
      : { granted: [], conflicts: [] };
  const inbox = fetchInbox(mb, {
    project_key: project.slug,
    agent_name: agent.name,
    limit: args.inbox_limit,
  });
  return { project, agent, file_reservations, inbox };
}

export const MacroPrepareThreadInput = z.object({
  project_key: ProjectKey,
  thread_id: z.string().min(1).max(LIMITS.threadIdChars),
  program: Program,
  model: Model,
  agent_name: AgentNameInput.optional(),
  include_examples: z.boolean().default(true),
  inbox_limit: InboxLimit,
});
export type MacroPrepareThreadInput = z.input<typeof MacroPrepareThreadInput>;

export interface MacroPrepareThreadResult {
  project: Project;
  agent: RegisteredAgent;
  thread: {
    thread_id: string;
    summary: ThreadSummaryResult["summary"];
    examples: ThreadSummaryResult["examples"];
    total_messages: number;
  };
  inbox: InboxItem[];
}

/** Register (or resume) the agent, summarize the thread as it sees it, and fetch its inbox. */
export async function macroPrepareThread(
  mb: Mailbox,
  input: MacroPrepareThreadInput,
): Promise<MacroPrepareThreadResult> {
  const args = parseInput(MacroPrepareThreadInput, input);
  const project = resolveProject(mb, args.project_key);
  const agent = registerAgent(mb, {
    project_key: project.slug,
    program: args.program,
    model: args.model,
    name: args.agent_name,
  });
  const summarized = (await summarizeThread(mb, {
    project_key: project.slug,
    thread_id: args.thread_id.replaceAll(",", ""),
    include_examples: args.include_examples,
    agent_name: agent.name,
  })) as ThreadSummaryResult;
  const inbox = fetchInbox(mb, {
    project_key: project.slug,
    agent_name: agent.name,
    limit: args.inbox_limit,
  });
  return {
    project,
    agent,
    thread: {
      thread_id: summarized.thread_id,
      summary: summarized.summary,
      examples: summarized.examples,
      total_messages: summarized.summary.total_messages,
    },
    inbox,
  };
}

export const MacroFileReservationCycleInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput,
  paths: z.array(z.string()).min(1, "paths list cannot be empty"),
  ttl_seconds: z.number().int().positive().default(3600),
  exclusive: z.boolean().default(true),
  reason: z.string().default(""),
  auto_release: z.boolean().default(false).describe("Release the granted reservations again at once"),
});
export type MacroFileReservationCycleInput = z.input<typeof MacroFileReservationCycleInput>;

/** Reserve paths and (with auto_release) release exactly the reservations just granted. */
export function macroFileReservationCycle(
  mb: Mailbox,
  input: MacroFileReservationCycleInput,
): {
  file_reservations: FileReservationPathsResult;
  released: ReturnType<typeof releaseFileReservations> | null;
} {
  const args = parseInput(MacroFileReservationCycleInput, input);
  const file_reservations = fileReservationPaths(mb, {
    project_key: args.project_key,
    agent_name: args.agent_name,
    paths: args.paths,
    ttl_seconds: args.ttl_seconds,
    exclusive: args.exclusive,
    reason: args.reason,
  });
  const released = args.auto_release
    ? releaseFileReservations(mb, {
        project_key: args.project_key,
        agent_name: args.agent_name,
        file_reservation_ids: file_reservations.granted.map((g) => g.id),
      })
    : null;
  return { file_reservations, released };
}

export const MacroContactHandshakeInput = z.object({
  project_key: ProjectKey,
  requester: AgentNameInput,
  target: AgentNameInput.describe("The agent to contact (Name or Name@project)"),
  to_project: z.string().min(1).optional(),
  reason: z.string().default(""),
  auto_accept: z.boolean().default(false).describe("Accept on the target's behalf"),
  ttl_seconds: z.number().int().positive().default(604_800),
  welcome_subject: z.string().min(1).max(LIMITS.subjectChars).optional(),
  welcome_body: z.string().optional(),
});
export type MacroContactHandshakeInput = z.input<typeof MacroContactHandshakeInput>;

/**
 * Request contact; with auto_accept also accept it as the target; then, when a welcome subject and body
 * are given and contact allows it, send the welcome message from the requester.
 */
export async function macroContactHandshake(
  mb: Mailbox,
  input: MacroContactHandshakeInput,
): Promise<{
  request: ContactRequestResult;
  response: ReturnType<typeof respondContact> | null;
  welcome_message: SendMessageResult | null;
}> {
  const args = parseInput(MacroContactHandshakeInput, input);
  const request = await requestContact(mb, {
    project_key: args.project_key,
    from_agent: args.requester,
    to_agent: args.target,
    to_project: args.to_project,
    reason: args.reason,
    ttl_seconds: args.ttl_seconds,
  });
  const response = args.auto_accept
    ? respondContact(mb, {
        project_key: request.to_project,
        to_agent: request.to,
        from_agent: `${request.from}@${request.from_project}`,
        accept: true,
      })
    : null;
  const welcome_message =
    args.welcome_subject !== undefined && args.welcome_body !== undefined
      ? await sendMessage(mb, {
          project_key: args.project_key,
          sender_name: request.from,
          to: `${request.to}@${request.to_project}`,
          subject: args.welcome_subject,
          body_md: args.welcome_body,
        })
      : null;
  return { request, response, welcome_message };
}

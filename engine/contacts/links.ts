import { z } from "zod";
import { type AgentRow, resolveAgent, touchAgent } from "../agents.js";
import { enqueueArchiveJob } from "../archive/jobs.js";
import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { deliver } from "../messages/send.js";
import { type Project, resolveProject } from "../projects.js";
import { addSeconds } from "../time.js";
import { ProjectKey, parseInput } from "../validate.js";
import { CONTACT_POLICIES } from "./policy.js";

const Reason = z.string().max(LIMITS.subjectChars).default("");

export const RequestContactInput = z.object({
  project_key: ProjectKey,
  from_agent: z.string().min(1).describe("The agent asking for contact"),
  to_agent: z.string().min(1).describe("The agent to contact (Name or Name@project)"),
  to_project: z.string().min(1).optional().describe("The target's project, when it is another one"),
  reason: Reason,
  ttl_seconds: z.number().int().positive().max(LIMITS.ttlSeconds).default(604_800),
});
export type RequestContactInput = z.input<typeof RequestContactInput>;

export interface ContactRequestResult {
  from: string;
  from_project: string;
  to: string;
  to_project: string;
  status: "pending" | "approved" | "blocked";
  expires_ts: string | null;
}

interface LinkRow {
  id: number;
  from_agent_id: number;
  to_agent_id: number;
  status: "pending" | "approved" | "blocked";
  reason: string;
  created_ts: string;
  updated_ts: string;
  expires_ts: string | null;
}

function projectOf(mb: Mailbox, agent: AgentRow): Project {
  return mb.statement<Project>("SELECT * FROM projects WHERE id = ?").get(agent.project_id) as Project;
}

function findLink(mb: Mailbox, from: AgentRow, to: AgentRow): LinkRow | undefined {
  return mb
    .statement<LinkRow>("SELECT * FROM agent_links WHERE from_agent_id = ? AND to_agent_id = ?")
    .get(from.id, to.id);
}

/** Resolve `Name` in `project`, `Name@project`, or `Name` with an explicit other project. */
function resolveTarget(mb: Mailbox, project: Project, name: string, otherProject?: string): AgentRow {
  const at = name.indexOf("@");
  if (at !== -1) return resolveAgent(mb, resolveProject(mb, name.slice(at + 1)), name.slice(0, at));
  return resolveAgent(mb, otherProject === undefined ? project : resolveProject(mb, otherProject), name);
}

/**
 * The agent that asked: `Name@project`, or a bare name, found in any project since names are unique
 * across projects (the asker is often in another project).
 */
function resolveAsker(mb: Mailbox, project: Project, name: string): AgentRow {
  if (name.includes("@")) return resolveTarget(mb, project, name);
  const row = mb.statement<AgentRow>("SELECT * FROM agents WHERE name = ? COLLATE NOCASE").get(name);
  return row ?? resolveAgent(mb, project, name);
}

/**
 * Ask `to_agent` for contact: records a pending link (kept if already approved and unexpired) and sends
 * the target an ack-required intro message "Contact request from X", which passes `auto` and
 * `contacts_only` but not `block_all` or a declined request.
 */
export async function requestContact(mb: Mailbox, input: RequestContactInput): Promise<ContactRequestResult> {
  const args = parseInput(RequestContactInput, input);
  const project = resolveProject(mb, args.project_key);
  const from = resolveAgent(mb, project, args.from_agent);
  const to = resolveTarget(mb, project, args.to_agent, args.to_project);
  if (from.id === to.id) throw fail.invalid("An agent cannot request contact with itself.");
  const toProject = projectOf(mb, to);
  const existing = findLink(mb, from, to);
  const alreadyApproved =
    existing?.status === "approved" && (existing.expires_ts === null || existing.expires_ts > mb.now());
  if (!alreadyApproved) {
    await deliver(mb, {
      project,
      sender: from,
      deliveries: [{ agent: to, kind: "to", project: toProject }],
      subject: `Contact request from ${from.name}`,
      body_md: `${from.name} (project ${project.slug}) asks to be a contact of ${to.name}.${args.reason ? `\n\nReason: ${args.reason}` : ""}\n\nAnswer with respond_contact (to_agent: ${to.name}, from_agent: ${from.name}, accept: true or false).`,
      importance: "normal",
      ack_required: true,
      must_read: false,
      thread_id: null,
      reply_to: null,
      topic: null,
      payload: { kind: "contact_request", from: from.name, from_project: project.slug, reason: args.reason },
      ttl_seconds: undefined,
      attachment_paths: [],
      purpose: "contact_request",
    });
  }
  return mb.write(() => {
    const now = mb.now();
    const expires = addSeconds(now, args.ttl_seconds);
    if (alreadyApproved && existing) {
      return {
        from: from.name,
        from_project: project.slug,
        to: to.name,
        to_project: toProject.slug,
        status: "approved",
        expires_ts: existing.expires_ts,
      };
    }
    mb.statement(
      `INSERT INTO agent_links (from_agent_id, to_agent_id, status, reason, created_ts, updated_ts, expires_ts)
       VALUES (@from, @to, 'pending', @reason, @now, @now, @expires)
       ON CONFLICT (from_agent_id, to_agent_id) DO UPDATE SET
         status = CASE WHEN status = 'blocked' THEN 'blocked' ELSE 'pending' END,
         reason = excluded.reason, updated_ts = excluded.updated_ts, expires_ts = excluded.expires_ts`,
    ).run({ from: from.id, to: to.id, reason: args.reason, now, expires });
    touchAgent(mb, from.id);
    enqueueArchiveJob(mb, "agent", from.id);
    const link = findLink(mb, from, to) as LinkRow;
    return {
      from: from.name,
      from_project: project.slug,
      to: to.name,
      to_project: toProject.slug,
      status: link.status,
      expires_ts: link.expires_ts,
    };
  });
}

export const RespondContactInput = z.object({
  project_key: ProjectKey,
  to_agent: z.string().min(1).describe("The agent answering (the one that was asked)"),
  from_agent: z.string().min(1).describe("The agent that asked (Name or Name@project)"),
  accept: z.boolean(),
  ttl_seconds: z.number().int().positive().max(LIMITS.ttlSeconds).default(2_592_000),
});
export type RespondContactInput = z.input<typeof RespondContactInput>;

/**
 * Answer a contact request. Accepting approves the link for `ttl_seconds` (both agents may then write to
 * each other); declining blocks the asker until the target approves a later request.
 */
export function respondContact(
  mb: Mailbox,
  input: RespondContactInput,
): { from: string; to: string; approved: boolean; expires_ts: string | null; updated: boolean } {
  const args = parseInput(RespondContactInput, input);
  const project = resolveProject(mb, args.project_key);
  const to = resolveAgent(mb, project, args.to_agent);
  const from = resolveAsker(mb, project, args.from_agent);
  return mb.write(() => {
    const link = findLink(mb, from, to);
    if (!link) {
      throw fail.notFound(
        `${from.name} has not requested contact with ${to.name}; there is nothing to answer.`,
        {
          from: from.name,
          to: to.name,
        },
      );
    }
    const now = mb.now();
    const status = args.accept ? "approved" : "blocked";
    const expires = args.accept ? addSeconds(now, args.ttl_seconds) : null;
    const updated = link.status !== status || link.expires_ts !== expires;
    mb.statement("UPDATE agent_links SET status = ?, updated_ts = ?, expires_ts = ? WHERE id = ?").run(
      status,
      now,
      expires,
      link.id,
    );
    touchAgent(mb, to.id);
    enqueueArchiveJob(mb, "agent", to.id);
    return { from: from.name, to: to.name, approved: args.accept, expires_ts: expires, updated };
  });
}

export const ListContactsInput = z.object({ project_key: ProjectKey, agent_name: z.string().min(1) });
export type ListContactsInput = z.input<typeof ListContactsInput>;

/** A contact link as listed; `status` is `expired` for a lapsed pending or approved link. */
export interface ContactEntry {
  direction: "outgoing" | "incoming";
  from: string;
  to: string;
  status: "pending" | "approved" | "blocked" | "expired";
  reason: string;
  updated_ts: string;
  expires_ts: string | null;
}

/** The agent's contact links, requests it made (outgoing) and received (incoming), newest first. */
export function listContacts(mb: Mailbox, input: ListContactsInput): ContactEntry[] {
  const args = parseInput(ListContactsInput, input);
  const project = resolveProject(mb, args.project_key);
  const agent = resolveAgent(mb, project, args.agent_name);
  const now = mb.now();
  return mb
    .statement<LinkRow & { from_name: string; to_name: string }>(
      `SELECT l.*, f.name AS from_name, t.name AS to_name FROM agent_links l
       JOIN agents f ON f.id = l.from_agent_id JOIN agents t ON t.id = l.to_agent_id
       WHERE l.from_agent_id = @id OR l.to_agent_id = @id ORDER BY l.updated_ts DESC, l.id DESC`,
    )
    .all({ id: agent.id })
    .map((row) => ({
      direction: row.from_agent_id === agent.id ? "outgoing" : "incoming",
      from: row.from_name,
      to: row.to_name,
      status:
        row.status !== "blocked" && row.expires_ts !== null && row.expires_ts <= now ? "expired" : row.status,
      reason: row.reason,
      updated_ts: row.updated_ts,
      expires_ts: row.expires_ts,
    }));
}

export const SetContactPolicyInput = z.object({
  project_key: ProjectKey,
  agent_name: z.string().min(1),
  policy: z.enum(CONTACT_POLICIES),
});
export type SetContactPolicyInput = z.input<typeof SetContactPolicyInput>;

/** Set who may write to the agent: open, auto (default), contacts_only or block_all. */
export function setContactPolicy(
  mb: Mailbox,
  input: SetContactPolicyInput,
): { agent: string; policy: string } {
  const args = parseInput(SetContactPolicyInput, input);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    const agent = resolveAgent(mb, project, args.agent_name);
    mb.statement("UPDATE agents SET contact_policy = ? WHERE id = ?").run(args.policy, agent.id);
    enqueueArchiveJob(mb, "agent", agent.id);
    return { agent: agent.name, policy: args.policy };
  });
}

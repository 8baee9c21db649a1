import { randomBytes } from "node:crypto";
import { z } from "zod";
import { enqueueArchiveJob } from "./archive/jobs.js";
import { fail, PigeonholeError } from "./errors.js";
import { AGENT_NAME_PATTERN, LIMITS } from "./limits.js";
import type { Mailbox } from "./mailbox.js";
import { LIVE_DELIVERY_SQL } from "./messages/visibility.js";
import { generateUniqueAgentName } from "./names.js";
import { type Project, resolveProject } from "./projects.js";
import type { Timestamp } from "./time.js";
import { AgentNameInput, ProjectKey, parseInput } from "./validate.js";

/** An agent as stored. `registration_token` is a secret: only `register_agent`/`create_agent_identity` return it. */
export interface AgentRow {
  id: number;
  project_id: number;
  name: string;
  program: string;
  model: string;
  task_description: string;
  inception_ts: string;
  last_active_ts: string;
  attachments_policy: string;
  contact_policy: "open" | "auto" | "contacts_only" | "block_all";
  registration_token: string;
  retired_ts: string | null;
}

/** An agent as others see it (no token). */
export type AgentProfile = Omit<AgentRow, "registration_token"> & { project_slug: string };

/** An agent as it sees itself after registering (with its token). */
export type RegisteredAgent = AgentProfile & { registration_token: string };

const AgentName = z
  .string()
  .max(LIMITS.agentNameChars)
  .regex(
    AGENT_NAME_PATTERN,
    "names start with a letter or digit and use only letters, digits, '.', '_' and '-'",
  );

export const RegisterAgentInput = z.object({
  project_key: ProjectKey,
  program: z.string().min(1).max(LIMITS.programChars).describe("The agent program, e.g. claude-code"),
  model: z.string().min(1).max(LIMITS.modelChars).describe("The model, e.g. opus-4"),
  name: AgentName.optional().describe("Name to register; omit to get a generated AdjectiveNoun name"),
  task_description: z.string().max(LIMITS.taskDescriptionChars).default(""),
});
export type RegisterAgentInput = z.input<typeof RegisterAgentInput>;

export const CreateAgentIdentityInput = z.object({
  project_key: ProjectKey,
  program: z.string().min(1).max(LIMITS.programChars),
  model: z.string().min(1).max(LIMITS.modelChars),
  name_hint: AgentName.optional().describe("Preferred name; a free variant is chosen when it is taken"),
  task_description: z.string().max(LIMITS.taskDescriptionChars).default(""),
});
export type CreateAgentIdentityInput = z.input<typeof CreateAgentIdentityInput>;

export const AgentRefInput = z.object({ project_key: ProjectKey, agent_name: AgentNameInput });
export type AgentRefInput = z.input<typeof AgentRefInput>;

export const ListAgentsInput = z.object({ project_key: ProjectKey, active_only: z.boolean().default(false) });
export type ListAgentsInput = z.input<typeof ListAgentsInput>;

function newToken(): string {
  return randomBytes(24).toString("base64url");
}

function profileOf(row: AgentRow, project: Project): AgentProfile {
  const { registration_token: _secret, ...rest } = row;
  return { ...rest, project_slug: project.slug };
}

function registeredOf(row: AgentRow, project: Project): RegisteredAgent {
  return { ...profileOf(row, project), registration_token: row.registration_token };
}

function findByName(mb: Mailbox, name: string): AgentRow | undefined {
  return mb.statement<AgentRow>("SELECT * FROM agents WHERE name = ? COLLATE NOCASE").get(name);
}

function insertAgent(
  mb: Mailbox,
  project: Project,
  fields: { name: string; program: string; model: string; task_description: string },
): AgentRow {
  const now = mb.now();
  const token = newToken();
  const info = mb
    .statement(
      `INSERT INTO agents (project_id, name, program, model, task_description, inception_ts, last_active_ts, registration_token)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(project.id, fields.name, fields.program, fields.model, fields.task_description, now, now, token);
  const id = Number(info.lastInsertRowid);
  enqueueArchiveJob(mb, "agent", id);
  return mb.statement<AgentRow>("SELECT * FROM agents WHERE id = ?").get(id) as AgentRow;
}

function nameTakenElsewhere(existing: AgentRow, project: Project, mb: Mailbox): PigeonholeError {
  const other = mb
    .statement<{ slug: string }>("SELECT slug FROM projects WHERE id = ?")
    .get(existing.project_id);
  return fail.conflict(
    `The name ${existing.name} is already registered in project ${other?.slug ?? existing.project_id}; names are unique across projects. Pick another name or omit it to get a generated one.`,
    { name: existing.name, project: other?.slug, requested_project: project.slug },
  );
}

/**
 * Create or update an agent in a project. With `name`, an existing agent of that name (any case) in the
 * same project is updated (program, model, task; presence refreshed) and keeps its token; a name held in
 * another project is a CONFLICT. Without `name`, a new agent with a generated AdjectiveNoun name is created.
 */
export function registerAgent(mb: Mailbox, input: RegisterAgentInput): RegisteredAgent {
  const args = parseInput(RegisterAgentInput, input);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    if (args.name !== undefined) {
      const existing = findByName(mb, args.name);
      if (existing && existing.project_id !== project.id) throw nameTakenElsewhere(existing, project, mb);
      if (existing) {
        mb.statement(
          "UPDATE agents SET program = ?, model = ?, task_description = ?, last_active_ts = ? WHERE id = ?",
        ).run(args.program, args.model, args.task_description, mb.now(), existing.id);
        enqueueArchiveJob(mb, "agent", existing.id);
        return registeredOf(
          mb.statement<AgentRow>("SELECT * FROM agents WHERE id = ?").get(existing.id) as AgentRow,
          project,
        );
      }
    }
    const name = args.name ?? generateUniqueAgentName((candidate) => findByName(mb, candidate) !== undefined);
    return registeredOf(insertAgent(mb, project, { ...args, name }), project);
  });
}

/** Always create a new agent: `name_hint` when free, else a free variant of it (or a generated name). */
export function createAgentIdentity(mb: Mailbox, input: CreateAgentIdentityInput): RegisteredAgent {
  const args = parseInput(CreateAgentIdentityInput, input);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    const taken = (candidate: string) => findByName(mb, candidate) !== undefined;
    let name: string;
    if (args.name_hint !== undefined && !taken(args.name_hint)) {
      name = args.name_hint;
    } else if (args.name_hint !== undefined) {
      const base = args.name_hint.slice(0, LIMITS.agentNameChars - 6);
      let suffix = 2;
      while (taken(`${base}${suffix}`)) suffix++;
      name = `${base}${suffix}`;
    } else {
      name = generateUniqueAgentName(taken);
    }
    return registeredOf(insertAgent(mb, project, { ...args, name }), project);
  });
}

/**
 * The agent called `name` in `project` (case-insensitive). NOT_FOUND says whether the name exists in
 * another project (and how to address it there) or lists the project's agents.
 */
export function resolveAgent(mb: Mailbox, project: Project, name: string): AgentRow {
  const row = findByName(mb, name);
  if (row && row.project_id === project.id) return row;
  if (row) {
    const other = mb
      .statement<{ slug: string }>("SELECT slug FROM projects WHERE id = ?")
      .get(row.project_id);
    throw fail.notFound(
      `Agent ${row.name} belongs to project ${other?.slug}, not ${project.slug}; address it as ${row.name}@${other?.slug}.`,
      { agent_name: name, project: project.slug, found_in: other?.slug },
    );
  }
  const known = mb
    .statement<{ name: string }>("SELECT name FROM agents WHERE project_id = ? ORDER BY name LIMIT 20")
    .all(project.id)
    .map((r) => r.name);
  throw fail.notFound(
    `No agent named ${JSON.stringify(name)} in project ${project.slug}. ${known.length ? `Known agents: ${known.join(", ")}.` : "The project has no agents yet."} Register it with register_agent first.`,
    { agent_name: name, project: project.slug, known_agents: known },
  );
}

/** An agent's profile (no token), or NOT_FOUND. */
export function getAgentProfile(mb: Mailbox, input: AgentRefInput): AgentProfile {
  const args = parseInput(AgentRefInput, input);
  const project = resolveProject(mb, args.project_key);
  return profileOf(resolveAgent(mb, project, args.agent_name), project);
}

/** Refuse a retired agent with AGENT_RETIRED, saying how to bring it back. */
export function assertActive(agent: AgentRow, role: string): void {
  if (agent.retired_ts !== null) {
    throw new PigeonholeError(
      "AGENT_RETIRED",
      `${agent.name} was retired at ${agent.retired_ts} and cannot be a ${role}; call unretire_agent to bring it back.`,
      { agent_name: agent.name, retired_ts: agent.retired_ts },
    );
  }
}

/**
 * Presence is kept to the second: an agent whose `last_active_ts` is less than this old is not written
 * again. Updating the agent row cost a burst of sends about a tenth of each send.
 */
export const PRESENCE_RESOLUTION_MS = 1000;

/**
 * Mark an agent as just active (presence); call inside a write transaction. Given the `last_active_ts`
 * read in that transaction, skips the write when it is under a second old; afterwards the stored time
 * is never more than a second behind the agent's latest activity.
 */
export function touchAgent(mb: Mailbox, agentId: number, lastActiveTs?: Timestamp): void {
  const now = mb.now();
  if (lastActiveTs !== undefined) {
    const age = Date.parse(now) - Date.parse(lastActiveTs);
    if (age >= 0 && age < PRESENCE_RESOLUTION_MS) return;
  }
  mb.statement("UPDATE agents SET last_active_ts = ? WHERE id = ?").run(now, agentId);
}

/** A directory entry: profile plus presence and unread count. */
export type AgentListing = AgentProfile & { unread_count: number };

/**
 * The project's agents by name, each with `last_active_ts` and its count of unread live mail.
 * `active_only` leaves out retired agents.
 */
export function listAgents(
  mb: Mailbox,
  input: ListAgentsInput,
): { project: Project; agents: AgentListing[] } {
  const args = parseInput(ListAgentsInput, input);
  const project = resolveProject(mb, args.project_key);
  const rows = mb
    .statement<AgentRow & { unread_count: number }>(
      `SELECT a.*, (
         SELECT COUNT(*) FROM message_recipients r JOIN messages m ON m.id = r.message_id
         WHERE r.agent_id = a.id AND r.read_ts IS NULL AND ${LIVE_DELIVERY_SQL}
       ) AS unread_count
       FROM agents a WHERE a.project_id = @project ${args.active_only ? "AND a.retired_ts IS NULL" : ""}
       ORDER BY a.name COLLATE NOCASE`,
    )
    .all({ project: project.id, now: mb.now() });
  return {
    project,
    agents: rows.map((row) => ({ ...profileOf(row, project), unread_count: row.unread_count })),
  };
}

function setRetired(mb: Mailbox, input: AgentRefInput, retired: boolean): AgentProfile {
  const args = parseInput(AgentRefInput, input);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    const agent = resolveAgent(mb, project, args.agent_name);
    const wasRetired = agent.retired_ts !== null;
    if (wasRetired !== retired) {
      mb.statement("UPDATE agents SET retired_ts = ? WHERE id = ?").run(retired ? mb.now() : null, agent.id);
      enqueueArchiveJob(mb, "agent", agent.id);
    }
    return profileOf(
      mb.statement<AgentRow>("SELECT * FROM agents WHERE id = ?").get(agent.id) as AgentRow,
      project,
    );
  });
}

/** Retire an agent: it keeps its history but receives and sends no new mail. Idempotent. */
export function retireAgent(mb: Mailbox, input: AgentRefInput): AgentProfile {
  return setRetired(mb, input, true);
}

/** Bring a retired agent back. Idempotent. */
export function unretireAgent(mb: Mailbox, input: AgentRefInput): AgentProfile {
  return setRetired(mb, input, false);
}

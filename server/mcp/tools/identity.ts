import { z } from "zod";
import {
  AgentRefInput,
  CreateAgentIdentityInput,
  createAgentIdentity,
  EnsureProjectInput,
  ensureProject,
  ListAgentsInput,
  listAgents,
  RegisterAgentInput,
  type RegisteredAgent,
  registerAgent,
  retireAgent,
  unretireAgent,
  WhoisInput,
  whois,
} from "../../../engine/index.js";
import { healthReport } from "../../health.js";
import { defineTool } from "../tool-spec.js";

const registeredName = (result: unknown) => (result as RegisteredAgent).name;

/** Identity and projects (TOOLS.md). */
export const IDENTITY_TOOLS = [
  defineTool({
    name: "health_check",
    title: "Health check",
    description: "Server and mailbox status: schema version, counts, archive state and pending archive jobs.",
    input: z.object({}),
    access: "read",
    core: true,
    run: ({ mailbox }) => healthReport(mailbox),
  }),
  defineTool({
    name: "ensure_project",
    title: "Ensure project",
    description:
      "Create the project for an absolute repository path if needed (idempotent); returns its slug.",
    input: EnsureProjectInput,
    access: "write",
    core: true,
    run: ({ mailbox }, args) => ensureProject(mailbox, args),
  }),
  defineTool({
    name: "register_agent",
    title: "Register agent",
    description:
      "Create or update an agent in a project; omit name for a generated one (e.g. BlueLake). Binds it to this session; keep registration_token to act as it from another session.",
    input: RegisterAgentInput,
    access: "write",
    core: true,
    claimsName: (args) => (typeof args.name === "string" ? args.name : undefined),
    binds: registeredName,
    run: ({ mailbox }, args) => registerAgent(mailbox, args),
  }),
  defineTool({
    name: "create_agent_identity",
    title: "Create agent identity",
    description: "Always create a new agent (name_hint if free, else a variant); bound to this session.",
    input: CreateAgentIdentityInput,
    access: "write",
    core: false,
    binds: registeredName,
    run: ({ mailbox }, args) => createAgentIdentity(mailbox, args),
  }),
  defineTool({
    name: "whois",
    title: "Who is",
    description:
      "An agent's profile (program, model, task, presence) plus its latest commits in the Git archive.",
    input: WhoisInput,
    access: "read",
    core: false,
    run: ({ mailbox }, args) => whois(mailbox, args),
  }),
  defineTool({
    name: "list_agents",
    title: "List agents",
    description: "The project's agents with program, model, task, last_active_ts and unread_count.",
    input: ListAgentsInput,
    access: "read",
    core: true,
    run: ({ mailbox }, args) => listAgents(mailbox, args).agents,
  }),
  defineTool({
    name: "retire_agent",
    title: "Retire agent",
    description: "Retire an agent: it keeps its history but receives no new mail (AGENT_RETIRED).",
    input: AgentRefInput,
    access: "write",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => retireAgent(mailbox, args),
  }),
  defineTool({
    name: "unretire_agent",
    title: "Unretire agent",
    description: "Bring a retired agent back.",
    input: AgentRefInput,
    access: "write",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => unretireAgent(mailbox, args),
  }),
];

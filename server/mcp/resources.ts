import {
  fetchInbox,
  fetchOutbox,
  getMessage,
  getThread,
  listAgents,
  listFileReservations,
  listProjects,
  projectOfAgent,
  resolveProject,
} from "../../engine/index.js";
import { healthReport } from "../health.js";
import type { ToolMetrics } from "./metrics.js";
import { flag, ResourceTemplate, whole } from "./resource-uri.js";
import type { ToolContext } from "./tool-spec.js";

/** What a resource body gets. */
export interface ResourceContext extends ToolContext {
  metrics: ToolMetrics;
}

/** One MCP resource (or template), declared: URI template, whose data it is, and one engine call. */
export interface ResourceSpec {
  template: ResourceTemplate;
  name: string;
  description: string;
  /** The path variable naming the agent whose data this is: reading it is acting as that agent. */
  agentVar?: string;
  /** A new message to or from the agent sends notifications/resources/updated to subscribers. */
  subscribable?: boolean;
  read(ctx: ResourceContext, vars: Record<string, string>): unknown;
}

function resource(spec: Omit<ResourceSpec, "template"> & { uri: string }): ResourceSpec {
  const { uri, ...rest } = spec;
  return { ...rest, template: new ResourceTemplate(uri) };
}

/** `?project=` when given, else the agent's own project (agent names are unique across projects). */
function projectFor(ctx: ResourceContext, vars: Record<string, string>, agent: string): string {
  return vars.project ?? projectOfAgent(ctx.mailbox, agent) ?? agent;
}

function inboxArgs(ctx: ResourceContext, vars: Record<string, string>) {
  const agent = vars.agent as string;
  return {
    project_key: projectFor(ctx, vars, agent),
    agent_name: agent,
    since_ts: vars.since_ts,
    urgent_only: flag(vars.urgent_only, "urgent_only"),
    include_bodies: flag(vars.include_bodies, "include_bodies"),
    limit: whole(vars.limit, "limit"),
  };
}

/** Every resource of TOOLS.md. The one registry of resources. */
export const RESOURCES: readonly ResourceSpec[] = [
  resource({
    uri: "resource://inbox/{agent}{?project,since_ts,urgent_only,include_bodies,limit}",
    name: "inbox",
    description: "An agent's inbox, newest first (subscribe to be told of new mail).",
    agentVar: "agent",
    subscribable: true,
    read: (ctx, vars) => fetchInbox(ctx.mailbox, inboxArgs(ctx, vars)),
  }),
  resource({
    uri: "resource://outbox/{agent}{?project}",
    name: "outbox",
    description: "Mail an agent sent, with receipts.",
    agentVar: "agent",
    read: (ctx, vars) =>
      fetchOutbox(ctx.mailbox, {
        project_key: projectFor(ctx, vars, vars.agent as string),
        agent_name: vars.agent as string,
      }),
  }),
  resource({
    uri: "resource://message/{id}{?project}",
    name: "message",
    description: "One message with its body (as the session's agent sees it).",
    read: (ctx, vars) =>
      getMessage(ctx.mailbox, {
        project_key: vars.project ?? soleProject(ctx),
        message_id: whole(vars.id, "id") as number,
        agent_name: ctx.session.implicitAgent(),
      }),
  }),
  resource({
    uri: "resource://thread/{thread_id}{?project,include_bodies}",
    name: "thread",
    description: "A thread in order (as the session's agent sees it).",
    read: (ctx, vars) =>
      getThread(ctx.mailbox, {
        project_key: vars.project ?? soleProject(ctx),
        thread_id: vars.thread_id as string,
        include_bodies: flag(vars.include_bodies, "include_bodies"),
        agent_name: ctx.session.implicitAgent(),
      }),
  }),
  resource({
    uri: "resource://agents/{project_key}",
    name: "agents",
    description: "A project's agent directory with presence and unread counts.",
    read: (ctx, vars) => listAgents(ctx.mailbox, { project_key: vars.project_key as string }).agents,
  }),
  resource({
    uri: "resource://project/{slug}",
    name: "project",
    description: "One project.",
    read: (ctx, vars) => resolveProject(ctx.mailbox, vars.slug as string),
  }),
  resource({
    uri: "resource://projects",
    name: "projects",
    description: "Every project.",
    read: (ctx) => listProjects(ctx.mailbox),
  }),
  resource({
    uri: "resource://file_reservations/{slug}{?active_only}",
    name: "file_reservations",
    description: "A project's file reservations (active only unless active_only=false).",
    read: (ctx, vars) =>
      listFileReservations(ctx.mailbox, {
        project_key: vars.slug as string,
        active_only: flag(vars.active_only, "active_only"),
      }),
  }),
  resource({
    uri: "resource://views/urgent-unread/{agent}{?project}",
    name: "urgent-unread",
    description: "An agent's unread high and urgent mail (subscribable).",
    agentVar: "agent",
    subscribable: true,
    read: (ctx, vars) =>
      fetchInbox(ctx.mailbox, {
        project_key: projectFor(ctx, vars, vars.agent as string),
        agent_name: vars.agent as string,
        urgent_only: true,
        unread_only: true,
        limit: 1000,
      }),
  }),
  resource({
    uri: "resource://views/ack-required/{agent}{?project}",
    name: "ack-required",
    description: "An agent's mail that asks for an acknowledgement it has not given yet (subscribable).",
    agentVar: "agent",
    subscribable: true,
    read: (ctx, vars) =>
      fetchInbox(ctx.mailbox, {
        project_key: projectFor(ctx, vars, vars.agent as string),
        agent_name: vars.agent as string,
        ack_pending_only: true,
        limit: 1000,
      }),
  }),
  resource({
    uri: "resource://tooling/metrics",
    name: "metrics",
    description: "Per-tool call counts, errors by code and latency percentiles of this server process.",
    read: (ctx) => ({ ...ctx.metrics.report(), health: healthReport(ctx.mailbox) }),
  }),
];

/** With no `?project=`, the only project there is; otherwise the caller must name it. */
function soleProject(ctx: ResourceContext): string {
  const projects = listProjects(ctx.mailbox);
  const agent = ctx.session.implicitAgent();
  if (agent) return projectOfAgent(ctx.mailbox, agent) ?? agent;
  return projects.length === 1 ? (projects[0]?.slug as string) : "";
}

/** The resource matching `uri` and its variables, or null. */
export function matchResource(uri: string): { spec: ResourceSpec; vars: Record<string, string> } | null {
  for (const spec of RESOURCES) {
    const vars = spec.template.match(uri);
    if (vars) return { spec, vars };
  }
  return null;
}

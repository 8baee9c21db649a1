import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CompleteRequestSchema, ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import {
  isPigeonholeError,
  listAgents,
  listProjects,
  type Mailbox,
  resolveProject,
} from "../../engine/index.js";
import { findPrompt } from "./prompts.js";
import { RESOURCES } from "./resources.js";

/** The spec's cap on completion values per answer. */
const MAX_VALUES = 100;

type Kind = "project" | "agent" | "none";

/** What a resource template variable holds; only agent and project names can be completed. */
function templateVariableKind(variable: string): Kind {
  if (variable === "agent") return "agent";
  if (variable === "slug" || variable === "project_key" || variable === "project") return "project";
  return "none";
}

/** Path and query variable names of a template such as `resource://inbox/{agent}{?project,limit}`. */
function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(/\{(\??)([a-z_,]+)\}/g)) names.push(...(m[2] as string).split(","));
  return names;
}

function startsWith(value: string, prefix: string): boolean {
  return value.toLowerCase().startsWith(prefix.toLowerCase());
}

/** Project keys starting with `prefix`: slugs, plus human keys where `withHumanKeys` (prompt arguments take either). */
function projectValues(mb: Mailbox, prefix: string, withHumanKeys: boolean): string[] {
  const values = new Set<string>();
  for (const p of listProjects(mb)) {
    if (withHumanKeys && startsWith(p.human_key, prefix)) values.add(p.human_key);
    if (startsWith(p.slug, prefix)) values.add(p.slug);
  }
  return [...values];
}

/** Names of active agents starting with `prefix`, in `project` when it names one, else in every project. */
function agentValues(mb: Mailbox, prefix: string, project: string | undefined): string[] {
  let projects = listProjects(mb).map((p) => p.slug);
  if (project) {
    try {
      projects = [resolveProject(mb, project).slug];
    } catch (error) {
      // A half-typed project argument completes agents from everywhere rather than from nowhere.
      if (!isPigeonholeError(error)) throw error;
    }
  }
  const names = new Set<string>();
  for (const slug of projects) {
    for (const agent of listAgents(mb, { project_key: slug, active_only: true }).agents) {
      if (startsWith(agent.name, prefix)) names.add(agent.name);
    }
  }
  return [...names];
}

/**
 * Answer `completion/complete` for our prompts' arguments and our resource templates' variables: project
 * slugs (and human keys for prompts) and agent names, matched by case-insensitive prefix. An unknown
 * prompt, template or argument is InvalidParams, as the specification asks.
 */
export function installCompletionHandler(server: Server, mailbox: Mailbox): void {
  server.setRequestHandler(CompleteRequestSchema, (request) => {
    const { ref, argument, context } = request.params;
    let kind: Kind;
    let humanKeys = false;
    if (ref.type === "ref/prompt") {
      const spec = findPrompt(ref.name).arguments.find((a) => a.name === argument.name);
      if (!spec) {
        throw new McpError(ErrorCode.InvalidParams, `Prompt ${ref.name} has no argument ${argument.name}.`);
      }
      kind = spec.completes ?? "none";
      humanKeys = true;
    } else {
      const spec = RESOURCES.find((r) => r.template.template === ref.uri);
      if (!spec) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `No resource template ${ref.uri}; resources/templates/list names them.`,
        );
      }
      if (!templateVariables(ref.uri).includes(argument.name)) {
        throw new McpError(ErrorCode.InvalidParams, `${ref.uri} has no variable ${argument.name}.`);
      }
      kind = templateVariableKind(argument.name);
    }
    const given = context?.arguments ?? {};
    const values =
      kind === "project"
        ? projectValues(mailbox, argument.value, humanKeys)
        : kind === "agent"
          ? agentValues(mailbox, argument.value, given.project ?? given.project_key ?? given.slug)
          : [];
    return {
      completion: {
        values: values.slice(0, MAX_VALUES),
        total: values.length,
        hasMore: values.length > MAX_VALUES,
      },
    };
  });
}

import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  ErrorCode,
  GetPromptRequestSchema,
  type GetPromptResult,
  ListPromptsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";

/** One argument of a prompt, as `prompts/list` shows it; `completes` names what completion offers for it. */
export interface PromptArgument {
  name: string;
  description: string;
  required: boolean;
  completes?: "project" | "agent";
}

/**
 * One MCP prompt: a ready-made instruction a client can offer its user (Claude Code shows prompts as
 * slash commands), telling the agent which Pigeonhole tools to call in which order.
 */
export interface PromptSpec {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument[];
  render(args: Record<string, string>): string;
}

const PROJECT: PromptArgument = {
  name: "project",
  description: "The project: absolute path of the repository (its human_key) or its slug",
  required: true,
  completes: "project",
};

/** Every prompt the server offers. The one registry of prompts. */
export const PROMPTS: readonly PromptSpec[] = [
  {
    name: "start_session",
    title: "Start a Pigeonhole session",
    description:
      "Join the project's mail: register, read the inbox, and follow the working rules (reserve before editing, release when done, acknowledge ack-required mail).",
    arguments: [
      PROJECT,
      {
        name: "agent_name",
        description: "Your agent name, to resume an identity (omit for a generated one)",
        required: false,
        completes: "agent",
      },
      { name: "task", description: "What you are working on, shown to the other agents", required: false },
    ],
    render: (args) =>
      [
        `You coordinate with other coding agents through Pigeonhole mail in the project ${JSON.stringify(args.project)}.`,
        `1. Call macro_start_session with human_key=${JSON.stringify(args.project)}, program and model set to your own program and model${args.agent_name ? `, agent_name=${JSON.stringify(args.agent_name)}` : ""}${args.task ? `, task_description=${JSON.stringify(args.task)}` : ""}. Remember the agent name and registration_token it returns.`,
        "2. Read the inbox it returns; call acknowledge_message for every message with ack_required, and answer with reply_message where a question is asked.",
        "3. Before editing files, reserve them with file_reservation_paths; if it reports conflicts, write to the holders instead of editing.",
        "4. When done, release_file_reservations and send a short summary to the agents you worked with.",
      ].join("\n"),
  },
  {
    name: "check_mail",
    title: "Check Pigeonhole mail",
    description: "Read unread mail, acknowledge what asks for it, and answer questions.",
    arguments: [
      PROJECT,
      { name: "agent_name", description: "The agent whose mail to read", required: true, completes: "agent" },
    ],
    render: (args) =>
      [
        `Check ${args.agent_name}'s Pigeonhole mail in project ${JSON.stringify(args.project)}:`,
        `1. Call fetch_inbox with project_key=${JSON.stringify(args.project)}, agent_name=${JSON.stringify(args.agent_name)}, unread_only=true, include_bodies=true.`,
        "2. For each message: acknowledge_message when ack_required is true, otherwise mark_message_read.",
        "3. Answer questions and requests with reply_message (it stays in the thread).",
      ].join("\n"),
  },
];

const BY_NAME = new Map(PROMPTS.map((p) => [p.name, p]));

/** The prompt called `name`, or an InvalidParams protocol error naming the prompts there are. */
export function findPrompt(name: string): PromptSpec {
  const prompt = BY_NAME.get(name);
  if (!prompt) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Unknown prompt ${JSON.stringify(name)}; prompts/list names them (${PROMPTS.map((p) => p.name).join(", ")}).`,
    );
  }
  return prompt;
}

/** `prompts/list`: name, title, description and arguments of every prompt. */
export function listPrompts() {
  return PROMPTS.map((p) => ({
    name: p.name,
    title: p.title,
    description: p.description,
    arguments: p.arguments.map(({ name, description, required }) => ({ name, description, required })),
  }));
}

/** `prompts/get`: the prompt as one user message; a missing required argument is InvalidParams. */
export function getPrompt(name: string, args: Record<string, string> = {}): GetPromptResult {
  const prompt = findPrompt(name);
  const missing = prompt.arguments.filter((a) => a.required && !args[a.name]).map((a) => a.name);
  if (missing.length > 0) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Prompt ${name} needs the argument${missing.length > 1 ? "s" : ""} ${missing.join(", ")}.`,
    );
  }
  return {
    description: prompt.description,
    messages: [{ role: "user", content: { type: "text", text: prompt.render(args) } }],
  };
}

/** Serve `prompts/list` and `prompts/get` on `server` (which must declare the prompts capability). */
export function installPromptHandlers(server: Server): void {
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: listPrompts() }));
  server.setRequestHandler(GetPromptRequestSchema, (request) =>
    getPrompt(request.params.name, request.params.arguments),
  );
}

import type { Command } from "commander";
import { LIMITS } from "../../engine/index.js";
import { formatInbox } from "../client/format.js";
import { addClientOptions, type ClientOptions, runAndPrint } from "../client/options.js";
import type { CliCommand } from "./command.js";
import { integerIn } from "./options.js";

interface InboxOptions extends ClientOptions {
  project: string;
  agent: string;
  limit?: number;
  unreadOnly?: boolean;
  urgentOnly?: boolean;
  bodies?: boolean;
}

/** `pigeonhole inbox`: the fetch_inbox tool from the command line (does not mark anything read). */
export const inboxCommand: CliCommand = {
  name: "inbox",
  summary: "list an agent's mail, newest first (fetch_inbox; nothing is marked read)",
  define(cmd) {
    cmd
      .requiredOption("--project <key>", "project slug or human key (project_key)")
      .requiredOption("--agent <name>", "whose inbox (agent_name)")
      .option(
        "--limit <n>",
        `most messages to list, 1..${LIMITS.fetchLimit} (default 20)`,
        integerIn(1, LIMITS.fetchLimit),
      )
      .option("--unread-only", "only unread mail")
      .option("--urgent-only", "only high and urgent mail")
      .option("--bodies", "print each message's body under its line (include_bodies)");
    addClientOptions(cmd, { actsAsAgent: true });
    cmd.action((options: InboxOptions, command: Command) =>
      runAndPrint(
        command,
        options,
        "fetch_inbox",
        {
          project_key: options.project,
          agent_name: options.agent,
          ...(options.limit === undefined ? {} : { limit: options.limit }),
          unread_only: options.unreadOnly === true,
          urgent_only: options.urgentOnly === true,
          include_bodies: options.bodies === true,
        },
        (result) => formatInbox(options.agent, result as Parameters<typeof formatInbox>[1]),
      ),
    );
  },
};

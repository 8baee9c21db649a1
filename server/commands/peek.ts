import type { Command } from "commander";
import { formatPeek } from "../client/format.js";
import { addClientOptions, type ClientOptions, runAndPrint } from "../client/options.js";
import type { CliCommand } from "./command.js";

interface PeekOptions extends ClientOptions {
  project: string;
  agent: string;
  ifUnread?: boolean;
}

type Counts = Parameters<typeof formatPeek>[1];

/** `pigeonhole peek`: the peek_inbox counts as a sentence; `--if-unread` stays silent without unread mail (hooks). */
export const peekCommand: CliCommand = {
  name: "peek",
  summary: "count an agent's unread, urgent and unacknowledged mail (peek_inbox; changes nothing)",
  define(cmd) {
    cmd
      .requiredOption("--project <key>", "project slug or human key (project_key)")
      .requiredOption("--agent <name>", "whose inbox (agent_name)")
      .option(
        "--if-unread",
        "print nothing when there is no unread mail (the exit code stays 0): for prompt hooks",
      );
    addClientOptions(cmd, { actsAsAgent: true });
    cmd.action((options: PeekOptions, command: Command) =>
      runAndPrint(
        command,
        options,
        "peek_inbox",
        { project_key: options.project, agent_name: options.agent },
        (result) => formatPeek(options.agent, result as Counts),
        (result) => options.ifUnread === true && (result as Counts).unread === 0,
      ),
    );
  },
};

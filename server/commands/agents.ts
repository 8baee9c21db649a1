import type { Command } from "commander";
import { formatAgents } from "../client/format.js";
import { addClientOptions, type ClientOptions, runAndPrint } from "../client/options.js";
import type { CliCommand } from "./command.js";

interface AgentsOptions extends ClientOptions {
  project: string;
  activeOnly?: boolean;
}

/** `pigeonhole agents`: the list_agents directory as a table. */
export const agentsCommand: CliCommand = {
  name: "agents",
  summary: "list a project's agents with unread counts and last activity (list_agents)",
  define(cmd) {
    cmd
      .requiredOption("--project <key>", "project slug or human key (project_key)")
      .option("--active-only", "leave out retired agents");
    addClientOptions(cmd, { actsAsAgent: false });
    cmd.action((options: AgentsOptions, command: Command) =>
      runAndPrint(
        command,
        options,
        "list_agents",
        { project_key: options.project, active_only: options.activeOnly === true },
        (result) => formatAgents(options.project, result as Parameters<typeof formatAgents>[1]),
      ),
    );
  },
};

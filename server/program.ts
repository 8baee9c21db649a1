import { Command, CommanderError } from "commander";
import { isPigeonholeError } from "../engine/index.js";
import { COMMANDS } from "./commands/index.js";
import { PACKAGE } from "./version.js";

/** The `pigeonhole` command line with every command of `COMMANDS` registered. Parses nothing yet. */
export function buildProgram(): Command {
  const program = new Command("pigeonhole")
    .description("Coordination mail for AI coding agents: MCP server, Git archive, signed static bundles.")
    .version(PACKAGE.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    // Throw instead of exiting, so runCli decides the exit code in one place. Set before adding
    // commands: subcommands copy it when created.
    .exitOverride();
  for (const spec of COMMANDS) {
    spec.define(program.command(spec.name).description(spec.summary));
  }
  return program;
}

/**
 * Run the CLI on `argv` (as `process.argv`) and return the exit code. Failures are printed as one line on
 * stderr: a `PigeonholeError` by its message; anything else by its message, with the stack only when
 * `PIGEONHOLE_DEBUG=1`.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has already printed its own one-line message (or the help/version text).
    if (error instanceof CommanderError) return error.exitCode;
    const debug = process.env.PIGEONHOLE_DEBUG === "1";
    if (debug && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    } else if (isPigeonholeError(error)) {
      process.stderr.write(`error: ${oneLine(error.message)}\n`);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${oneLine(message)} (set PIGEONHOLE_DEBUG=1 for details)\n`);
    }
    return 1;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

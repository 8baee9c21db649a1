import type { Command } from "commander";

/**
 * One `pigeonhole <name>` subcommand. Each lives in its own file under `server/commands/` and is listed
 * once in `COMMANDS` (`commands/index.ts`); the CLI and the README coverage test both read that list.
 */
export interface CliCommand {
  /** The word after `pigeonhole`. */
  name: string;
  /** One line for `pigeonhole --help`. */
  summary: string;
  /**
   * Declare options and arguments on `cmd` (already named and described; every option needs a help
   * text) and attach the action. The action reports bad input by throwing a `PigeonholeError` (or, from an
   * option parser, commander's `InvalidArgumentError`); the CLI prints one line and exits non-zero.
   */
  define(cmd: Command): void;
}

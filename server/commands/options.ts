import { type Command, InvalidArgumentError } from "commander";

/**
 * Option parsers and options shared by several commands. A parser throws commander's
 * `InvalidArgumentError`, which commander reports as one line naming the option and the bad value.
 */

/** A parser accepting a whole number from `min` to `max`. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Add `--home DIR`: the mailbox directory, defaulting (in the engine) to PIGEONHOLE_HOME or ~/.pigeonhole. */
export function addHomeOption(cmd: Command): Command {
  return cmd.option(
    "--home <dir>",
    "mailbox directory holding mailbox.sqlite3, attachments/ and archive/ (default: $PIGEONHOLE_HOME or ~/.pigeonhole)",
  );
}

/**
 * A repeatable option collecting agent names: each use adds one or more (comma-separated) names.
 * Commander calls it with the previous list, undefined on first use, so a required option stays required.
 */
export function nameList(value: string, previous: string[] | undefined): string[] {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  return [...(previous ?? []), ...names];
}

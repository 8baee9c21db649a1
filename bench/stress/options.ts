import { parseArgs } from "node:util";

/** Command-line options of `npm run stress`, with the numbers as defaults. */

/** The `--help` text. */
export const USAGE = `usage: npm run stress -- [options]
  --senders N          HTTP sender processes (default 8; odd ones use MCP, even ones REST)
  --engine-senders N   processes sending through the engine directly (default 2)
  --readers N          reader processes fetching inboxes and searching (default 2)
  --agents N           agents per HTTP sender, each with its own session (default 3)
  --messages N         messages per sender process in the load phase (default 2000)
  --rounds N           SIGKILL-and-restart rounds (default 20; 0 skips the phase)
  --timeout S          give up after S seconds (default 1200)
  --seed N             seed for every random choice (default 1)
  --json FILE          also write the report as JSON
  --markdown FILE      write the report into FILE's generated section (docs/RELIABILITY.md)
  --keep               keep the mailbox directory (its path is printed)
`;

/** What `npm run stress` was asked to do. */
export interface Options {
  senders: number;
  engineSenders: number;
  readers: number;
  agents: number;
  messages: number;
  rounds: number;
  timeout: number;
  seed: number;
  json?: string;
  markdown?: string;
  keep: boolean;
}

/** The options in `argv`, or undefined for `--help`; a bad count throws with the accepted range. */
export function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      senders: { type: "string" },
      "engine-senders": { type: "string" },
      readers: { type: "string" },
      agents: { type: "string" },
      messages: { type: "string" },
      rounds: { type: "string" },
      timeout: { type: "string" },
      seed: { type: "string" },
      json: { type: "string" },
      markdown: { type: "string" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const count = (name: keyof typeof values, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  return {
    senders: count("senders", 8, 0, 64),
    engineSenders: count("engine-senders", 2, 0, 16),
    readers: count("readers", 2, 0, 16),
    agents: count("agents", 3, 1, 26),
    messages: count("messages", 2000, 1, 1_000_000),
    rounds: count("rounds", 20, 0, 1000),
    timeout: count("timeout", 1200, 10, 86_400),
    seed: count("seed", 1, 0, 2 ** 31),
    json: values.json,
    markdown: values.markdown,
    keep: values.keep ?? false,
  };
}

import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_SEED, MAX_SEED_MESSAGES, type SeedSummary, seedMailbox } from "../../fixtures/seed.js";
import type { CliCommand } from "./command.js";
import { integerIn } from "./options.js";

/**
 * `pigeonhole seed --home DIR --messages N [--seed S] [--archive] [--no-attachments] [--json]`: build a
 * realistic mailbox deterministically, for tests, benchmarks, the exporter and the viewer.
 */

/** Where the command writes; injectable so tests can read what it printed. */
export interface SeedCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

interface SeedCommandOptions {
  home: string;
  messages: number;
  seed: string;
  archive: boolean;
  attachments: boolean;
  start?: string;
  json: boolean;
}

const SUMMARY = "build a realistic mailbox deterministically from a seed (for tests, benchmarks and demos)";

/**
 * Declare the seed command's options on `cmd` and attach its action. Bad option values are refused by
 * commander with one line naming the option (`InvalidArgumentError`); a mailbox that already holds
 * projects is refused by the seed itself (CONFLICT).
 */
export function defineSeedCommand(cmd: Command, io: SeedCommandIo = process): Command {
  return cmd
    .requiredOption("--home <dir>", "mailbox directory to create (must not hold a mailbox with projects)")
    .requiredOption(
      "--messages <n>",
      `how many messages to send (1 to ${MAX_SEED_MESSAGES.toLocaleString("en-US")})`,
      integerIn(1, MAX_SEED_MESSAGES),
    )
    .option("--seed <seed>", "any text; the same seed and count give the same mailbox", DEFAULT_SEED)
    .option("--archive", "also write the Git archive (much slower for large mailboxes)", false)
    .option("--no-attachments", "attach no files (by default a few messages carry generated files)")
    .option("--start <timestamp>", "ISO-8601 start of the simulated timeline", parseStart)
    .option("--json", "print the summary as JSON", false)
    .action(async (options: SeedCommandOptions) => {
      const progress = io.stderr.isTTY === true;
      const summary = await seedMailbox({
        home: options.home,
        messages: options.messages,
        seed: options.seed,
        archive: options.archive,
        attachments: options.attachments,
        start: options.start,
        onProgress: progress
          ? (done, total) => {
              io.stderr.write(`\rseeding ${format(done)}/${format(total)} messages`);
            }
          : undefined,
      });
      if (progress) io.stderr.write("\r\x1b[K");
      io.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : describe(summary));
    });
}

/** The seed command as a standalone commander `Command` named `seed`. */
export function buildSeedCommand(io?: SeedCommandIo): Command {
  return defineSeedCommand(new Command("seed").description(SUMMARY), io);
}

/** `pigeonhole seed`, as listed in COMMANDS. */
export const seedCommand: CliCommand = {
  name: "seed",
  summary: SUMMARY,
  define(cmd) {
    defineSeedCommand(cmd);
  },
};

function parseStart(value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError("expected an ISO-8601 timestamp such as 2026-01-05T08:00:00Z.");
  }
  return new Date(ms).toISOString();
}

function describe(s: SeedSummary): string {
  const rows: [string, string][] = [
    ["projects", format(s.projects)],
    [
      "agents",
      `${format(s.agents)} (${format(s.retired_agents)} retired, ${format(s.open_policy_agents)} with an open contact policy)`,
    ],
    [
      "messages",
      `${format(s.messages)} in ${format(s.threads)} threads (${format(s.replies)} replies, ${format(s.cross_project_messages)} cross-project threads, ${format(s.contact_requests)} contact requests)`,
    ],
    [
      "recipients",
      `${format(s.recipients)} (${format(s.read)} read, ${format(s.acknowledged)} acknowledged)`,
    ],
    ["reservations", format(s.reservations)],
    ["attachments", format(s.attachments)],
    ["timeline", `${s.first_ts ?? "-"} .. ${s.last_ts ?? "-"}`],
  ];
  const head = `Seeded ${s.home} in ${(s.elapsed_ms / 1000).toFixed(1)} s (seed ${JSON.stringify(s.seed)})\n`;
  return head + rows.map(([k, v]) => `  ${k.padEnd(13)}${v}\n`).join("");
}

function format(n: number): string {
  return n.toLocaleString("en-US");
}

import { readFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import { type Command, Option } from "commander";
import { fail } from "../../engine/index.js";
import { formatSent } from "../client/format.js";
import { addClientOptions, type ClientOptions, runAndPrint } from "../client/options.js";
import type { CliCommand } from "./command.js";
import { nameList } from "./options.js";

interface SendOptions extends ClientOptions {
  project: string;
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  body?: string;
  bodyFile?: string;
  importance: string;
  ackRequired?: boolean;
  threadId?: string;
  topic?: string;
}

/** `pigeonhole send`: the send_message tool from the command line. */
export const sendCommand: CliCommand = {
  name: "send",
  summary: "send a message (send_message), to a running server (--url) or the local mailbox",
  define(cmd) {
    cmd
      .requiredOption("--project <key>", "project slug or human key (project_key)")
      .requiredOption("--from <agent>", "the sending agent (sender_name)")
      .requiredOption(
        "--to <agent>",
        "recipient; repeat or comma-separate for several; Name@project for another project",
        nameList,
      )
      .option("--cc <agent>", "carbon-copy recipient; repeatable", nameList)
      .option("--bcc <agent>", "blind-copy recipient; repeatable", nameList)
      .requiredOption("--subject <text>", "subject line")
      .addOption(new Option("--body <text>", "Markdown body (body_md)").conflicts("bodyFile"))
      .addOption(new Option("--body-file <path>", "read the Markdown body from a file; - reads stdin"))
      .addOption(
        new Option("--importance <level>", "importance")
          .choices(["low", "normal", "high", "urgent"])
          .default("normal"),
      )
      .option("--ack-required", "ask the recipients to acknowledge")
      .option("--thread-id <id>", "post into this thread (default: a new thread)")
      .option("--topic <name>", "topic tag, fetchable with fetch_topic");
    addClientOptions(cmd, { actsAsAgent: true });
    cmd.action((options: SendOptions, command: Command) => send(options, command));
  },
};

async function send(options: SendOptions, cmd: Command): Promise<void> {
  const args: Record<string, unknown> = {
    project_key: options.project,
    sender_name: options.from,
    to: options.to,
    cc: options.cc ?? [],
    bcc: options.bcc ?? [],
    subject: options.subject,
    body_md: await bodyOf(options),
    importance: options.importance,
    ack_required: options.ackRequired === true,
  };
  if (options.threadId !== undefined) args.thread_id = options.threadId;
  if (options.topic !== undefined) args.topic = options.topic;
  await runAndPrint(cmd, options, "send_message", args, (result) =>
    formatSent(result as Parameters<typeof formatSent>[0]),
  );
}

async function bodyOf(options: SendOptions): Promise<string> {
  if (options.body !== undefined) return options.body;
  if (options.bodyFile === undefined)
    throw fail.invalid("Give the message body with --body TEXT or --body-file FILE (- for stdin).");
  if (options.bodyFile === "-") return text(process.stdin);
  try {
    return await readFile(options.bodyFile, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw fail.invalid(`Cannot read --body-file ${options.bodyFile} (${reason}).`, {
      path: options.bodyFile,
    });
  }
}

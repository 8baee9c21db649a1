import { type Command, Option } from "commander";
import { fail, isPigeonholeError, PigeonholeError } from "../../engine/index.js";
import { addHomeOption } from "../commands/options.js";
import { type ClientTarget, runClientTool } from "./call.js";

/**
 * The options every client command shares (`--url`, `--home`, `--json`, and `--agent-token` for commands
 * that act as an agent) and the one path from parsed options to printed output.
 */

/** The shared options after parsing. */
export interface ClientOptions {
  url?: string;
  home?: string;
  json?: boolean;
  agentToken?: string;
}

/** Add `--url`, `--home`, `--json` and, when the command acts as an agent, `--agent-token`. */
export function addClientOptions(cmd: Command, { actsAsAgent }: { actsAsAgent: boolean }): Command {
  cmd.addOption(
    new Option(
      "--url <url>",
      "base URL of a running `pigeonhole serve` (e.g. http://127.0.0.1:8765), reached through its REST API with PIGEONHOLE_TOKEN as bearer token; without it the local mailbox is used",
    ).env("PIGEONHOLE_URL"),
  );
  addHomeOption(cmd);
  if (actsAsAgent) {
    cmd.addOption(
      new Option(
        "--agent-token <token>",
        "the acting agent's registration_token, needed against a server in strict identity mode (prefer the environment variable: command lines are visible to other users)",
      ).env("PIGEONHOLE_AGENT_TOKEN"),
    );
  }
  return cmd.option("--json", "print the tool's JSON result (or error body) instead of text");
}

/**
 * Where to run: the server at `--url`, else the local mailbox. `--url` and `--home` together are refused,
 * except that an explicit `--home` wins over a URL that only came from PIGEONHOLE_URL.
 */
export function clientTarget(cmd: Command, options: ClientOptions): ClientTarget {
  const agentToken = options.agentToken ? { agentToken: options.agentToken } : {};
  const urlFromFlag = cmd.getOptionValueSource("url") === "cli";
  if (options.url && options.home !== undefined && urlFromFlag) {
    throw fail.invalid("Give either --url (a running server) or --home (a local mailbox), not both.");
  }
  if (options.url && options.home === undefined) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw fail.invalid(`--url must be an http(s) URL such as http://127.0.0.1:8765; got ${options.url}`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw fail.invalid(`--url must be an http(s) URL such as http://127.0.0.1:8765; got ${options.url}`);
    }
    const token = process.env.PIGEONHOLE_TOKEN;
    return { kind: "remote", url: options.url, ...(token ? { token } : {}), ...agentToken };
  }
  return { kind: "local", ...(options.home === undefined ? {} : { home: options.home }), ...agentToken };
}

/**
 * Run `tool` where the options say and print the result: raw JSON with `--json`, else `human(result)`;
 * nothing at all when `quietWhen(result)` holds. A failure is rethrown for the CLI's one-line report; with `--json`
 * its canonical error body is printed on stdout first, so scripts can parse both outcomes.
 */
export async function runAndPrint(
  cmd: Command,
  options: ClientOptions,
  tool: string,
  args: Record<string, unknown>,
  human: (result: unknown) => string,
  quietWhen: (result: unknown) => boolean = () => false,
): Promise<void> {
  let result: unknown;
  try {
    result = await runClientTool(clientTarget(cmd, options), tool, args);
  } catch (error) {
    if (!isPigeonholeError(error)) throw error;
    if (options.json) process.stdout.write(`${JSON.stringify(error.toJSON())}\n`);
    // The server's advice names tool parameters; say how to pass the token from here.
    if (error.code === "PERMISSION_DENIED" && typeof error.data.agent_name === "string") {
      throw new PigeonholeError(
        error.code,
        `${error.message} From the command line: --agent-token TOKEN or PIGEONHOLE_AGENT_TOKEN.`,
        error.data,
      );
    }
    throw error;
  }
  if (quietWhen(result)) return;
  process.stdout.write(`${options.json ? JSON.stringify(result, null, 2) : human(result)}\n`);
}

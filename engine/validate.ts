import { z } from "zod";
import { fail, PigeonholeError } from "./errors.js";
import { AGENT_NAME_PATTERN, LIMITS, TOPIC_PATTERN } from "./limits.js";

/**
 * Input schemas shared by every operation. The server registers its MCP tools with the operation's own
 * schema, so defaults and limits are stated once, here and in each operation module.
 */

/** A project's slug or human key. */
export const ProjectKey = z
  .string()
  .min(1, "project_key must not be empty")
  .max(LIMITS.humanKeyChars)
  .describe("Project slug or human key (often the absolute path of the repository)");

/** An agent name as written by a caller (matched case-insensitively). */
export const AgentNameInput = z
  .string()
  .min(1, "agent name must not be empty")
  .max(LIMITS.agentNameChars + 1 + LIMITS.humanKeyChars)
  .describe("Agent name, e.g. BlueLake");

/** One name or a list of names; `Name@project` addresses an agent of another project. */
export const NameList = z
  .union([z.string(), z.array(z.string())], { error: "expected a name or a list of names" })
  .transform((v) => (typeof v === "string" ? (v.trim() === "" ? [] : [v]) : v))
  // Checked after the union so that a list over the limit reads as TOO_LARGE, not as "invalid input".
  .pipe(z.array(z.string().max(LIMITS.agentNameChars + 1 + LIMITS.humanKeyChars)).max(LIMITS.recipients))
  .describe("A name or a list of names; Name@project for another project");

export const Importance = z.enum(["low", "normal", "high", "urgent"]);
export type Importance = z.infer<typeof Importance>;

export const Topic = z
  .string()
  .max(LIMITS.topicChars)
  .regex(TOPIC_PATTERN, "topic must start with a letter or digit and use only letters, digits, . _ / -");

/** A thread id. Commas are refused: summarize_thread reads a comma-separated list as several threads. */
export const ThreadId = z
  .string()
  .min(1)
  .max(LIMITS.threadIdChars)
  .regex(/^[^,]+$/, "thread_id cannot contain commas (summarize_thread reads commas as a list of threads)");

export const FetchLimit = (byDefault: number) =>
  z.number().int().min(1).max(LIMITS.fetchLimit).default(byDefault);

export const TimestampInput = z.string().max(64);

export const MessageId = z.number().int().positive();

/** True when a string is a valid agent name (before case folding). */
export function isValidAgentName(name: string): boolean {
  return AGENT_NAME_PATTERN.test(name);
}

/**
 * Parse `input` with `schema`, turning every validation problem into one INVALID_ARGUMENT (or TOO_LARGE
 * when every bad field is over a size limit) whose message names each bad field.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join(".") : "arguments";
    return `${where}: ${issue.message}`;
  });
  // A field over its limit is TOO_LARGE even when it also breaks a pattern whose length bound restates
  // the limit (a 129-character name is too long, not malformed); any other bad field makes it INVALID.
  const oversized = new Set(
    result.error.issues.filter((i) => i.code === "too_big").map((i) => i.path.join(".")),
  );
  const onlySize = result.error.issues.every((i) => oversized.has(i.path.join(".")));
  const code = onlySize ? "TOO_LARGE" : "INVALID_ARGUMENT";
  return throwInvalid(code, problems);
}

function throwInvalid(code: "TOO_LARGE" | "INVALID_ARGUMENT", problems: string[]): never {
  throw new PigeonholeError(code, `Invalid arguments: ${problems.join("; ")}`, { problems });
}

/** Refuse a UTF-8 string longer than `maxBytes`, naming the field and the limit. */
export function checkBytes(value: string, maxBytes: number, field: string): void {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > maxBytes) {
    throw fail.tooLarge(
      `${field} is ${bytes} bytes; the limit is ${maxBytes} bytes. Split it or attach it as a file.`,
      {
        field,
        bytes,
        limit: maxBytes,
      },
    );
  }
}

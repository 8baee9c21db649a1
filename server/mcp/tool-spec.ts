import type { z } from "zod";
import type { Mailbox } from "../../engine/index.js";
import type { Logger } from "../log.js";
import type { SessionContext } from "./session.js";

/** What a tool body gets besides its arguments. */
export interface ToolContext {
  mailbox: Mailbox;
  session: SessionContext;
  log: Logger;
}

/**
 * One MCP tool, declared: the engine's input schema, one engine call, and the facts the dispatcher needs
 * (role, profile, which argument names the acting agent). No tool holds business logic.
 */
export interface ToolSpec<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: S;
  /** `read` tools are open to the reader role; `write` tools need a writer. */
  access: "read" | "write";
  /** Listed in the small `core` profile (every tool is in `full`). */
  core: boolean;
  /**
   * The argument naming the agent the caller acts as (`sender_name`, `agent_name`, ...). Filled from the
   * session's default agent when omitted; checked against the session's identity binding.
   */
  actor?: string;
  /** True when `actor` may stay empty (an optional viewer, as in search_messages). */
  actorOptional?: boolean;
  /** The agent name to bind to the session after a successful call (register/create/macros). */
  binds?: (result: unknown, args: Record<string, unknown>) => string | undefined;
  /** Only for tools that create or update an identity: the name whose token is needed if it exists. */
  claimsName?: (args: Record<string, unknown>) => string | undefined;
  run(ctx: ToolContext, args: z.input<S>): unknown;
}

/** Declare a tool with its argument type inferred from its schema. */
export function defineTool<S extends z.ZodObject>(spec: ToolSpec<S>): ToolSpec {
  return spec as unknown as ToolSpec;
}

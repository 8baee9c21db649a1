import {
  checkRegistrationToken,
  isPigeonholeError,
  PigeonholeError,
  peekInboxCached,
} from "../../engine/index.js";
import type { ToolMetrics } from "./metrics.js";
import type { ToolContext, ToolSpec } from "./tool-spec.js";

/** A tool's outcome before it is framed as an MCP result. */
export interface ToolOutcome {
  ok: boolean;
  /** The engine's result (ok) or the error body `{error:{type, message, recoverable, data}}`. */
  value: unknown;
  /** One-line unread-mail notice for the acting agent, when there is mail and notices are on. */
  notice?: string;
}

const TOKEN_FIELDS = ["sender_token", "agent_token"] as const;

/** MCP clients often send `null` for "not given"; the engine's schemas treat absent and null alike this way. */
function withoutNulls(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null));
}

function denied(message: string, data: Record<string, unknown> = {}): PigeonholeError {
  return new PigeonholeError("PERMISSION_DENIED", message, data);
}

/**
 * Check that the session may act as `name`: it is bound to the session, or the call carries its
 * registration token (which then binds it). `PIGEONHOLE_IDENTITY=open` skips the check.
 */
export function verifyActor(ctx: ToolContext, name: string, token: string | undefined): boolean {
  if (ctx.session.isBound(name)) return true;
  const check = checkRegistrationToken(ctx.mailbox, name, token);
  if (check === "ok") {
    ctx.session.bind(name);
    return true;
  }
  if (ctx.session.identityMode === "open" || check === "unknown") return false;
  throw denied(
    `This session is not bound to ${name}. Pass ${name}'s registration_token as sender_token (or agent_token), or act as an agent this session registered (${ctx.session.boundAgents().join(", ") || "none yet"}).`,
    { agent_name: name },
  );
}

/**
 * Run one tool call through the rules every tool shares: role check, null stripping, default identity,
 * identity binding, the engine call, typed errors, metrics and the unread notice. Never throws.
 */
export async function dispatchTool(
  spec: ToolSpec,
  rawArgs: Record<string, unknown> | undefined,
  ctx: ToolContext,
  metrics: ToolMetrics,
): Promise<ToolOutcome> {
  const started = performance.now();
  let actor: string | undefined;
  try {
    if (spec.access === "write" && ctx.session.role !== "writer") {
      throw denied(`${spec.name} changes the mailbox and needs the writer role; this caller is a reader.`, {
        tool: spec.name,
        role: ctx.session.role,
      });
    }
    const args = withoutNulls(rawArgs ?? {});
    const token = TOKEN_FIELDS.map((f) => args[f]).find((v): v is string => typeof v === "string");
    for (const field of TOKEN_FIELDS) delete args[field];
    let verified = false;
    if (spec.actor) {
      const implicit = ctx.session.implicitAgent();
      if (args[spec.actor] === undefined && implicit) args[spec.actor] = implicit;
      const name = args[spec.actor];
      if (typeof name === "string") {
        actor = name;
        verified = verifyActor(ctx, name, token);
      }
    }
    const claimed = spec.claimsName?.(args);
    if (claimed !== undefined && !ctx.session.isBound(claimed) && ctx.session.identityMode === "strict") {
      const check = checkRegistrationToken(ctx.mailbox, claimed, token);
      if (check === "mismatch") {
        throw denied(
          `${claimed} is already registered. Pass its registration_token as agent_token to update it from this session, or choose another name.`,
          { name: claimed },
        );
      }
    }
    let value = await spec.run(ctx, args);
    const bound = spec.binds?.(value, args);
    if (bound) {
      ctx.session.bind(bound);
      actor ??= bound;
      verified = true;
    }
    if (spec.actor && value !== null && typeof value === "object" && !Array.isArray(value)) {
      value = { ...value, verified_sender: verified };
    }
    metrics.record(spec.name, performance.now() - started);
    return { ok: true, value, notice: actor ? unreadNotice(ctx, args, actor) : undefined };
  } catch (error) {
    const failure = isPigeonholeError(error) ? error : internal(ctx, spec.name, error);
    metrics.record(spec.name, performance.now() - started, failure.code);
    return { ok: false, value: failure.toJSON() };
  }
}

function internal(ctx: ToolContext, tool: string, error: unknown): PigeonholeError {
  ctx.log.error(
    `tool ${tool} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return new PigeonholeError("INTERNAL", "Internal error in the Pigeonhole server; see its log.");
}

function unreadNotice(ctx: ToolContext, args: Record<string, unknown>, agent: string): string | undefined {
  if (!ctx.session.unreadNotice || typeof args.project_key !== "string") return undefined;
  try {
    const counts = peekInboxCached(ctx.mailbox, { project_key: args.project_key, agent_name: agent });
    if (counts.unread === 0) return undefined;
    return `${agent}: ${counts.unread} unread${counts.urgent_unread ? `, ${counts.urgent_unread} urgent` : ""}${counts.ack_pending ? `, ${counts.ack_pending} awaiting ack` : ""} (fetch_inbox to read)`;
  } catch {
    return undefined;
  }
}

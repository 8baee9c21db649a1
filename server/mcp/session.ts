/**
 * What the server knows about one MCP session: which agents it registered (identity binding), its default
 * agent, the caller's role, and whether tool results carry the unread-mail notice.
 */
export type Role = "reader" | "writer";

/** How strictly acting as an agent is checked (PIGEONHOLE_IDENTITY). */
export type IdentityMode = "strict" | "open";

export interface SessionOptions {
  /** Agent used when a tool omits agent_name/sender_name (`--agent` on stdio, `X-Agent-Name` on HTTP). */
  defaultAgent?: string;
  role?: Role;
  identityMode?: IdentityMode;
  /** True when whoever configured `defaultAgent` is trusted to speak for it (stdio `--agent`). */
  trustDefaultAgent?: boolean;
  /** Add "N unread, M urgent" notices to results for an identified agent (default true). */
  unreadNotice?: boolean;
  /** Stable label for logs and rate limits (token subject, "stdio", ...). */
  principal?: string;
}

export class SessionContext {
  readonly defaultAgent: string | undefined;
  readonly role: Role;
  readonly identityMode: IdentityMode;
  readonly unreadNotice: boolean;
  readonly principal: string;
  private readonly bound = new Map<string, string>();

  constructor(options: SessionOptions = {}) {
    this.defaultAgent = options.defaultAgent;
    this.role = options.role ?? "writer";
    this.identityMode = options.identityMode ?? "strict";
    this.unreadNotice = options.unreadNotice ?? true;
    this.principal = options.principal ?? "anonymous";
    // An operator who configured the default agent (stdio --agent) vouches for it; a request header
    // (HTTP X-Agent-Name) only names it, and acting as it still needs binding or its token.
    if (options.defaultAgent && options.trustDefaultAgent) this.bind(options.defaultAgent);
  }

  /** Bind `name` to this session: it may act as that agent without a token from now on. */
  bind(name: string): void {
    this.bound.set(name.toLowerCase(), name);
  }

  /** True when this session registered, created, or was configured with `name`. */
  isBound(name: string): boolean {
    return this.bound.has(name.toLowerCase());
  }

  /**
   * Who this session is when a tool omits the agent: the configured default agent, else the one agent
   * it registered (none when it registered several: then the caller must say which).
   */
  implicitAgent(): string | undefined {
    if (this.defaultAgent) return this.defaultAgent;
    return this.bound.size === 1 ? [...this.bound.values()][0] : undefined;
  }

  /** The names bound to this session, in binding order. */
  boundAgents(): string[] {
    return [...this.bound.values()];
  }
}

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import Database from "better-sqlite3";
import { BODY_512 } from "./engine-send.js";

/**
 * The load the server benchmark offers: MCP sessions through the SDK's real client over Streamable HTTP,
 * each bound to one agent of a seeded mailbox (with that agent's registration token, as identity binding
 * requires), calling one tool at a time.
 */

/** An agent of the seeded mailbox a session acts as. */
export interface LoadAgent {
  name: string;
  project: string;
  registration_token: string;
  /** Whom its `send_message` calls write to: an agent of its project that accepts mail from it, or itself. */
  peer: string;
}

/** The tools the benchmark calls; `health_check` is the baseline (the transport and dispatch, little else). */
export const LOAD_TOOLS = ["health_check", "fetch_inbox", "send_message"] as const;
export type LoadTool = (typeof LOAD_TOOLS)[number];

/**
 * The active agents of the mailbox in `home` (read before the server opens it), in id order. Tokens are
 * read from the database because seeding draws them at random and returns none.
 */
export function loadAgents(home: string): LoadAgent[] {
  const db = new Database(`${home}/mailbox.sqlite3`, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT a.name, p.slug AS project, a.registration_token,
           (SELECT b.name FROM agents b
            WHERE b.project_id = a.project_id AND b.id <> a.id AND b.retired_ts IS NULL
              AND b.contact_policy IN ('open', 'auto')
            ORDER BY b.id LIMIT 1) AS peer
         FROM agents a JOIN projects p ON p.id = a.project_id
         WHERE a.retired_ts IS NULL ORDER BY a.id`,
      )
      .all() as (Omit<LoadAgent, "peer"> & { peer: string | null })[];
    return rows.map((r) => ({ ...r, peer: r.peer ?? r.name }));
  } finally {
    db.close();
  }
}

/**
 * `fetch` for the SDK's transport that gives each POST its own AbortSignal, bridged from the transport's
 * until the answer's headers arrive. The transport passes one signal to every request of a session, and
 * Node's fetch drops its listener on that signal only when the request is garbage collected, so a few
 * thousand calls on one session pile up listeners (MaxListenersExceededWarning). A POST's answer is a
 * short stream the server ends; the session's long-lived GET stream keeps the transport's signal, so
 * closing the client still ends it.
 */
const ownSignalFetch: FetchLike = async (url, init) => {
  const shared = init?.signal;
  if (!shared || init.method !== "POST") return fetch(url, init);
  const own = new AbortController();
  const abort = () => own.abort(shared.reason);
  if (shared.aborted) abort();
  else shared.addEventListener("abort", abort, { once: true });
  try {
    return await fetch(url, { ...init, signal: own.signal });
  } finally {
    shared.removeEventListener("abort", abort);
  }
};

/** One MCP session over Streamable HTTP, bound to `agent`. */
export class LoadSession {
  private constructor(
    private readonly client: Client,
    readonly agent: LoadAgent,
  ) {}

  /** Open a session on the server at `url` and bind it to `agent` (a peek_inbox with its token). */
  static async open(url: string, agent: LoadAgent): Promise<LoadSession> {
    const client = new Client({ name: "pigeonhole-bench", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { fetch: ownSignalFetch }));
    const session = new LoadSession(client, agent);
    const bound = await session.tool("peek_inbox", {
      project_key: agent.project,
      agent_name: agent.name,
      agent_token: agent.registration_token,
    });
    if (bound.verified_sender !== true) throw new Error(`session not bound to ${agent.name}`);
    return session;
  }

  /** Make one call of `tool` as this session's agent (`i` numbers the subjects of sent mail). */
  async call(tool: LoadTool, i: number): Promise<void> {
    const { project, name, peer } = this.agent;
    if (tool === "health_check") await this.tool(tool, {});
    else if (tool === "fetch_inbox")
      await this.tool(tool, { project_key: project, agent_name: name, limit: 20 });
    else {
      await this.tool(tool, {
        project_key: project,
        sender_name: name,
        to: peer,
        subject: `Bench load ${i}`,
        body_md: BODY_512,
      });
    }
  }

  /** Close the session (the server drops it when its stream ends). */
  async close(): Promise<void> {
    await this.client.close();
  }

  /** Call `tool`; a tool error is a failed benchmark, so it throws with the error body. */
  private async tool(tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = (await this.client.callTool({ name: tool, arguments: args })) as CallToolResult;
    const first = result.content[0];
    const text = first?.type === "text" ? first.text : "";
    if (result.isError) throw new Error(`${tool} as ${this.agent.name} failed: ${text}`);
    return (result.structuredContent ?? {}) as Record<string, unknown>;
  }
}

/** Open `count` sessions, session `i` bound to agent `i mod agents` (several sessions may share an agent). */
export async function openSessions(url: string, agents: LoadAgent[], count: number): Promise<LoadSession[]> {
  if (agents.length === 0) throw new Error("the seeded mailbox has no active agent to bind sessions to");
  return Promise.all(
    Array.from({ length: count }, (_, i) => LoadSession.open(url, agents[i % agents.length] as LoadAgent)),
  );
}

/** Jobs the server's Git archive has yet to write (GET /health). */
async function pendingArchiveJobs(url: string): Promise<number> {
  const health = (await (await fetch(`${url}/health`)).json()) as { archive_jobs_pending: number };
  return health.archive_jobs_pending;
}

/**
 * Waits, between timed loops, while the server's Git archive writes the mail the send loops queued, so
 * that work is not timed in the next loop. A wait ends when nothing is pending or when the count has not
 * fallen for `stallMs`; if it never fell, no archive writer is running and later waits return at once.
 */
export class ArchiveWatch {
  /** Jobs pending when the last wait ended. */
  pending = 0;
  /** False once a wait saw jobs pending and none written. */
  writing = true;

  constructor(
    private readonly url: string,
    // One batch commit can take seconds on a loaded 2-core machine: a short stall would mistake a slow
    // writer for none, and the archive's work would then leak into the timed loops.
    private readonly stallMs = 20_000,
  ) {}

  /** Wait for the archive as described above; afterwards `pending` and `writing` say what was found. */
  async settle(): Promise<void> {
    const first = await pendingArchiveJobs(this.url);
    this.pending = first;
    if (!this.writing) return;
    let progressAt = Date.now();
    while (this.pending > 0) {
      if (Date.now() - progressAt > this.stallMs) {
        if (this.pending >= first) this.writing = false;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await pendingArchiveJobs(this.url);
      if (now < this.pending) progressAt = Date.now();
      this.pending = now;
    }
  }
}

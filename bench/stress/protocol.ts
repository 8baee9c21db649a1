/**
 * What the stress runner and its worker processes say to each other. The runner writes a `WorkerTask`
 * file and forks `worker.js` with its path; the worker reports over the IPC channel, so the runner knows
 * every acknowledged send as soon as the sender does (a server kill cannot hide one).
 */

/** How a worker reaches the mailbox. */
export type Channel = "mcp" | "rest" | "engine";

/** What a worker does: send messages, or read (fetch inboxes, peek, search) until told to stop. */
export type Role = "sender" | "reader";

/** An agent a worker acts as, with the token that lets any session act as it. */
export interface AgentCredential {
  name: string;
  token: string;
}

/** Everything a worker needs, written by the runner as JSON. */
export interface WorkerTask {
  /** Worker label, unique in the run (`mcp-1`, `engine-2`, `reader-1`...); part of every marker. */
  id: string;
  role: Role;
  channel: Channel;
  /** Mailbox home (engine channel) and server base URL (HTTP channels). */
  home: string;
  url: string;
  project: string;
  /** The agents this worker acts as; a sender runs one concurrent loop per agent. */
  agents: AgentCredential[];
  /** Names a sender may address (its own agents are skipped). */
  recipients: string[];
  /** Subject prefix shared by the run: `<prefix> <worker> #<seq>` is each message's unique marker. */
  prefix: string;
  /** Sends to attempt (sender); a reader stops only when told. */
  messages: number;
  /** When true, transport failures are expected (server kills): reconnect and go on instead of counting down. */
  survivesKills: boolean;
  /** When true, keep the share of `messages` sent near the share of the phase done (`pace` messages). */
  paced: boolean;
  /** Seed for this worker's choices (recipients, bodies). */
  seed: number;
}

/** Tally of one operation kind in one worker: counts, error codes and latency samples (ns). */
export interface OperationStats {
  operation: string;
  ok: number;
  /** Error code (the engine's, or a transport failure such as `SERVER_DOWN`) → count. */
  errors: Record<string, number>;
  latenciesNs: number[];
}

/** Worker → runner. */
export type WorkerMessage =
  /** The server (or engine) answered success for `marker`, stored as message `id` for `recipients` agents. */
  | { type: "ack"; marker: string; id: number; recipients: number }
  /**
   * A send that failed with `code`. With `inDoubt` the connection died mid-request, so the message may or
   * may not be stored; without it the send was refused and must not be stored.
   */
  | { type: "failed"; marker: string; code: string; inDoubt: boolean }
  /** Final tallies, sent once before the worker exits. */
  | { type: "done"; stats: OperationStats[] }
  | { type: "fatal"; message: string };

/** Runner → worker: stop after the current call, or how much of the phase is done (for paced senders). */
export type RunnerMessage = { type: "stop" } | { type: "pace"; done: number };

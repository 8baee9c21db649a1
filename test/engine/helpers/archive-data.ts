import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import {
  acknowledgeMessage,
  ensureProject,
  fileReservationPaths,
  Mailbox,
  type MailboxOptions,
  markMessageRead,
  type RegisteredAgent,
  registerAgent,
  sendMessage,
} from "../../../engine/index.js";

/**
 * Mailbox contents for the archive tests, made with the engine's real operations (each queues its archive
 * job in its own transaction, as in production).
 */

/** A fresh temp directory, removed by the returned cleanup. */
export function tempHome(): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), "pigeonhole-archive-"));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** A mailbox with the archive on and NO writer attached: jobs queue up until a writer is started. */
export function mailboxWithoutWriter(home: string, options: MailboxOptions = {}): Mailbox {
  return new Mailbox({ home, archive: true, ...options });
}

let agentCounter = 0;

/** Register an agent (named `AgentN` unless given a name) in project `project`. */
export function addAgent(mb: Mailbox, project: string, name = `Agent${++agentCounter}`): RegisteredAgent {
  return registerAgent(mb, {
    project_key: project,
    program: "claude-code",
    model: "opus",
    name,
    task_description: "testing the archive",
  });
}

/** A project plus two agents: the smallest mailbox that can hold a message. */
export function smallWorld(
  mb: Mailbox,
  humanKey = "demo",
): { project: string; a: RegisteredAgent; b: RegisteredAgent } {
  const project = ensureProject(mb, { human_key: humanKey }).slug;
  return { project, a: addAgent(mb, project), b: addAgent(mb, project) };
}

export interface TestMessage {
  project: string;
  from: RegisteredAgent;
  to: RegisteredAgent[];
  cc?: RegisteredAgent[];
  bcc?: RegisteredAgent[];
  subject?: string;
  body?: string;
  payload?: unknown;
  attachment_paths?: string[];
}

/** Send one message; returns its id. */
export async function send(mb: Mailbox, m: TestMessage): Promise<number> {
  const names = (list: RegisteredAgent[] | undefined) => (list ?? []).map((agent) => agent.name);
  const sent = await sendMessage(mb, {
    project_key: m.project,
    sender_name: m.from.name,
    to: names(m.to),
    cc: names(m.cc),
    bcc: names(m.bcc),
    subject: m.subject ?? "Hello",
    body_md: m.body ?? "Body text.",
    payload: m.payload,
    attachment_paths: m.attachment_paths ?? [],
  });
  return (sent.deliveries[0] as { payload: { id: number } }).payload.id;
}

/** Send `count` messages one after another (each its own transaction, like a burst of sends). */
export async function sendMany(
  mb: Mailbox,
  count: number,
  make: (i: number) => TestMessage,
): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(await send(mb, make(i)));
  return ids;
}

/** Mark a message read (and acknowledged when `ack`) by one recipient: a read_state job. */
export function markRead(
  mb: Mailbox,
  project: string,
  messageId: number,
  reader: RegisteredAgent,
  ack = false,
): void {
  const input = { project_key: project, agent_name: reader.name, message_id: messageId };
  if (ack) acknowledgeMessage(mb, input);
  else markMessageRead(mb, input);
}

/** Reserve `pattern` for `agent`; returns the reservation id. */
export function reserve(mb: Mailbox, project: string, agent: RegisteredAgent, pattern: string): number {
  const result = fileReservationPaths(mb, {
    project_key: project,
    agent_name: agent.name,
    paths: [pattern],
    ttl_seconds: 3600,
    reason: "editing",
  });
  return (result.granted[0] as { id: number }).id;
}

/** Commit summaries of the archive at `dir`, newest first. */
export async function commitSummaries(dir: string): Promise<string[]> {
  const out = await simpleGit(dir).raw(["log", "--format=%s"]);
  return out.split("\n").filter((l) => l !== "");
}

export function jobCount(mb: Mailbox): number {
  return (mb.db.prepare("SELECT count(*) AS n FROM archive_jobs").get() as { n: number }).n;
}

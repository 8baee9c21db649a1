import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";
import {
  type ErrorCode,
  ensureProject,
  isPigeonholeError,
  type Mailbox,
  openMailbox,
  type PigeonholeError,
  type Project,
  type RegisteredAgent,
  registerAgent,
  type SendMessageInput,
  type SendMessageResult,
  sendMessage,
  setContactPolicy,
} from "../../engine/index.js";

/** A clock tests move by hand, so expiry and "timestamps do not move" are checked without sleeping. */
export interface TestClock {
  now: () => Date;
  /** Move the clock forward by `seconds` (fractions allowed). */
  advance: (seconds: number) => void;
  /** The current time as a stored timestamp. */
  iso: () => string;
}

export function testClock(start = "2026-01-01T00:00:00.000Z"): TestClock {
  let ms = Date.parse(start);
  return {
    now: () => new Date(ms),
    advance: (seconds) => {
      ms += Math.round(seconds * 1000);
    },
    iso: () => new Date(ms).toISOString(),
  };
}

/** A fresh mailbox on a real SQLite file in a temp dir (archive off), closed and removed after the test. */
export function tempMailbox(clock: TestClock = testClock()): { mb: Mailbox; home: string; clock: TestClock } {
  const home = mkdtempSync(join(tmpdir(), "ph-engine-"));
  const mb = openMailbox({ home, archive: false, now: clock.now });
  onTestFinished(async () => {
    await mb.close();
    rmSync(home, { recursive: true, force: true });
  });
  return { mb, home, clock };
}

export interface World {
  mb: Mailbox;
  home: string;
  clock: TestClock;
  project: Project;
  /** Registered agents by the name they were given. */
  agents: Record<string, RegisteredAgent>;
  /** The project's slug, the usual `project_key`. */
  key: string;
}

/** A mailbox with one project (`/repo/app`) and the named agents registered in it. */
export function world(names: readonly string[] = ["Alice", "Bob", "Carol", "Dave"]): World {
  const { mb, home, clock } = tempMailbox();
  const project = ensureProject(mb, { human_key: "/repo/app" });
  const agents: Record<string, RegisteredAgent> = {};
  for (const name of names) {
    agents[name] = registerAgent(mb, {
      project_key: project.slug,
      program: "claude-code",
      model: "opus",
      name,
    });
  }
  return { mb, home, clock, project, agents, key: project.slug };
}

/**
 * Register `name` in a second project (`/srv/other`, slug `srv-other`) with contact policy `open`, so
 * cross-project mail reaches it without a contact handshake (contacts have their own tests).
 */
export function foreignAgent(w: World, name: string): RegisteredAgent {
  ensureProject(w.mb, { human_key: "/srv/other" });
  const agent = registerAgent(w.mb, { project_key: "srv-other", program: "p", model: "m", name });
  setContactPolicy(w.mb, { project_key: "srv-other", agent_name: name, policy: "open" });
  return agent;
}

/** Send with defaults for the fields a test does not care about. */
export function send(
  w: World,
  input: Partial<SendMessageInput> & { sender_name: string },
): Promise<SendMessageResult> {
  return sendMessage(w.mb, { project_key: w.key, to: [], subject: "Subject", body_md: "Body", ...input });
}

/** Send and return the new message's id. */
export async function sendId(
  w: World,
  input: Partial<SendMessageInput> & { sender_name: string },
): Promise<number> {
  const result = await send(w, input);
  return result.deliveries[0]!.payload.id;
}

function checked(error: unknown, code: ErrorCode): PigeonholeError {
  if (!isPigeonholeError(error)) throw new Error(`expected a PigeonholeError, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}

/** Run `fn`, expect it to throw a PigeonholeError with `code`, and return the error. */
export function expectFail(fn: () => unknown, code: ErrorCode): PigeonholeError {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return checked(error, code);
  }
  if (result instanceof Promise) throw new Error("expectFail got a promise; use expectReject");
  throw new Error(`expected ${code}, but the call succeeded`);
}

/** Await `fn()`, expect it to reject with a PigeonholeError with `code`, and return the error. */
export async function expectReject(fn: () => Promise<unknown>, code: ErrorCode): Promise<PigeonholeError> {
  try {
    await fn();
  } catch (error) {
    return checked(error, code);
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

/** Row count of a table, to prove that a refused operation stored nothing. */
export function countRows(
  mb: Mailbox,
  table: "messages" | "message_recipients" | "agents" | "projects",
): number {
  return (mb.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

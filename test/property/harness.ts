import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { ERROR_CODES, type ErrorCode, type Mailbox, openMailbox } from "../../engine/index.js";
import { silentLogger } from "../../server/log.js";
import { createRuntime, type RuntimeOptions, type ServerRuntime } from "../../server/mcp/runtime.js";
import { createMcpSession } from "../../server/mcp/server.js";
import type { SessionOptions } from "../../server/mcp/session.js";

/**
 * Real parts for the property tests: a mailbox in a temp dir (archive off: Git would dominate the run
 * time without adding anything the archive's own tests do not cover), SDK clients linked to server
 * sessions over the in-memory transport, and the checks every tool answer must pass.
 */

/** A sandbox directory with a mailbox, a project directory with small files, and a Git work tree. */
export interface Sandbox {
  dir: string;
  mailbox: Mailbox;
  /** The project directory (its human key): attachments may be read from here. */
  projectDir: string;
  /** A Git work tree inside the sandbox, for the pre-commit guard tools. */
  repoDir: string;
  /** Connect a client to a new session of a runtime on the sandbox's mailbox. */
  connect(session?: SessionOptions, options?: RuntimeOptions): Promise<Client>;
  close(): Promise<void>;
}

/** Create a sandbox; `git: false` skips the Git work tree (a process spawn) for tests that do not need it. */
export async function createSandbox(options: { git?: boolean } = {}): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), "ph-prop-"));
  const projectDir = join(dir, "project");
  const repoDir = join(dir, "repo");
  mkdirSync(join(projectDir, "docs"), { recursive: true });
  writeFileSync(join(projectDir, "notes.txt"), "plain text attachment\n");
  writeFileSync(join(projectDir, "docs", "plan.md"), "# Plan\n\n- [ ] TODO: ship\n");
  mkdirSync(repoDir);
  if (options.git !== false) execFileSync("git", ["init", "-q", repoDir]);
  const mailbox = openMailbox({ home: join(dir, "home"), archive: false, attachmentRoots: [projectDir] });
  const clients: Client[] = [];
  const runtimes: ServerRuntime[] = [];
  return {
    dir,
    mailbox,
    projectDir,
    repoDir,
    async connect(session = {}, options = {}) {
      const runtime = createRuntime(mailbox, silentLogger(), options);
      runtimes.push(runtime);
      const { server } = createMcpSession(runtime, session);
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: "property", version: "1" });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close();
      for (const r of runtimes) r.watcher.stop();
      await mailbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The canonical error body of a failed tool call. */
export interface ErrorBody {
  type: ErrorCode;
  message: string;
  recoverable: boolean;
  data: Record<string, unknown>;
}

/**
 * Check the contract every tool answer keeps, whatever the arguments: a JSON text block that is also the
 * structured content; on failure a typed error `{error:{type, message, recoverable, data}}` whose code is
 * one of ERROR_CODES but never INTERNAL, whose `recoverable` matches the code, and whose message is text
 * for an agent (no stack trace). Returns the parsed body.
 */
export function checkToolAnswer(result: CallToolResult, what: string): unknown {
  const first = result.content[0];
  expect(first?.type, `${what}: first content block`).toBe("text");
  const value: unknown = JSON.parse((first as { text: string }).text);
  expect(result.structuredContent, `${what}: structured content`).toEqual(
    Array.isArray(value) ? { result: value } : value,
  );
  if (!result.isError) return value;
  const error = (value as { error?: ErrorBody }).error;
  expect(error, `${what}: error body`).toBeTypeOf("object");
  const { type, message, recoverable, data } = error as ErrorBody;
  expect(Object.keys(ERROR_CODES), `${what}: error code`).toContain(type);
  expect(type, `${what}: ${message}`).not.toBe("INTERNAL");
  expect(recoverable, `${what}: recoverable`).toBe(ERROR_CODES[type].recoverable);
  expect(message, `${what}: message`).toBeTypeOf("string");
  expect(message.length, `${what}: message`).toBeGreaterThan(0);
  expect(message, `${what}: message`).not.toMatch(/\n\s+at /);
  expect(
    data !== null && typeof data === "object" && !Array.isArray(data),
    `${what}: data is an object`,
  ).toBe(true);
  return value;
}

/**
 * Collect unhandled promise rejections while property tests run: `drain()` returns (and forgets) those
 * seen so far, and the tests assert it is empty after each test.
 */
export function watchUnhandledRejections(): { drain(): unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
  };
  process.on("unhandledRejection", listener);
  return {
    drain: () => seen.splice(0),
    stop: () => {
      process.off("unhandledRejection", listener);
    },
  };
}

/** A short preview of arguments for failure messages (huge strings are cut). */
export function preview(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) =>
      typeof v === "string" && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v,
    );
  } catch {
    // Nested too deeply for JSON.stringify (on purpose).
    text = "[deeply nested arguments]";
  }
  return text === undefined ? "undefined" : text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

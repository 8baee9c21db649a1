import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureProject } from "../../engine/index.js";
import {
  checkToolAnswer,
  createSandbox,
  preview,
  type Sandbox,
  watchUnhandledRejections,
} from "./harness.js";
import { type Command, command, MailModel, type Role } from "./mail-model.js";

/**
 * Random sequences of everyday operations (send, reply, read, acknowledge, reserve, release, retire and
 * unretire) through the MCP client, checked against a model of the mailbox: every message reaches
 * exactly its recipients (a retired sender or recipient stops the whole send), nobody sees mail not
 * addressed to them (inbox and search), BCC names stay hidden, receipts and peek counts agree with what
 * was read and acknowledged, and reservations and their conflicts are as held.
 */

const NAMES = ["Ann", "Ben", "Cat", "Dan"];

// biome-ignore lint/suspicious/noExplicitAny: tool results are checked field by field.
type Json = any;

const byId = (a: number, b: number) => a - b;

/** One run: a fresh project with four fresh agents, one session bound to all of them. */
class SequenceRun {
  readonly model = new MailModel();
  readonly agents: string[];
  private step = "setup";
  private words = 0;

  constructor(
    private readonly client: Client,
    private readonly project: string,
    private readonly run: number,
  ) {
    // Agent names are unique across projects: each run has its own.
    this.agents = NAMES.map((n) => `${n}${run}`);
  }

  private async call(name: string, args: Record<string, unknown>): Promise<{ ok: boolean; body: Json }> {
    const result = (await this.client.callTool({
      name,
      arguments: { project_key: this.project, ...args },
    })) as CallToolResult;
    return { ok: !result.isError, body: checkToolAnswer(result, `${this.step}: ${name}(${preview(args)})`) };
  }

  private async ok(name: string, args: Record<string, unknown>): Promise<Json> {
    const { ok, body } = await this.call(name, args);
    expect(ok, `${this.step}: ${name} failed: ${preview(body)}`).toBe(true);
    return body;
  }

  /** The call must fail with `code` (when given) or succeed; returns the body on success. */
  private async expectOutcome(
    name: string,
    args: Record<string, unknown>,
    code: string | undefined,
  ): Promise<Json | undefined> {
    const { ok, body } = await this.call(name, args);
    if (code) {
      expect(body.error?.type, `${this.step}: ${name}`).toBe(code);
      return undefined;
    }
    expect(ok, `${this.step}: ${name} failed: ${preview(body)}`).toBe(true);
    return body;
  }

  async execute(commands: Command[]): Promise<void> {
    for (const name of this.agents) await this.ok("register_agent", { program: "p", model: "m", name });
    for (const [i, cmd] of commands.entries()) {
      this.step = `step ${i} ${preview(cmd)}`;
      await this.apply(cmd);
      if (i % 4 === 3) await this.checkMailbox();
    }
    this.step = "end";
    await this.checkMailbox();
    await this.checkSearch();
  }

  private async apply(cmd: Command): Promise<void> {
    const { model } = this;
    const target =
      "message" in cmd && model.messages.length
        ? model.messages[cmd.message % model.messages.length]
        : undefined;
    switch (cmd.kind) {
      case "send":
        return this.send(cmd);
      case "reply":
        return target && this.reply(cmd.by, target, cmd.to);
      case "read":
      case "ack": {
        if (!target) return;
        const who = this.agents[cmd.agent]!;
        const tool = cmd.kind === "read" ? "mark_message_read" : "acknowledge_message";
        const refusal = model.recipients(target).includes(who) ? undefined : "NOT_FOUND";
        if (!(await this.expectOutcome(tool, { agent_name: who, message_id: target.id }, refusal))) return;
        model.read.add(`${who} ${target.id}`);
        if (cmd.kind === "ack") model.acked.add(`${who} ${target.id}`);
        return;
      }
      case "reserve":
        return this.reserve(this.agents[cmd.agent]!, cmd.paths, cmd.exclusive);
      case "release": {
        const who = this.agents[cmd.agent]!;
        const body = await this.ok("release_file_reservations", { agent_name: who, paths: cmd.paths });
        const released = model.reservations.filter(
          (r) => r.agent === who && (!cmd.paths || cmd.paths.includes(r.pattern)),
        );
        expect(body.released, this.step).toBe(released.length);
        model.reservations = model.reservations.filter((r) => !released.includes(r));
        return;
      }
      case "retire":
      case "unretire": {
        const who = this.agents[cmd.agent]!;
        await this.ok(`${cmd.kind}_agent`, { agent_name: who });
        if (cmd.kind === "retire") model.retired.add(who);
        else model.retired.delete(who);
        return;
      }
    }
  }

  private async send(cmd: Extract<Command, { kind: "send" }>): Promise<void> {
    const names = (role: Role) => this.agents.filter((_, j) => cmd.roles[j] === role);
    const sender = this.agents[cmd.from]!;
    const word = `w${this.run}x${++this.words}zq`;
    const involved = [sender, ...this.agents.filter((_, j) => cmd.roles[j] !== "none")];
    const body = await this.expectOutcome(
      "send_message",
      {
        sender_name: sender,
        to: names("to"),
        cc: names("cc"),
        bcc: names("bcc"),
        subject: `message ${this.words}`,
        body_md: `Body with ${word} inside.`,
        importance: cmd.importance,
        ack_required: cmd.ack,
      },
      involved.some((n) => this.model.retired.has(n)) ? "AGENT_RETIRED" : undefined,
    );
    if (!body) return;
    const payload = body.deliveries[0].payload;
    this.model.messages.push({
      id: payload.id,
      sender,
      to: names("to"),
      cc: names("cc"),
      bcc: names("bcc"),
      importance: cmd.importance,
      ack: cmd.ack,
      thread: String(payload.thread_id ?? payload.id),
      word,
    });
  }

  private async reply(byIndex: number, target: MailModel["messages"][number], toIndexes?: number[]) {
    const { model } = this;
    const by = this.agents[byIndex]!;
    const word = `w${this.run}x${++this.words}zq`;
    const explicit = toIndexes?.map((j) => this.agents[j]!);
    const to = explicit ?? (by === target.sender ? target.to : [target.sender]);
    // The sender is checked first, then whether it may see the original, then the recipients.
    const refusal = model.retired.has(by)
      ? "AGENT_RETIRED"
      : !model.visible(target, by)
        ? "NOT_FOUND"
        : to.some((n) => model.retired.has(n))
          ? "AGENT_RETIRED"
          : undefined;
    const body = await this.expectOutcome(
      "reply_message",
      {
        sender_name: by,
        message_id: target.id,
        body_md: `Reply ${word}.`,
        ...(explicit ? { to: explicit } : {}),
      },
      refusal,
    );
    if (!body) return;
    expect(body.thread_id, this.step).toBe(target.thread);
    expect(body.reply_to, this.step).toBe(target.id);
    expect(body.importance, this.step).toBe(target.importance);
    expect(body.ack_required, this.step).toBe(target.ack);
    model.messages.push({
      id: body.id,
      sender: by,
      to: [...new Set(to)],
      cc: [],
      bcc: [],
      importance: target.importance,
      ack: target.ack,
      thread: target.thread,
      word,
    });
  }

  private async reserve(who: string, paths: string[], exclusive: boolean): Promise<void> {
    const { model } = this;
    const refusal = model.retired.has(who) ? "AGENT_RETIRED" : undefined;
    const body = await this.expectOutcome(
      "file_reservation_paths",
      { agent_name: who, paths, exclusive },
      refusal,
    );
    if (!body) return;
    const conflicts = body.conflicts as { path: string; holders: { reservation_id: number }[] }[];
    // Conflicts are computed against the reservations held before this call.
    const expected = new Map(
      (body.granted as { path_pattern: string }[]).map((g) => [
        g.path_pattern,
        model.conflicts(who, g.path_pattern, exclusive),
      ]),
    );
    for (const granted of body.granted as { id: number; path_pattern: string }[]) {
      const reported = conflicts
        .filter((c) => c.path === granted.path_pattern)
        .flatMap((c) => c.holders.map((h) => h.reservation_id))
        .sort(byId);
      expect(reported, `${this.step}: conflicts of ${granted.path_pattern}`).toEqual(
        expected.get(granted.path_pattern),
      );
      const own = model.reservations.find((r) => r.agent === who && r.pattern === granted.path_pattern);
      if (own) {
        expect(granted.id, `${this.step}: re-reserving keeps the id`).toBe(own.id);
        own.exclusive = exclusive;
      } else {
        model.reservations.push({ id: granted.id, agent: who, pattern: granted.path_pattern, exclusive });
      }
    }
  }

  /** Inbox, outbox, peek and reservations of every agent against the model. */
  private async checkMailbox(): Promise<void> {
    const { model } = this;
    for (const viewer of this.agents) {
      const where = `${this.step}, ${viewer}`;
      const inbox: Json[] = await this.ok("fetch_inbox", { agent_name: viewer, limit: 1000 });
      const expected = model.inbox(viewer);
      expect(inbox.map((m) => m.id).sort(byId), `${where}: inbox`).toEqual(
        expected.map((m) => m.id).sort(byId),
      );
      for (const item of inbox) {
        const m = expected.find((e) => e.id === item.id)!;
        expect(item.from, where).toBe(m.sender);
        expect(item.kind, where).toBe(model.kind(m, viewer));
        expect(item.bcc, `${where}: BCC names shown`).toEqual(model.bccShown(m, viewer));
        expect(item.read_ts !== null, `${where}: read ${m.id}`).toBe(model.read.has(`${viewer} ${m.id}`));
        expect(item.ack_ts !== null, `${where}: acknowledged ${m.id}`).toBe(
          model.acked.has(`${viewer} ${m.id}`),
        );
      }
      const unread = model.unread(viewer);
      const peek = await this.ok("peek_inbox", { agent_name: viewer });
      expect(peek.unread, `${where}: peek unread`).toBe(unread.length);
      expect(peek.urgent_unread, `${where}: peek urgent`).toBe(
        unread.filter((m) => m.importance === "high" || m.importance === "urgent").length,
      );
      expect(peek.ack_pending, `${where}: peek ack_pending`).toBe(model.ackPending(viewer).length);
      const outbox: Json[] = await this.ok("fetch_outbox", { agent_name: viewer, limit: 1000 });
      expect(outbox.map((m) => m.id).sort(byId), `${where}: outbox`).toEqual(
        model.messages
          .filter((m) => m.sender === viewer)
          .map((m) => m.id)
          .sort(byId),
      );
    }
    const list = await this.ok("list_file_reservations", { active_only: true });
    const held = (list.file_reservations as Json[]).map(
      (r) => `${r.id} ${r.agent} ${r.path_pattern} ${r.exclusive}`,
    );
    expect(held.sort(), `${this.step}: reservations`).toEqual(
      model.reservations.map((r) => `${r.id} ${r.agent} ${r.pattern} ${r.exclusive}`).sort(),
    );
  }

  /** Each message's own word finds it for exactly the agents who may see it. */
  private async checkSearch(): Promise<void> {
    for (const m of this.model.messages) {
      for (const viewer of this.agents) {
        const found = await this.ok("search_messages", { agent_name: viewer, query: m.word });
        expect(
          (found.result as { id: number }[]).map((h) => h.id),
          `search ${m.word} as ${viewer}`,
        ).toEqual(this.model.visible(m, viewer) ? [m.id] : []);
      }
    }
  }
}

describe("random sequences of mail and reservation operations", () => {
  const rejections = watchUnhandledRejections();
  let sandbox: Sandbox;
  let runs = 0;

  beforeAll(async () => {
    sandbox = await createSandbox({ git: false });
  });
  afterEach(() => {
    expect(rejections.drain()).toEqual([]);
  });
  afterAll(async () => {
    rejections.stop();
    await sandbox.close();
  });

  it("keep every message with exactly its recipients, receipts and peek counts in step, reservations as held", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 16 }), async (commands) => {
        const run = ++runs;
        const project = ensureProject(sandbox.mailbox, { human_key: `/work/prop-seq-${run}` }).slug;
        const client = await sandbox.connect();
        try {
          await new SequenceRun(client, project, run).execute(commands);
        } finally {
          await client.close();
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 25) },
    );
  });
});

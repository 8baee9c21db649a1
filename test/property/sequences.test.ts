import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureProject, patternsOverlap } from "../../engine/index.js";
import {
  checkToolAnswer,
  createSandbox,
  preview,
  type Sandbox,
  watchUnhandledRejections,
} from "./harness.js";

/**
 * Random sequences of everyday operations (send, reply, read, acknowledge, reserve, release, retire and
 * unretire) through the
 * MCP client, checked against a small model of the mailbox: every message reaches exactly its
 * recipients (and a retired sender or recipient stops the whole send), nobody sees mail not addressed to them (inbox and search), BCC names stay hidden, receipts
 * and peek counts agree with what was read and acknowledged, and reservations and their conflicts match.
 */

const NAMES = ["Ann", "Ben", "Cat", "Dan"] as const;
const PATTERNS = ["src/**", "src/a.ts", "docs/*.md", "lib/**/*.js", "README.md"] as const;
const IMPORTANCE = ["low", "normal", "high", "urgent"] as const;
type Importance = (typeof IMPORTANCE)[number];
type Role = "none" | "to" | "cc" | "bcc";

type Command =
  | { kind: "send"; from: number; roles: Role[]; importance: Importance; ack: boolean }
  | { kind: "reply"; by: number; message: number; to?: number[] }
  | { kind: "read" | "ack"; agent: number; message: number }
  | { kind: "reserve"; agent: number; paths: string[]; exclusive: boolean }
  | { kind: "release"; agent: number; paths?: string[] }
  | { kind: "retire" | "unretire"; agent: number };

const agent = fc.integer({ min: 0, max: NAMES.length - 1 });
const messageIndex = fc.nat({ max: 1000 });

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("send" as const),
      from: agent,
      roles: fc
        .array(fc.constantFrom<Role>("none", "to", "cc", "bcc"), { minLength: 4, maxLength: 4 })
        .filter((roles) => roles.includes("to")),
      importance: fc.constantFrom(...IMPORTANCE),
      ack: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant("reply" as const),
        by: agent,
        message: messageIndex,
        to: fc.uniqueArray(agent, { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: ["kind", "by", "message"] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("read" as const, "ack" as const),
      agent,
      message: messageIndex,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("reserve" as const),
      agent,
      paths: fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 3 }),
      exclusive: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        kind: fc.constant("release" as const),
        agent,
        paths: fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: ["kind", "agent"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constantFrom("retire" as const, "unretire" as const), agent }),
  },
);

/** What the model knows of one message. */
interface ModelMessage {
  id: number;
  sender: string;
  to: string[];
  cc: string[];
  bcc: string[];
  importance: Importance;
  ack: boolean;
  thread: string;
  /** A word only this message's body holds, to search for it. */
  word: string;
}

interface ModelReservation {
  id: number;
  agent: string;
  pattern: string;
  exclusive: boolean;
}

class Model {
  readonly messages: ModelMessage[] = [];
  readonly read = new Set<string>();
  readonly acked = new Set<string>();
  readonly retired = new Set<string>();
  reservations: ModelReservation[] = [];

  recipients(m: ModelMessage): string[] {
    return [...m.to, ...m.cc, ...m.bcc];
  }

  visible(m: ModelMessage, viewer: string): boolean {
    return m.sender === viewer || this.recipients(m).includes(viewer);
  }

  inbox(viewer: string): ModelMessage[] {
    return this.messages.filter((m) => this.recipients(m).includes(viewer));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tool results are checked field by field.
type Json = any;

let sandbox: Sandbox;
let runs = 0;

/**
 * One run: a fresh project with four fresh agents (names are unique across projects, so each run has its
 * own), one session bound to all of them, the commands, and checks as it goes.
 */
async function runSequence(commands: Command[]): Promise<void> {
  const run = ++runs;
  const AGENTS = NAMES.map((n) => `${n}${run}`);
  {
    const project = ensureProject(sandbox.mailbox, { human_key: `/work/prop-seq-${run}` }).slug;
    const client = await sandbox.connect();
    const model = new Model();
    let step = "setup";
    const call = async (
      name: string,
      args: Record<string, unknown>,
    ): Promise<{ ok: boolean; body: Json }> => {
      const what = `${step}: ${name}(${preview(args)})`;
      const result = (await client.callTool({
        name,
        arguments: { project_key: project, ...args },
      })) as CallToolResult;
      return { ok: !result.isError, body: checkToolAnswer(result, what) };
    };
    const ok = async (name: string, args: Record<string, unknown>): Promise<Json> => {
      const { ok, body } = await call(name, args);
      expect(ok, `${step}: ${name} failed: ${preview(body)}`).toBe(true);
      return body;
    };
    for (const name of AGENTS) await ok("register_agent", { program: "p", model: "m", name });

    let words = 0;
    for (const [i, cmd] of commands.entries()) {
      step = `step ${i} ${preview(cmd)}`;
      const target = model.messages.length
        ? model.messages[("message" in cmd ? cmd.message : 0) % model.messages.length]
        : undefined;
      switch (cmd.kind) {
        case "send": {
          const names = (role: Role) => AGENTS.filter((_, j) => cmd.roles[j] === role);
          const word = `w${run}x${++words}zq`;
          const everyone = [AGENTS[cmd.from]!, ...AGENTS.filter((_, j) => cmd.roles[j] !== "none")];
          const { ok: sent, body } = await call("send_message", {
            sender_name: AGENTS[cmd.from],
            to: names("to"),
            cc: names("cc"),
            bcc: names("bcc"),
            subject: `message ${words}`,
            body_md: `Body with ${word} inside.`,
            importance: cmd.importance,
            ack_required: cmd.ack,
          });
          if (everyone.some((n) => model.retired.has(n))) {
            expect(body.error?.type, step).toBe("AGENT_RETIRED");
            break;
          }
          expect(sent, `${step}: ${preview(body)}`).toBe(true);
          const id = body.deliveries[0].payload.id as number;
          model.messages.push({
            id,
            sender: AGENTS[cmd.from]!,
            to: names("to"),
            cc: names("cc"),
            bcc: names("bcc"),
            importance: cmd.importance,
            ack: cmd.ack,
            thread: String(body.deliveries[0].payload.thread_id ?? id),
            word,
          });
          break;
        }
        case "reply": {
          if (!target) break;
          const by = AGENTS[cmd.by]!;
          const word = `w${run}x${++words}zq`;
          const args: Record<string, unknown> = {
            sender_name: by,
            message_id: target.id,
            body_md: `Reply ${word}.`,
          };
          if (cmd.to) args.to = cmd.to.map((j) => AGENTS[j]);
          const { ok: replied, body } = await call("reply_message", args);
          const to = cmd.to
            ? cmd.to.map((j) => AGENTS[j]!)
            : by === target.sender
              ? target.to
              : [target.sender];
          // The sender is checked first, then whether it may see the original, then the recipients.
          const refusal = model.retired.has(by)
            ? "AGENT_RETIRED"
            : !model.visible(target, by)
              ? "NOT_FOUND"
              : to.some((n) => model.retired.has(n))
                ? "AGENT_RETIRED"
                : undefined;
          if (refusal) {
            expect(body.error?.type, step).toBe(refusal);
            break;
          }
          expect(replied, `${step}: ${preview(body)}`).toBe(true);
          expect(body.thread_id, step).toBe(target.thread);
          expect(body.reply_to, step).toBe(target.id);
          expect(body.importance, step).toBe(target.importance);
          expect(body.ack_required, step).toBe(target.ack);
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
          break;
        }
        case "read":
        case "ack": {
          if (!target) break;
          const who = AGENTS[cmd.agent]!;
          const tool = cmd.kind === "read" ? "mark_message_read" : "acknowledge_message";
          const { ok: done, body } = await call(tool, { agent_name: who, message_id: target.id });
          if (!model.recipients(target).includes(who)) {
            expect(body.error?.type, step).toBe("NOT_FOUND");
            break;
          }
          expect(done, `${step}: ${preview(body)}`).toBe(true);
          model.read.add(`${who} ${target.id}`);
          if (cmd.kind === "ack") model.acked.add(`${who} ${target.id}`);
          break;
        }
        case "reserve": {
          const who = AGENTS[cmd.agent]!;
          const { ok: reserved, body } = await call("file_reservation_paths", {
            agent_name: who,
            paths: cmd.paths,
            exclusive: cmd.exclusive,
          });
          if (model.retired.has(who)) {
            expect(body.error?.type, step).toBe("AGENT_RETIRED");
            break;
          }
          expect(reserved, `${step}: ${preview(body)}`).toBe(true);
          const others = model.reservations.filter((r) => r.agent !== who);
          for (const granted of body.granted as { id: number; path_pattern: string }[]) {
            const expected = others
              .filter(
                (r) => (cmd.exclusive || r.exclusive) && patternsOverlap(granted.path_pattern, r.pattern),
              )
              .map((r) => r.id)
              .sort((a, b) => a - b);
            const reported = (body.conflicts as { path: string; holders: { reservation_id: number }[] }[])
              .filter((c) => c.path === granted.path_pattern)
              .flatMap((c) => c.holders.map((h) => h.reservation_id))
              .sort((a, b) => a - b);
            expect(reported, `${step}: conflicts of ${granted.path_pattern}`).toEqual(expected);
            const own = model.reservations.find((r) => r.agent === who && r.pattern === granted.path_pattern);
            if (own) {
              expect(granted.id, `${step}: re-reserving keeps the id`).toBe(own.id);
              own.exclusive = cmd.exclusive;
            } else {
              model.reservations.push({
                id: granted.id,
                agent: who,
                pattern: granted.path_pattern,
                exclusive: cmd.exclusive,
              });
            }
          }
          break;
        }
        case "release": {
          const who = AGENTS[cmd.agent]!;
          const args: Record<string, unknown> = { agent_name: who };
          if (cmd.paths) args.paths = cmd.paths;
          const body = await ok("release_file_reservations", args);
          const released = model.reservations.filter(
            (r) => r.agent === who && (!cmd.paths || cmd.paths.includes(r.pattern)),
          );
          expect(body.released, step).toBe(released.length);
          model.reservations = model.reservations.filter((r) => !released.includes(r));
          break;
        }
        case "retire":
        case "unretire": {
          const who = AGENTS[cmd.agent]!;
          await ok(`${cmd.kind}_agent`, { agent_name: who });
          if (cmd.kind === "retire") model.retired.add(who);
          else model.retired.delete(who);
          break;
        }
      }
      if (i % 4 === 3) await checkMailbox(ok, model, AGENTS, step);
    }
    step = "end";
    await checkMailbox(ok, model, AGENTS, step);
    await checkSearch(ok, model, AGENTS);
    await client.close();
  }
}

type Ok = (name: string, args: Record<string, unknown>) => Promise<Json>;

const byId = (a: number, b: number) => a - b;

/** Inbox, outbox, peek and reservations of every agent against the model. */
async function checkMailbox(ok: Ok, model: Model, AGENTS: string[], step: string): Promise<void> {
  for (const viewer of AGENTS) {
    const where = `${step}, ${viewer}`;
    const inbox: Json[] = await ok("fetch_inbox", { agent_name: viewer, limit: 1000 });
    const expected = model.inbox(viewer);
    expect(inbox.map((m) => m.id).sort(byId), `${where}: inbox`).toEqual(
      expected.map((m) => m.id).sort(byId),
    );
    for (const item of inbox) {
      const m = expected.find((e) => e.id === item.id)!;
      const key = `${viewer} ${m.id}`;
      expect(item.from, where).toBe(m.sender);
      expect(item.kind, where).toBe(m.to.includes(viewer) ? "to" : m.cc.includes(viewer) ? "cc" : "bcc");
      expect(item.bcc, `${where}: BCC names shown`).toEqual(
        viewer === m.sender ? m.bcc : m.bcc.filter((n) => n === viewer),
      );
      expect(item.read_ts !== null, `${where}: read ${m.id}`).toBe(model.read.has(key));
      expect(item.ack_ts !== null, `${where}: acknowledged ${m.id}`).toBe(model.acked.has(key));
    }
    const unread = expected.filter((m) => !model.read.has(`${viewer} ${m.id}`));
    const peek = await ok("peek_inbox", { agent_name: viewer });
    expect(peek.unread, `${where}: peek unread`).toBe(unread.length);
    expect(peek.urgent_unread, `${where}: peek urgent`).toBe(
      unread.filter((m) => m.importance === "high" || m.importance === "urgent").length,
    );
    expect(peek.ack_pending, `${where}: peek ack_pending`).toBe(
      expected.filter((m) => m.ack && !model.acked.has(`${viewer} ${m.id}`)).length,
    );
    const outbox: Json[] = await ok("fetch_outbox", { agent_name: viewer, limit: 1000 });
    expect(outbox.map((m) => m.id).sort(byId), `${where}: outbox`).toEqual(
      model.messages
        .filter((m) => m.sender === viewer)
        .map((m) => m.id)
        .sort(byId),
    );
  }
  const list = await ok("list_file_reservations", { active_only: true });
  const held = (list.file_reservations as Json[]).map(
    (r) => `${r.id} ${r.agent} ${r.path_pattern} ${r.exclusive}`,
  );
  expect(held.sort(), `${step}: reservations`).toEqual(
    model.reservations.map((r) => `${r.id} ${r.agent} ${r.pattern} ${r.exclusive}`).sort(),
  );
}

/** Each message's own word finds it for exactly the agents who may see it. */
async function checkSearch(ok: Ok, model: Model, AGENTS: string[]): Promise<void> {
  for (const m of model.messages) {
    for (const viewer of AGENTS) {
      const found = await ok("search_messages", { agent_name: viewer, query: m.word });
      expect(
        (found.result as { id: number }[]).map((h) => h.id),
        `search ${m.word} as ${viewer}`,
      ).toEqual(model.visible(m, viewer) ? [m.id] : []);
    }
  }
}

describe("random sequences of mail and reservation operations", () => {
  const rejections = watchUnhandledRejections();
  beforeAll(async () => {
    sandbox = await createSandbox({ git: false });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  afterEach(() => {
    expect(rejections.drain()).toEqual([]);
  });

  it("keep every message with exactly its recipients, receipts and peek counts in step, reservations as held", async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 16 }), runSequence), {
      numRuns: Number(process.env.PROPERTY_RUNS ?? 25),
    });
    rejections.stop();
  });
});

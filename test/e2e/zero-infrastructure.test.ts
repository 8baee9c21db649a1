import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fetchInbox, fetchOutbox, openMailbox } from "../../engine/index.js";
import { killAll } from "../server/cli-process.js";
import { closeClients, ok, stdioClient } from "./harness.js";

/**
 * Zero-infrastructure mode as MCP clients use it: one `serve --transport stdio` process per agent
 * session, no daemon, all sharing one mailbox directory. Every process registers and then sends and
 * reads concurrently with the others; afterwards the mailbox holds every message exactly once, every
 * delivery exactly once, and SQLite finds nothing wrong with the file.
 */

const AGENTS = ["Amber", "Basil", "Cedar", "Dune"];
const MESSAGES_PER_AGENT = 40;

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "ph-e2e-zero-"));
});

afterEach(async () => {
  await closeClients();
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

describe("zero-infrastructure mode", () => {
  it("keeps every message exactly once when concurrent stdio processes share one mailbox", async () => {
    const home = join(root, "mailbox");
    const repo = join(root, "repo");
    const clients = await Promise.all(AGENTS.map(() => stdioClient(home)));

    // Every process creates the project and registers its agent at the same time.
    const started = await Promise.all(
      clients.map((client, i) =>
        ok(client, "macro_start_session", {
          human_key: repo,
          program: "zero-infra",
          model: "none",
          agent_name: AGENTS[i],
        }),
      ),
    );
    const slug: string = started[0].project.slug;
    expect(new Set(started.map((s) => s.project.id)).size).toBe(1);

    // Then each sends its messages to all the others while reading its own inbox.
    await Promise.all(
      clients.map(async (client, i) => {
        const me = AGENTS[i] as string;
        const others = AGENTS.filter((a) => a !== me);
        await Promise.all(
          Array.from({ length: MESSAGES_PER_AGENT }, async (_, n) => {
            const sent = await ok(client, "send_message", {
              project_key: slug,
              to: others,
              subject: `${me}#${n}`,
              body_md: `message ${n} from ${me}`,
            });
            expect(sent.deliveries[0].payload.to).toEqual(others);
            await ok(client, "peek_inbox", { project_key: slug });
          }),
        );
      }),
    );
    await closeClients();

    const mb = openMailbox({ home });
    try {
      expect(mb.db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(mb.db.pragma("foreign_key_check")).toEqual([]);
      const total = AGENTS.length * MESSAGES_PER_AGENT;
      for (const me of AGENTS) {
        const outbox = fetchOutbox(mb, { project_key: slug, agent_name: me, limit: 1000 });
        const sentSubjects = outbox.map((m) => m.subject).sort();
        expect(sentSubjects).toEqual(
          Array.from({ length: MESSAGES_PER_AGENT }, (_, n) => `${me}#${n}`).sort(),
        );

        const inbox = fetchInbox(mb, { project_key: slug, agent_name: me, limit: 1000 });
        const received = inbox.map((m) => m.subject);
        expect(received).toHaveLength(total - MESSAGES_PER_AGENT);
        expect(new Set(received).size).toBe(received.length);
        expect(received.some((s) => s.startsWith(`${me}#`))).toBe(false);
      }
      const counts = mb.db
        .prepare(
          "SELECT (SELECT COUNT(*) FROM messages) AS messages, (SELECT COUNT(*) FROM message_recipients) AS deliveries",
        )
        .get();
      expect(counts).toEqual({ messages: total, deliveries: total * (AGENTS.length - 1) });
    } finally {
      await mb.close();
    }
  });
});

import { join } from "node:path";
import Database from "better-sqlite3";
import {
  acknowledgeMessage,
  markMessageRead,
  openMailbox,
  replyMessage,
  sendMessage,
} from "../../engine/index.js";
import { type ExportOptions, exportBundle } from "../../exporter/export.js";
import { writeKeyFiles } from "../../exporter/keys.js";
import { type SeedSummary, seedMailbox } from "../../fixtures/seed.js";

/**
 * Bundles for the viewer tests, made by the real `pigeonhole export` (exportBundle) with the built viewer
 * copied in, from seeded mailboxes (fixtures/seed.ts) or from the SQL-built ones of
 * fixtures/viewer-mailbox.ts (hostile strings, sizes).
 */

export const VIEWER_DIST = join(import.meta.dirname, "../../viewer/dist");

/** A signing key written as `pigeonhole keygen` writes it, from a fixed seed byte. */
export async function testKey(dir: string, seedByte: number): Promise<{ file: string; publicKey: string }> {
  const file = join(dir, `key-${seedByte}`);
  const key = await writeKeyFiles(file, new Uint8Array(32).fill(seedByte));
  return { file, publicKey: key.publicKey };
}

/** Export `home` to `out` with the built viewer; `options` as for `pigeonhole export`. */
export async function exportWithViewer(home: string, out: string, options: Partial<ExportOptions> = {}) {
  return exportBundle({
    home,
    out,
    viewerDir: VIEWER_DIST,
    now: () => new Date("2026-03-01T12:00:00.000Z"),
    ...options,
  });
}

/** What the navigation tests look for in a seeded mailbox. */
export interface SeededLandmarks {
  summary: SeedSummary;
  projects: string[];
  agents: number;
  /** A planted thread: a unique word in the first message's body, two replies, read and acknowledged. */
  planted: {
    id: number;
    subject: string;
    word: string;
    thread: string;
    project: string;
    sender: string;
    recipient: string;
    cc: string;
    replies: number[];
  };
  /** A message with an image attachment, and one with a text file (filename given). */
  imageMessageId: number;
  file: { messageId: number; filename: string };
}

/**
 * Seed a realistic mailbox (`messages` messages through the engine), then plant a thread through the
 * engine's own operations, so its ids and words are known to the tests.
 */
export async function seededMailbox(home: string, messages: number): Promise<SeededLandmarks> {
  const summary = await seedMailbox({ home, messages, seed: "viewer" });
  const db = new Database(join(home, "mailbox.sqlite3"), { readonly: true });
  const projects = db.prepare("SELECT slug FROM projects ORDER BY id").pluck().all() as string[];
  const agents = (db.prepare("SELECT count(*) FROM agents").pluck().get() as number) ?? 0;
  // Three active agents of one project, so same-project mail needs no contact.
  const team = db
    .prepare(
      `SELECT p.human_key, p.slug, a.name FROM agents a JOIN projects p ON p.id = a.project_id
        WHERE a.retired_ts IS NULL AND a.contact_policy <> 'block_all'
          AND a.project_id = (SELECT project_id FROM agents WHERE retired_ts IS NULL AND contact_policy <> 'block_all'
                              GROUP BY project_id HAVING count(*) >= 3 ORDER BY project_id LIMIT 1)
        ORDER BY a.id LIMIT 3`,
    )
    .all() as { human_key: string; slug: string; name: string }[];
  const image = db
    .prepare(
      "SELECT message_id FROM message_attachments WHERE media_type LIKE 'image/%' ORDER BY message_id LIMIT 1",
    )
    .get() as { message_id: number } | undefined;
  const file = db
    .prepare(
      `SELECT message_id, filename FROM message_attachments WHERE media_type LIKE 'text/%' AND disposition = 'file'
        ORDER BY message_id LIMIT 1`,
    )
    .get() as { message_id: number; filename: string } | undefined;
  db.close();
  const [a, b, c] = team;
  if (!a || !b || !c || !image || !file)
    throw new Error("the seeded mailbox lacks a team of three or attachments");

  // The planted thread follows the seeded timeline, a minute per message.
  let clock = Date.parse(summary.last_ts ?? "2026-01-05T08:00:00.000Z");
  const now = () => {
    clock += 60_000;
    return new Date(clock);
  };
  const mb = openMailbox({ home, archive: false, now });
  try {
    const subject = "Zephyr calibration of the quarterly widget";
    const sent = await sendMessage(mb, {
      project_key: a.human_key,
      sender_name: a.name,
      to: [b.name],
      cc: [c.name],
      subject,
      body_md:
        "The **xylophonist** report is ready.\n\n- step one\n- step two\n\n```ts\nconst ok = true;\n```",
      importance: "high",
      ack_required: true,
      payload: { kind: "calibration", files: ["src/widget.ts"], attempt: 2 },
    });
    const id = sent.deliveries[0]?.payload.id as number;
    await markMessageRead(mb, { project_key: b.human_key, agent_name: b.name, message_id: id });
    await acknowledgeMessage(mb, { project_key: b.human_key, agent_name: b.name, message_id: id });
    const replies: number[] = [];
    for (const [who, body] of [
      [b, "Calibrated; numbers attached in the next report."],
      [c, "Thanks, closing the loop on my side."],
    ] as const) {
      const reply = await replyMessage(mb, {
        project_key: who.human_key,
        message_id: id,
        sender_name: who.name,
        body_md: body,
      });
      replies.push(reply.id);
    }
    return {
      summary,
      projects,
      agents,
      planted: {
        id,
        subject,
        word: "xylophonist",
        thread: String(id),
        project: a.slug,
        sender: a.name,
        recipient: b.name,
        cc: c.name,
        replies,
      },
      imageMessageId: image.message_id,
      file: { messageId: file.message_id, filename: file.filename },
    };
  } finally {
    await mb.close();
  }
}

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureProject, registerAgent, sendMessage } from "../../engine/index.js";
import { blobRelativePath } from "../../engine/messages/attachment-store.js";
import { exportBundle } from "../../exporter/export.js";
import { databaseBytes, openBetterSqlite, openTestMailbox, tempDir } from "./helpers.js";

/** Attachment thresholds and statuses: copied, omitted (huge), missing, rewritten text. */

async function mailboxWithFiles(files: Record<string, string | Buffer>) {
  const root = tempDir();
  const home = join(root, "home");
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(repo, name), content);
  const mb = openTestMailbox(home);
  const project = ensureProject(mb, { human_key: repo });
  for (const name of ["Sender", "Receiver"]) {
    registerAgent(mb, { project_key: project.slug, program: "p", model: "m", name });
  }
  await sendMessage(mb, {
    project_key: project.slug,
    sender_name: "Sender",
    to: ["Receiver"],
    subject: "Files",
    body_md: "See attached.",
    attachment_paths: Object.keys(files),
  });
  const rows = mb.db
    .prepare("SELECT filename, sha256, media_type FROM message_attachments ORDER BY ordinal")
    .all() as {
    filename: string;
    sha256: string;
    media_type: string;
  }[];
  return { root, home, rows };
}

function statuses(db: ReturnType<typeof openBetterSqlite>): Record<string, string> {
  const rows = db.prepare("SELECT filename, status FROM message_attachments").all() as {
    filename: string;
    status: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.filename, r.status]));
}

describe("attachments", () => {
  it("copies files up to the threshold, omits larger ones, marks missing blobs", async () => {
    const { root, home, rows } = await mailboxWithFiles({
      "small.txt": "small file\n",
      "large.bin": Buffer.alloc(300_000, 7),
      "gone.txt": "deleted from the store before the export\n",
    });
    const gone = rows.find((r) => r.filename === "gone.txt")!;
    rmSync(join(home, blobRelativePath(gone.sha256, gone.media_type)));
    const out = join(root, "bundle");
    const summary = await exportBundle({ home, out, maxAttachmentBytes: 100_000, viewerDir: null });
    expect(summary.attachments).toMatchObject({ file: 1, omitted: 1, missing: 1 });
    const db = openBetterSqlite(await databaseBytes(out));
    expect(statuses(db)).toEqual({ "small.txt": "file", "large.bin": "omitted", "gone.txt": "missing" });
    const paths = db.prepare("SELECT path FROM message_attachments WHERE status <> 'file'").pluck().all();
    expect(paths).toEqual([null, null]);
    const small = db
      .prepare("SELECT path, sha256 FROM message_attachments WHERE filename = 'small.txt'")
      .get() as {
      path: string;
      sha256: string;
    };
    expect(small.path).toBe(blobRelativePath(small.sha256, "text/plain"));
    expect(readFileSync(join(out, small.path), "utf8")).toBe("small file\n");
  });

  it("a scrubbed text attachment is stored under the sha256 of its new content", async () => {
    const token = `ghp_${"A1b2C3d4E5".repeat(3)}xYz123`;
    const { root, home, rows } = await mailboxWithFiles({ "env.txt": `GITHUB_TOKEN=${token}\n` });
    const out = join(root, "bundle");
    await exportBundle({ home, out, viewerDir: null });
    const db = openBetterSqlite(await databaseBytes(out));
    const row = db.prepare("SELECT sha256, bytes, path, status FROM message_attachments").get() as {
      sha256: string;
      bytes: number;
      path: string;
      status: string;
    };
    expect(row.status).toBe("file");
    expect(row.sha256).not.toBe(rows[0]!.sha256);
    const content = readFileSync(join(out, row.path));
    expect(content.toString("utf8")).toBe("GITHUB_TOKEN=[REDACTED:github-token]\n");
    expect(createHash("sha256").update(content).digest("hex")).toBe(row.sha256);
    expect(content.length).toBe(row.bytes);
  });

  it("a binary attachment holding an agent name is withheld when pseudonymizing", async () => {
    const binary = Buffer.concat([
      Buffer.from([0, 0, 1]),
      Buffer.from("signed by Receiver"),
      Buffer.from([0]),
    ]);
    const { root, home } = await mailboxWithFiles({
      "sig.bin": binary,
      "plain.bin": Buffer.from([0, 9, 9, 0]),
    });
    const out = join(root, "bundle");
    const summary = await exportBundle({ home, out, pseudonymize: true, viewerDir: null });
    expect(summary.stages.pseudonymize?.attachments_withheld).toBe(1);
    const db = openBetterSqlite(await databaseBytes(out));
    expect(statuses(db)).toEqual({ "sig.bin": "withheld", "plain.bin": "file" });
  });

  it("encrypted bundles embed available blobs and still mark omitted and missing ones", async () => {
    const { root, home } = await mailboxWithFiles({
      "a.txt": "alpha\n",
      "big.bin": Buffer.alloc(200_000, 1),
    });
    const out = join(root, "bundle");
    const { generateX25519Identity, identityToRecipient } = await import("age-encryption");
    const identity = await generateX25519Identity();
    await exportBundle({
      home,
      out,
      recipients: [await identityToRecipient(identity)],
      maxAttachmentBytes: 100_000,
      viewerDir: null,
    });
    const db = openBetterSqlite(await databaseBytes(out, { identity }));
    expect(statuses(db)).toEqual({ "a.txt": "embedded", "big.bin": "omitted" });
    const data = db.prepare("SELECT data FROM attachment_blobs").pluck().all() as Buffer[];
    expect(data.map((d) => d.toString("utf8"))).toEqual(["alpha\n"]);
  });
});

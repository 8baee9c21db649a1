import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditChecks, auditClean, auditMessages, checkIntegrity, Ledger } from "../../bench/stress/audit.js";
import { type StressReport, writeMarkdownSection } from "../../bench/stress/report.js";
import { ensureProject, type Mailbox, openMailbox, registerAgent, sendMessage } from "../../engine/index.js";

/**
 * The stress runner's own checks must catch what they claim to: a lost, duplicated, mismatched or
 * wrongly stored send in a real database, and its report writer must leave hand-written text alone.
 */

let dir: string;
let mb: Mailbox;
let slug: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ph-stress-audit-"));
  mb = openMailbox({ home: dir, archive: false });
  slug = ensureProject(mb, { human_key: "/work/stress-audit" }).slug;
  for (const name of ["Ann", "Ben", "Cat"])
    registerAgent(mb, { project_key: slug, program: "p", model: "m", name });
});

afterEach(async () => {
  await mb.close();
  rmSync(dir, { recursive: true, force: true });
});

async function store(subject: string, to: string[] = ["Ben"]): Promise<number> {
  const sent = await sendMessage(mb, { project_key: slug, sender_name: "Ann", to, subject, body_md: "b" });
  return sent.deliveries[0]!.payload.id;
}

const database = () => join(dir, "mailbox.sqlite3");

describe("stress audit", () => {
  it("passes when every acknowledged send is stored once as acknowledged", async () => {
    const ledger = new Ledger();
    ledger.record({ type: "ack", marker: "run w #0", id: await store("run w #0"), recipients: 1 });
    ledger.record({
      type: "ack",
      marker: "run w #1",
      id: await store("run w #1", ["Ben", "Cat"]),
      recipients: 2,
    });
    ledger.record({ type: "failed", marker: "run w #2", code: "CONNECTION_LOST", inDoubt: true });
    await store("run w #2");
    ledger.record({ type: "failed", marker: "run w #3", code: "SERVER_DOWN", inDoubt: false });
    await store("other run w #9");
    const audit = auditMessages(database(), "run", ledger);
    expect(audit).toMatchObject({
      acknowledged: 2,
      lost: 0,
      duplicated: 0,
      mismatched: 0,
      refused_but_stored: 0,
      in_doubt: 1,
      in_doubt_stored: 1,
      unreported: 0,
    });
    expect(auditClean(audit, true)).toBe(true);
  });

  it("finds lost, duplicated, mismatched, refused-yet-stored and unreported sends", async () => {
    const ledger = new Ledger();
    ledger.record({ type: "ack", marker: "run w #0", id: 424242, recipients: 1 });
    const twice = await store("run w #1");
    await store("run w #1");
    ledger.record({ type: "ack", marker: "run w #1", id: twice, recipients: 1 });
    ledger.record({ type: "ack", marker: "run w #2", id: await store("run w #2"), recipients: 3 });
    await store("run w #3");
    ledger.record({ type: "failed", marker: "run w #3", code: "INVALID_ARGUMENT", inDoubt: false });
    await store("run w #4");
    const audit = auditMessages(database(), "run", ledger);
    expect(audit).toMatchObject({
      lost: 1,
      duplicated: 1,
      mismatched: 1,
      refused_but_stored: 1,
      unreported: 1,
    });
    expect(audit.examples.join("\n")).toMatch(/lost: run w #0/);
    expect(auditClean(audit, true)).toBe(false);
    const failed = auditChecks([{ audit, sendersDone: true }], ledger).filter((c) => !c.ok);
    expect(failed.map((c) => c.check)).toEqual([
      "acknowledged sends lost",
      "messages stored twice",
      "stored with another id or recipient count",
      "refused sends stored",
      "stored sends no sender reported",
    ]);
    // While senders still run, a stored but not yet reported send is no fault by itself.
    expect(
      auditClean({ ...audit, lost: 0, duplicated: 0, mismatched: 0, refused_but_stored: 0 }, false),
    ).toBe(true);
  });

  it("a marker reported twice is noted", () => {
    const ledger = new Ledger();
    ledger.record({ type: "ack", marker: "run w #0", id: 1, recipients: 1 });
    ledger.record({ type: "failed", marker: "run w #0", code: "TIMEOUT", inDoubt: true });
    expect([...ledger.reportedTwice]).toEqual(["run w #0"]);
  });

  it("runs SQLite's integrity check and FTS5's check of the search index", async () => {
    await store("run w #0");
    expect(checkIntegrity(database(), true)).toEqual({ integrity: "ok", fts: "ok" });
    // An FTS row without its message: the index no longer matches the messages table.
    mb.db.prepare("INSERT INTO messages_fts(rowid, subject, body_md) VALUES (999, 'ghost', 'ghost')").run();
    expect(checkIntegrity(database(), true).fts).not.toBe("ok");
  });
});

describe("stress report in Markdown", () => {
  const report = (ok: boolean): StressReport => ({
    machine: { cpu: "cpu", cores: 2, memory_gb: 4, node: "v20", platform: "linux", load_at_start: 1 },
    load_at_end: 2,
    options: { senders: 1 },
    started_at: "2026-01-01T00:00:00.000Z",
    duration_s: 3,
    operations: [],
    audits: [],
    kill_rounds: [],
    checks: [{ check: "acknowledged sends lost", ok, detail: ok ? "0" : "1" }],
    ok,
  });

  it("replaces only the generated section, and appends one to a file without it", () => {
    const file = join(dir, "RELIABILITY.md");
    writeFileSync(file, "# Title\n\nHand-written.\n");
    writeMarkdownSection(file, report(false));
    const first = readFileSync(file, "utf8");
    expect(first).toMatch(/^# Title\n\nHand-written\.\n\n<!-- stress:begin/);
    expect(first).toContain("**FAILED**");
    writeFileSync(file, first.replace("Hand-written.", "Edited by hand.").concat("\nAfter.\n"));
    writeMarkdownSection(file, report(true));
    const second = readFileSync(file, "utf8");
    expect(second).toContain("Edited by hand.");
    expect(second).toContain("\nAfter.\n");
    expect(second).toContain("**ok (lost = 0, duplicated = 0)**");
    expect(second).not.toContain("FAILED");
    expect(second.match(/stress:begin/g)).toHaveLength(1);
  });
});

import Database from "better-sqlite3";
import type { WorkerMessage } from "./protocol.js";
import type { Check } from "./report.js";

/**
 * The bookkeeping behind "nothing lost, nothing duplicated": the runner records what every sender was
 * told about each uniquely marked message, and the audit compares that with the rows in the database.
 */

/** What a sender learnt about one marker. */
interface Acknowledged {
  id: number;
  recipients: number;
}

/** Every send outcome reported so far, by marker. */
export class Ledger {
  readonly acknowledged = new Map<string, Acknowledged>();
  /** Refused with a definite answer: such a message must not be stored. */
  readonly refused = new Set<string>();
  /** The connection died mid-request: stored at most once, either way is correct. */
  readonly inDoubt = new Set<string>();
  /** A marker reported twice (a bug in the senders, or a duplicated acknowledgement). */
  readonly reportedTwice = new Set<string>();

  record(message: WorkerMessage): void {
    if (message.type !== "ack" && message.type !== "failed") return;
    const { marker } = message;
    if (this.acknowledged.has(marker) || this.refused.has(marker) || this.inDoubt.has(marker)) {
      this.reportedTwice.add(marker);
    }
    if (message.type === "ack") {
      this.acknowledged.set(marker, { id: message.id, recipients: message.recipients });
    } else if (message.inDoubt) this.inDoubt.add(marker);
    else this.refused.add(marker);
  }
}

/** How the database compares with the ledger. Every count but the informational ones must be 0. */
export interface Audit {
  /** Acknowledged markers checked. */
  acknowledged: number;
  /** Acknowledged but absent. */
  lost: number;
  /** Markers stored more than once. */
  duplicated: number;
  /** Acknowledged, but stored under another id or with another number of recipients. */
  mismatched: number;
  /** Refused with a definite error, yet stored. */
  refused_but_stored: number;
  /** Informational: sends whose connection died mid-request, and how many of them were stored. */
  in_doubt: number;
  in_doubt_stored: number;
  /** Stored with the run's prefix but never reported by a sender (must be 0 once every sender is done). */
  unreported: number;
  /** Up to ten markers behind each non-zero count, to start an investigation from. */
  examples: string[];
}

/** True when the audit found nothing lost, duplicated or wrongly stored. */
export function auditClean(audit: Audit, sendersDone: boolean): boolean {
  return (
    audit.lost === 0 &&
    audit.duplicated === 0 &&
    audit.mismatched === 0 &&
    audit.refused_but_stored === 0 &&
    (!sendersDone || audit.unreported === 0)
  );
}

/**
 * Compare the messages whose subject starts with `prefix` in the database at `databasePath` with the
 * ledger. Safe while senders still run (WAL readers see a committed snapshot); markers reported after
 * the snapshot are simply not looked at, since only what the ledger held before the query is checked.
 */
export function auditMessages(databasePath: string, prefix: string, ledger: Ledger): Audit {
  // Copy the ledger first: everything in it was acknowledged before the snapshot the query reads.
  const acknowledged = new Map(ledger.acknowledged);
  const refused = new Set(ledger.refused);
  const inDoubt = new Set(ledger.inDoubt);
  const db = new Database(databasePath, { timeout: 30_000 });
  let rows: { id: number; subject: string; recipients: number }[];
  try {
    rows = db
      .prepare<[string], { id: number; subject: string; recipients: number }>(
        `SELECT m.id, m.subject,
           (SELECT COUNT(*) FROM message_recipients r WHERE r.message_id = m.id) AS recipients
         FROM messages m WHERE m.subject GLOB ?`,
      )
      .all(`${prefix} *`);
  } finally {
    db.close();
  }
  const stored = new Map<string, { id: number; recipients: number }[]>();
  for (const row of rows) {
    const list = stored.get(row.subject) ?? [];
    list.push(row);
    stored.set(row.subject, list);
  }
  const examples: string[] = [];
  const note = (what: string, marker: string) => {
    if (examples.length < 10) examples.push(`${what}: ${marker}`);
  };
  const audit: Audit = {
    acknowledged: acknowledged.size,
    lost: 0,
    duplicated: 0,
    mismatched: 0,
    refused_but_stored: 0,
    in_doubt: inDoubt.size,
    in_doubt_stored: 0,
    unreported: 0,
    examples,
  };
  for (const [marker, expected] of acknowledged) {
    const found = stored.get(marker);
    if (!found) {
      audit.lost++;
      note("lost", marker);
    } else if (found[0]?.id !== expected.id || found[0]?.recipients !== expected.recipients) {
      audit.mismatched++;
      note(`stored as ${JSON.stringify(found)} but acknowledged as ${JSON.stringify(expected)}`, marker);
    }
  }
  for (const [marker, found] of stored) {
    if (found.length > 1) {
      audit.duplicated++;
      note(`stored ${found.length} times`, marker);
    }
    if (refused.has(marker)) {
      audit.refused_but_stored++;
      note("refused but stored", marker);
    }
    if (inDoubt.has(marker)) audit.in_doubt_stored++;
    // Against the live ledger: a sender may report a marker after the snapshot was read.
    const reported =
      ledger.acknowledged.has(marker) || ledger.refused.has(marker) || ledger.inDoubt.has(marker);
    if (!reported) {
      audit.unreported++;
      note("stored but never reported by a sender", marker);
    }
  }
  return audit;
}

/** The database's own checks: `PRAGMA integrity_check`, and with `fts` the full-text index against its content. */
export function checkIntegrity(
  databasePath: string,
  fts: boolean,
): { integrity: string; fts: string | null } {
  const db = new Database(databasePath, { timeout: 30_000 });
  try {
    const result = db.pragma("integrity_check") as { integrity_check: string }[];
    const integrity = result.map((r) => r.integrity_check).join("; ");
    let ftsResult: string | null = null;
    if (fts) {
      try {
        db.prepare("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)").run();
        ftsResult = "ok";
      } catch (error) {
        ftsResult = error instanceof Error ? error.message : String(error);
      }
    }
    return { integrity, fts: ftsResult };
  } finally {
    db.close();
  }
}

/**
 * The audits of a run as pass/fail checks, each summed over every audit: nothing lost, stored twice,
 * stored differently from its acknowledgement, or stored though refused; once senders are done, nothing
 * stored that no sender reported; and no sender reporting a marker twice.
 */
export function auditChecks(audits: { audit: Audit; sendersDone: boolean }[], ledger: Ledger): Check[] {
  const sum = (field: keyof Omit<Audit, "examples">, onlyDone = false) =>
    audits.filter((a) => a.sendersDone || !onlyDone).reduce((n, a) => n + a.audit[field], 0);
  const check = (name: string, count: number): Check => ({
    check: name,
    ok: count === 0,
    detail: String(count),
  });
  return [
    check("acknowledged sends lost", sum("lost")),
    check("messages stored twice", sum("duplicated")),
    check("stored with another id or recipient count", sum("mismatched")),
    check("refused sends stored", sum("refused_but_stored")),
    check("stored sends no sender reported", sum("unreported", true)),
    check("sends reported twice", ledger.reportedTwice.size),
  ];
}

import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { PigeonholeError } from "./errors.js";
import { migrate } from "./schema.js";
import { type Timestamp, toTimestamp } from "./time.js";

/** Options for `openMailbox`. Every field is optional; the defaults suit one user on one machine. */
export interface MailboxOptions {
  /** Directory holding `mailbox.sqlite3`, `attachments/` and `archive/`. Default: `PIGEONHOLE_HOME` or `~/.pigeonhole`. */
  home?: string;
  /** Mirror everything into the Git archive. Default: true unless `PIGEONHOLE_ARCHIVE=off`. */
  archive?: boolean;
  /** Git archive directory. Default: `<home>/archive`. */
  archiveDir?: string;
  /** Milliseconds a writer waits for another process's transaction before failing with BUSY. Default 10000. */
  busyTimeoutMs?: number;
  /** Clock, for tests of expiry and presence. Default: the system clock. */
  now?: () => Date;
  /**
   * Directories (besides each project's own directory when its human key is one) from which
   * `attachment_paths` may be read. Nothing else on disk can be attached.
   */
  attachmentRoots?: string[];
}

/** Where a mailbox keeps its files. */
export interface MailboxPaths {
  home: string;
  database: string;
  attachments: string;
  archive: string;
}

/**
 * The background writer of the Git archive. The engine only wakes it; the implementation lives in
 * `archive/writer.ts`.
 */
export interface ArchiveSink {
  /** Note that jobs were committed; the writer drains them soon, in batches. */
  wake(): void;
  /**
   * Resolve once every job committed before the call is in Git, whichever process writes it; reject with
   * BUSY when the archive does not catch up in time (the error says why).
   */
  flush(): Promise<void>;
  /** Stop: drain what this process can, release the lease. */
  close(): Promise<void>;
}

/** Resolve the mailbox home directory from an option, `PIGEONHOLE_HOME`, or `~/.pigeonhole`. */
export function resolveHome(home?: string): string {
  return resolve(home ?? process.env.PIGEONHOLE_HOME ?? join(homedir(), ".pigeonhole"));
}

/**
 * An open mailbox: one SQLite database (WAL) plus its attachment store and Git archive. Safe to open from
 * many processes at once. Operations are the functions exported by `engine/index.ts`, taking the mailbox
 * as first argument.
 */
export class Mailbox {
  readonly db: Database.Database;
  readonly paths: MailboxPaths;
  readonly options: Readonly<MailboxOptions>;
  readonly archiveEnabled: boolean;
  /** Set by `openMailbox` (`startArchiveWriter`); null while the archive is off or not yet started. */
  archive: ArchiveSink | null = null;
  private readonly clock: () => Date;
  private jobsPending = false;
  private readonly statements = new Map<string, Database.Statement>();
  /** One immediate-transaction wrapper for every write: `db.transaction` builds four closures per call. */
  private readonly immediate: (fn: () => unknown) => unknown;
  /** The same for a group of reads (a deferred transaction). */
  private readonly deferred: (fn: () => unknown) => unknown;

  constructor(options: MailboxOptions = {}) {
    const home = resolveHome(options.home);
    this.paths = {
      home,
      database: join(home, "mailbox.sqlite3"),
      attachments: join(home, "attachments"),
      archive: resolve(options.archiveDir ?? join(home, "archive")),
    };
    this.options = options;
    this.archiveEnabled = options.archive ?? process.env.PIGEONHOLE_ARCHIVE !== "off";
    this.clock = options.now ?? (() => new Date());
    mkdirSync(home, { recursive: true, mode: 0o700 });
    this.db = new Database(this.paths.database, { timeout: options.busyTimeoutMs ?? 10_000 });
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    try {
      migrate(this.db);
    } catch (error) {
      // Another process holding a write transaction past the busy timeout is BUSY here too, not a raw error.
      this.db.close();
      throw translateSqliteError(error);
    }
    const run = this.db.transaction((fn: () => unknown) => fn());
    this.immediate = (fn) => run.immediate(fn);
    this.deferred = (fn) => run.deferred(fn);
  }

  /** A prepared statement for `sql`, compiled once per mailbox: hot paths stay free of parsing. */
  statement<R = unknown>(sql: string): Database.Statement<unknown[], R> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt as Database.Statement<unknown[], R>;
  }

  /** The current time in the stored timestamp format. */
  now(): Timestamp {
    return toTimestamp(this.clock());
  }

  /** The current time as a Date (for arithmetic). */
  nowDate(): Date {
    return this.clock();
  }

  /**
   * Run `fn` in an immediate (write-locking) transaction, so concurrent writers queue on the busy timeout
   * instead of failing on a lock upgrade. Wakes the archive writer after commit when `fn` queued jobs.
   */
  write<T>(fn: () => T): T {
    let result: T;
    try {
      result = this.immediate(fn) as T;
    } catch (error) {
      throw translateSqliteError(error);
    }
    if (this.jobsPending) {
      this.jobsPending = false;
      this.archive?.wake();
    }
    return result;
  }

  /**
   * Run the queries of `fn` in one read transaction: they see one snapshot of the database, and take the
   * WAL read lock once instead of once per statement (a send with attachments looks up four rows first).
   * Inside `write`, it simply joins that transaction.
   */
  read<T>(fn: () => T): T {
    try {
      return this.deferred(fn) as T;
    } catch (error) {
      throw translateSqliteError(error);
    }
  }

  /** Called by `enqueueArchiveJob` inside a write transaction. */
  noteArchiveJob(): void {
    this.jobsPending = true;
  }

  /** Wait until the archive holds everything committed so far (a no-op when the archive is off). */
  async flushArchive(): Promise<void> {
    await this.archive?.flush();
  }

  /** Drain the archive (when this process holds its lease) and close the database. Idempotent. */
  async close(): Promise<void> {
    const archive = this.archive;
    this.archive = null;
    await archive?.close();
    if (this.db.open) this.db.close();
  }
}

/** Lock timeouts become BUSY (recoverable); typed errors pass through; anything else is rethrown as is. */
function translateSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new PigeonholeError("BUSY", "The mailbox is busy with another writer; retry in a moment.", {
      sqlite: code,
    });
  }
  return error;
}

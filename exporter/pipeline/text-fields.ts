import type Database from "better-sqlite3";
import { PigeonholeError } from "../../engine/errors.js";

/**
 * Where free text lives in the snapshot, and one walker that rewrites all of it. The scrubber and the
 * pseudonymizer both go through `rewriteTextFields`, so a text column added to the schema is either
 * listed here or makes every export fail loudly (`assertTextColumnsKnown`), never leaks quietly.
 * Attachment contents are rewritten by attachments.ts with the same transform.
 */

/** A batch transform: returns the rewritten texts, same length and order. */
export type TextTransform = (texts: readonly string[]) => string[] | Promise<string[]>;

interface TextTable {
  table: string;
  key: readonly string[];
  /**
   * Free-text columns; `json` ones hold JSON whose keys and string values are rewritten; `unique` ones
   * carry a UNIQUE constraint (two rewritten values may collide, e.g. two names that were both secrets).
   */
  columns: readonly { name: string; json?: boolean; unique?: boolean }[];
}

/** Every free-text column of the snapshot (the engine's tables after snapshot.ts). */
export const TEXT_TABLES: readonly TextTable[] = [
  {
    table: "projects",
    key: ["id"],
    columns: [
      { name: "slug", unique: true },
      { name: "human_key", unique: true },
    ],
  },
  {
    table: "agents",
    key: ["id"],
    columns: [
      { name: "name", unique: true },
      { name: "program" },
      { name: "model" },
      { name: "task_description" },
    ],
  },
  {
    table: "messages",
    key: ["id"],
    columns: [
      { name: "thread_id" },
      { name: "topic" },
      { name: "subject" },
      { name: "body_md" },
      { name: "payload", json: true },
    ],
  },
  { table: "message_attachments", key: ["message_id", "ordinal"], columns: [{ name: "filename" }] },
  { table: "agent_links", key: ["id"], columns: [{ name: "reason" }] },
  { table: "file_reservations", key: ["id"], columns: [{ name: "path_pattern" }, { name: "reason" }] },
];

/**
 * TEXT columns that hold no free text: timestamps, enums, digests, media types, the base64 of inline
 * images (binary), and the registration token (dropped by the scrub stage before any rewrite).
 */
const NOT_FREE_TEXT: Readonly<Record<string, readonly string[]>> = {
  projects: ["created_at"],
  agents: [
    "inception_ts",
    "last_active_ts",
    "attachments_policy",
    "contact_policy",
    "registration_token",
    "retired_ts",
  ],
  messages: ["importance", "expires_ts", "created_ts", "purpose"],
  message_recipients: ["kind", "read_ts", "ack_ts"],
  message_attachments: ["sha256", "media_type", "disposition", "data_base64", "status", "path"],
  agent_links: ["status", "created_ts", "updated_ts", "expires_ts"],
  file_reservations: ["created_ts", "expires_ts", "released_ts"],
};

/** Tables the export adds for its own bookkeeping (`export_*`) or binary data; they hold no mailbox text. */
const isExportTable = (name: string) => name.startsWith("export_") || name === "attachment_blobs";

/**
 * Throw INTERNAL when the snapshot has a TEXT column that is neither listed in TEXT_TABLES nor known to
 * hold no free text: a schema change must decide how the exporter treats the new column.
 */
export function assertTextColumnsKnown(db: Database.Database): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  for (const table of tables) {
    if (isExportTable(table)) continue;
    const listed = new Set([
      ...(TEXT_TABLES.find((t) => t.table === table)?.columns.map((c) => c.name) ?? []),
      ...(NOT_FREE_TEXT[table] ?? []),
    ]);
    const columns = db.prepare(`PRAGMA table_info(${quote(table)})`).all() as {
      name: string;
      type: string;
    }[];
    for (const column of columns) {
      const isText = column.type === "" || /TEXT|CHAR|CLOB/i.test(column.type);
      if (isText && !listed.has(column.name)) {
        throw new PigeonholeError(
          "INTERNAL",
          `The exporter does not know how to scrub column ${table}.${column.name}; list it in exporter/pipeline/text-fields.ts.`,
        );
      }
    }
  }
}

/** What the walker did. */
export interface RewriteStats {
  /** Text values seen (JSON strings counted one by one). */
  values: number;
  /** Rows whose text changed. */
  rows_changed: number;
}

/** Rows read per query. */
const PAGE_ROWS = 500;
/**
 * Texts handed to `transform` at once: about 256 KB (or one page when its rows are larger). Measured on
 * the 100,000-message bench mailbox, secretlint costs least per byte around this size: much smaller
 * batches pay its fixed cost per call more often, much larger ones pay for work it does per source.
 */
const BATCH_CHARS = 256_000;
/** Batches the walker may hand to `transform` before writing back the oldest. */
const READ_AHEAD = 2;

/**
 * Apply `transform` to every value of every free-text column (TEXT_TABLES), in batches, writing back the
 * rows that changed. JSON columns are parsed and their keys and string values rewritten one by one, so
 * the result stays valid JSON; a JSON column that does not parse is treated as plain text. Guarantees:
 * after it returns, no free-text value of the snapshot has escaped `transform`.
 */
export async function rewriteTextFields(
  db: Database.Database,
  transform: TextTransform,
  onRows?: (rows: number) => void,
): Promise<RewriteStats> {
  assertTextColumnsKnown(db);
  const stats: RewriteStats = { values: 0, rows_changed: 0 };
  for (const spec of TEXT_TABLES) {
    await rewriteTable(db, spec, transform, stats, onRows);
  }
  return stats;
}

/** Rows the walker will visit, for progress bars. */
export function countTextRows(db: Database.Database): number {
  let n = 0;
  for (const spec of TEXT_TABLES) {
    n +=
      (db
        .prepare(`SELECT COUNT(*) FROM ${quote(spec.table)}`)
        .pluck()
        .get() as number) ?? 0;
  }
  return n;
}

async function rewriteTable(
  db: Database.Database,
  spec: TextTable,
  transform: TextTransform,
  stats: RewriteStats,
  onRows?: (rows: number) => void,
): Promise<void> {
  const keyList = spec.key.map(quote).join(", ");
  const columnList = spec.columns.map((c) => quote(c.name)).join(", ");
  const after =
    spec.key.length === 1 ? `${keyList} > ?` : `(${keyList}) > (${spec.key.map(() => "?").join(", ")})`;
  const firstPage = db.prepare(
    `SELECT ${keyList}, ${columnList} FROM ${quote(spec.table)} ORDER BY ${keyList} LIMIT ?`,
  );
  const nextPage = db.prepare(
    `SELECT ${keyList}, ${columnList} FROM ${quote(spec.table)} WHERE ${after} ORDER BY ${keyList} LIMIT ?`,
  );
  const update = db.prepare(
    `UPDATE ${quote(spec.table)} SET ${spec.columns.map((c) => `${quote(c.name)} = ?`).join(", ")}
     WHERE ${spec.key.map((k) => `${quote(k)} = ?`).join(" AND ")}`,
  );
  let last: unknown[] | null = null;
  let pending: Record<string, unknown>[] = [];
  let texts: string[] = [];
  let rebuild: Rebuild[][] = [];
  // Batches handed to `transform` and not yet written back, oldest first: the walker reads ahead while
  // an asynchronous transform (a worker thread, scrub-threads.ts) works, and writes back in order.
  const inFlight: InFlight[] = [];
  const write = async (batch: InFlight) => {
    const rewritten = await batch.result;
    if (rewritten.length !== batch.values) throw new Error("text transform changed the number of values");
    const writes: unknown[][] = [];
    batch.rows.forEach((row, i) => {
      const values = (batch.rebuild[i] as Rebuild[]).map((build) => build(rewritten));
      if (values.some((value, c) => value !== row[(spec.columns[c] as { name: string }).name])) {
        writes.push([...values, ...spec.key.map((k) => row[k])]);
      }
    });
    if (writes.length > 0) {
      db.transaction(() => {
        for (const args of writes) writeRow(update, spec, args, batch.rows);
      })();
      stats.rows_changed += writes.length;
    }
    onRows?.(batch.rows.length);
  };
  const flush = async (drain: boolean) => {
    if (pending.length > 0) {
      stats.values += texts.length;
      const input = texts;
      const result =
        input.length === 0 ? Promise.resolve([]) : Promise.resolve().then(() => transform(input));
      // Settled later, in order; a failure is thrown by `write`, never left unhandled.
      result.catch(() => undefined);
      inFlight.push({ rows: pending, rebuild, values: input.length, result });
      pending = [];
      texts = [];
      rebuild = [];
    }
    while (inFlight.length > (drain ? 0 : READ_AHEAD)) await write(inFlight.shift() as InFlight);
  };
  let chars = 0;
  for (;;) {
    const rows = (last === null ? firstPage.all(PAGE_ROWS) : nextPage.all(...last, PAGE_ROWS)) as Record<
      string,
      unknown
    >[];
    if (rows.length === 0) break;
    for (const row of rows) {
      const before = texts.length;
      rebuild.push(spec.columns.map((column) => collect(row[column.name], column.json === true, texts)));
      for (let i = before; i < texts.length; i++) chars += (texts[i] as string).length;
      pending.push(row);
    }
    const tail = rows[rows.length - 1] as Record<string, unknown>;
    last = spec.key.map((k) => tail[k]);
    if (chars >= BATCH_CHARS) {
      await flush(false);
      chars = 0;
    }
  }
  await flush(true);
}

interface InFlight {
  rows: Record<string, unknown>[];
  rebuild: Rebuild[][];
  values: number;
  result: Promise<string[]>;
}

/**
 * Run `update` with `args` (column values, then key values). When a rewritten value collides with
 * another row's in a UNIQUE column, the changed unique values get the row's key appended (`-<id>`), which
 * no other row can have, and the update is retried once.
 */
function writeRow(
  update: Database.Statement,
  spec: TextTable,
  args: unknown[],
  rows: readonly Record<string, unknown>[],
): void {
  try {
    update.run(...args);
  } catch (error) {
    if ((error as { code?: string }).code !== "SQLITE_CONSTRAINT_UNIQUE") throw error;
    const keyValues = args.slice(spec.columns.length);
    const suffix = `-${keyValues.join("-")}`;
    const original = rows.find((row) => spec.key.every((k, i) => row[k] === keyValues[i]));
    const retried = args.map((value, i) => {
      const column = spec.columns[i];
      return column?.unique && typeof value === "string" && value !== original?.[column.name]
        ? `${value}${suffix}`
        : value;
    });
    update.run(...retried);
  }
}

type Rebuild = (rewritten: readonly string[]) => unknown;

/** Push the texts of `value` onto `texts`; return how to rebuild the value from the rewritten texts. */
function collect(value: unknown, json: boolean, texts: string[]): Rebuild {
  if (typeof value !== "string") return () => value;
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      const build = collectJson(parsed, texts);
      return (rewritten) => {
        const rebuilt = JSON.stringify(build(rewritten));
        // Unchanged JSON keeps its original bytes (and key order), so untouched rows are not rewritten.
        return rebuilt === JSON.stringify(parsed) ? value : rebuilt;
      };
    }
  }
  const index = texts.push(value) - 1;
  return (rewritten) => rewritten[index];
}

function collectJson(value: unknown, texts: string[]): Rebuild {
  if (typeof value === "string") {
    const index = texts.push(value) - 1;
    return (rewritten) => rewritten[index];
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => collectJson(item, texts));
    return (rewritten) => items.map((build) => build(rewritten));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([key, item]) => {
      const keyIndex = texts.push(key) - 1;
      return [keyIndex, collectJson(item, texts)] as const;
    });
    return (rewritten) =>
      Object.fromEntries(entries.map(([keyIndex, build]) => [rewritten[keyIndex], build(rewritten)]));
  }
  return () => value;
}

/** Quote an SQL identifier. */
export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

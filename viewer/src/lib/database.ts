import initSqlJs, { type Database, type SqlValue, type Statement } from "sql.js";
// The WASM binary ships inside the viewer build (a local asset), never from a CDN.
import wasmUrl from "sql.js/dist/sql-wasm-browser.wasm?url";

export type Params = Record<string, SqlValue> | SqlValue[];

/** The snapshot opened read-only in memory, with cached prepared statements. */
export interface ViewerDatabase {
  /** Every row of `sql` as an object keyed by column name. */
  all<T>(sql: string, params?: Params): T[];
  /** The first row of `sql`, or undefined. */
  get<T>(sql: string, params?: Params): T | undefined;
  /** The first column of every row of `sql` (faster than objects for long id lists). */
  column<T extends SqlValue>(sql: string, params?: Params): T[];
  /** True when the snapshot has a table or view named `name`. */
  has(name: string): boolean;
  close(): void;
}

let engine: ReturnType<typeof initSqlJs> | null = null;

/** Load sql.js once; the WASM file is resolved against the viewer page, so it comes from the viewer's own origin. */
function sqlJs(): ReturnType<typeof initSqlJs> {
  engine ??= initSqlJs({ locateFile: () => new URL(wasmUrl, document.baseURI).href });
  return engine;
}

/** Start loading and compiling sql.js now, so it is ready when the database has downloaded. */
export function warmUpDatabase(): void {
  sqlJs().catch(() => undefined);
}

/**
 * Open SQLite bytes with sql.js. Throws when the bytes are not a SQLite database. The connection refuses
 * writes (`query_only`), so no query can change what the viewer shows.
 */
export async function openDatabase(bytes: Uint8Array): Promise<ViewerDatabase> {
  const SQL = await sqlJs();
  const db: Database = new SQL.Database(bytes);
  try {
    db.exec("PRAGMA query_only = 1");
    db.exec("SELECT count(*) FROM sqlite_master");
  } catch (error) {
    db.close();
    throw new Error(`the snapshot is not a readable SQLite database (${(error as Error).message})`);
  }
  const statements = new Map<string, Statement>();
  const names = new Set(
    (db.exec("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")[0]?.values ?? []).map((row) =>
      String(row[0]).toLowerCase(),
    ),
  );
  const prepared = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const run = <T>(sql: string, params: Params | undefined, limit: number): T[] => {
    const statement = prepared(sql);
    const rows: T[] = [];
    try {
      if (params) statement.bind(params);
      while (rows.length < limit && statement.step()) rows.push(statement.getAsObject() as T);
    } finally {
      statement.reset();
    }
    return rows;
  };
  const column = <T extends SqlValue>(sql: string, params: Params | undefined): T[] => {
    const statement = prepared(sql);
    const values: T[] = [];
    try {
      if (params) statement.bind(params);
      while (statement.step()) values.push(statement.get()[0] as T);
    } finally {
      statement.reset();
    }
    return values;
  };
  return {
    all: <T>(sql: string, params?: Params) => run<T>(sql, params, Number.POSITIVE_INFINITY),
    column,
    get: <T>(sql: string, params?: Params) => run<T>(sql, params, 1)[0],
    has: (name) => names.has(name.toLowerCase()),
    close() {
      for (const statement of statements.values()) statement.free();
      db.close();
    },
  };
}

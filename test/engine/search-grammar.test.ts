import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import initSqlJs, { type Database as SqlJsDatabase } from "sql.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isPigeonholeError } from "../../engine/errors.js";
import {
  MAX_SEARCH_DEPTH,
  parseSearchQuery,
  SEARCH_SYNTAX_HELP,
  SearchQueryError,
} from "../../engine/search-grammar.js";
import { toFtsQuery } from "../../engine/search-query.js";
import { toFts4Query } from "../../viewer/src/lib/fts4-query.js";

/**
 * One language, two compilers: the engine's (FTS5, for agents) and the viewer's (FTS4 in sql.js, for
 * humans reading a bundle). Every query here goes through both; they must accept and refuse the same
 * inputs, with the same problem at the same character, and an accepted query must find the same
 * messages in real FTS5 and real FTS4 tables.
 */

const DOCS: [number, string, string][] = [
  [1, "Deploy failed on staging", "The build broke after the cache migration."],
  [2, "Deploy succeeded", "Production is green; C++ toolchain upgraded. Use --force with care."],
  [3, "Weekly report", "Nothing about deployments. Contact ops@example.com about the café."],
  [4, "Flaky test", "The parser test f(x) fails sometimes: NEAR the end, subject:router."],
  [5, "Ärger im Build", "wie geht's? foo-bar and a.b both broke; not my fault or yours."],
];

const ACCEPTED = [
  "deploy",
  "deploy failed",
  "deploy AND failed",
  "deploy OR report",
  "a OR b OR c",
  "deploy staging OR report",
  "deploy (staging OR production)",
  "(deploy OR report) (staging OR café)",
  "deploy NOT staging",
  "deploy -staging",
  "deploy -staging -production",
  "deploy build -staging",
  "-staging deploy",
  'deploy -"on staging"',
  "deploy -(staging failed)",
  "report OR (deploy -staging)",
  "deploy (build -staging)",
  "((deploy))",
  "(deploy (failed staging))",
  "(report OR (flaky OR deploy))",
  '"cache migration"',
  '"migration cache"',
  '"cache migr"*',
  "depl*",
  "depl**",
  "C++",
  "foo-bar a.b",
  "ops@example.com",
  "subject:router",
  "NEAR(the end)",
  "^start +plus",
  "and or not",
  "--force",
  "C++ && toolchain",
  "report OR &",
  "deploy - failed",
  "wie geht's Ärger",
  'say"hi there"',
  "cafe",
  "a*b",
  "deplo*failed",
  '"f(x)"',
  "",
  "   \t\n",
  "&&",
  "- -- § ->",
  "(&&) report",
  "deploy NOT &&",
  "deploy - -staging",
  "- -staging",
  `${"(".repeat(MAX_SEARCH_DEPTH)}deploy${")".repeat(MAX_SEARCH_DEPTH)}`,
];

/** Refused queries and the 1-based character each error names. */
const REFUSED: [string, RegExp, number][] = [
  ['deploy "build fail', /phrase that is never closed/, 8],
  ["deploy (build OR test", /opening parenthesis is never closed/, 8],
  ["((deploy)", /opening parenthesis is never closed/, 1],
  ["deploy -(", /opening parenthesis is never closed/, 9],
  ["(deploy) build)", /closing parenthesis has no matching opening/, 15],
  [") deploy", /closing parenthesis has no matching opening/, 1],
  ["deploy OR ", /OR ends the query/, 8],
  ["deploy build AND", /AND ends the query/, 14],
  ["deploy -x NOT", /NOT ends the query/, 11],
  ["OR deploy build", /OR has nothing before it/, 1],
  ["deploy (AND build)", /AND has nothing before it/, 9],
  ["deploy AND OR build", /AND is followed by OR/, 8],
  ["deploy OR AND build", /OR is followed by AND/, 8],
  ["(deploy AND) build", /AND is followed by a closing parenthesis/, 9],
  ["deploy NOT )", /NOT is followed by a closing parenthesis/, 8],
  ["deploy (())", /empty parentheses/, 9],
  ["NOT deploy NOT build", /only excluded terms/, 1],
  ["deploy (NOT build)", /only excluded terms/, 9],
  ["deploy OR -build -test", /only excluded terms/, 11],
  ["deploy NOT -build", /NOT is followed by another exclusion/, 8],
  ["deploy -NOT build", /- is followed by another exclusion/, 8],
  ["deploy **", /\* must follow a word/, 8],
  [`deploy ${"(".repeat(33)}x${")".repeat(33)}`, /nested deeper than 32/, 40],
];

type Outcome = { match: string | null } | { problem: string; position: number | undefined };

function engineOutcome(query: string): Outcome {
  try {
    return { match: toFtsQuery(query) };
  } catch (error) {
    if (!isPigeonholeError(error)) throw error;
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message.startsWith("Invalid search query: ")).toBe(true);
    expect(error.data.query).toBe(query);
    return {
      problem: error.message.slice("Invalid search query: ".length),
      position: error.data.position as number,
    };
  }
}

function viewerOutcome(query: string): Outcome {
  try {
    return { match: toFts4Query(query) };
  } catch (error) {
    if (!(error instanceof SearchQueryError)) throw error;
    return { problem: error.message, position: error.position };
  }
}

let home: string;
let fts5: Database.Database;
let fts4: SqlJsDatabase;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "ph-grammar-"));
  fts5 = new Database(join(home, "fts5.sqlite3"));
  // The same tokenizer on both sides (the engine adds porter stemming), so only the grammar can differ.
  fts5.exec(
    `CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body_md, tokenize='unicode61 remove_diacritics 2')`,
  );
  const insert5 = fts5.prepare("INSERT INTO messages_fts (rowid, subject, body_md) VALUES (?, ?, ?)");
  const SQL = await initSqlJs();
  fts4 = new SQL.Database();
  fts4.run(
    'CREATE VIRTUAL TABLE messages_fts4 USING fts4(subject, body_md, tokenize=unicode61 "remove_diacritics=2")',
  );
  for (const [id, subject, body] of DOCS) {
    insert5.run(id, subject, body);
    fts4.run("INSERT INTO messages_fts4 (docid, subject, body_md) VALUES (?, ?, ?)", [id, subject, body]);
  }
});

afterAll(() => {
  fts5.close();
  fts4.close();
  rmSync(home, { recursive: true, force: true });
});

function hits5(match: string): number[] {
  const rows = fts5
    .prepare("SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid")
    .all(match) as { id: number }[];
  return rows.map((row) => row.id);
}

function hits4(match: string): number[] {
  const rows = fts4.exec("SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ? ORDER BY docid", [
    match,
  ]);
  return (rows[0]?.values ?? []).map((row) => row[0] as number);
}

describe("engine (FTS5) and viewer (FTS4) compile the same language", () => {
  test.each(ACCEPTED)("accepted by both, same hits: %j", (query) => {
    const engine = engineOutcome(query);
    const viewer = viewerOutcome(query);
    expect("match" in engine && "match" in viewer).toBe(true);
    const match5 = (engine as { match: string | null }).match;
    const match4 = (viewer as { match: string | null }).match;
    expect(match5 === null).toBe(match4 === null);
    if (match5 === null || match4 === null) return;
    expect(hits5(match5)).toEqual(hits4(match4));
  });

  test("the accepted table finds something, so the hit comparison means something", () => {
    const found = ACCEPTED.map(toFtsQuery).filter((m) => m !== null && hits5(m).length > 0);
    expect(found.length).toBeGreaterThan(ACCEPTED.length / 2);
  });

  test.each(REFUSED)("refused by both at the same character: %j", (query, problem, position) => {
    const engine = engineOutcome(query);
    const viewer = viewerOutcome(query);
    expect(engine).toEqual(viewer);
    expect(viewer).toMatchObject({ position });
    const message = (viewer as { problem: string }).problem;
    expect(message).toMatch(problem);
    expect(message).toContain(`(at character ${position}). ${SEARCH_SYNTAX_HELP}`);
  });
});

describe("parseSearchQuery", () => {
  test("builds the tree both emitters write, pruning what is not searchable", () => {
    expect(parseSearchQuery("a b -c OR (d OR e*) &&")).toEqual({
      kind: "or",
      items: [
        {
          kind: "and",
          include: [
            { kind: "term", text: "a", prefix: false },
            { kind: "term", text: "b", prefix: false },
          ],
          exclude: [{ kind: "term", text: "c", prefix: false }],
        },
        { kind: "term", text: "d", prefix: false },
        { kind: "term", text: "e", prefix: true },
      ],
    });
    expect(parseSearchQuery("&& (--)")).toBeNull();
  });

  test("errors carry the bare problem and its position apart from the message", () => {
    let caught: unknown;
    try {
      parseSearchQuery("deploy AND");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SearchQueryError);
    const error = caught as SearchQueryError;
    expect(error.problem).toBe("AND ends the query; it needs a word, phrase or group after it");
    expect(error.position).toBe(8);
    expect(error.message).toBe(`${error.problem} (at character 8). ${SEARCH_SYNTAX_HELP}`);
  });
});

test("the grammar imports nothing, so the viewer can bundle it for the browser", () => {
  const source = readFileSync(new URL("../../engine/search-grammar.ts", import.meta.url), "utf8");
  expect(source).not.toMatch(/^\s*(import|export)\b[^;]*\bfrom\b/m);
  expect(source).not.toMatch(/\bimport\s*\(/);
});

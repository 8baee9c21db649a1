import initSqlJs, { type Database } from "sql.js";
import { beforeAll, describe, expect, it } from "vitest";
import { SearchQueryError, toFts4Query } from "../../viewer/src/lib/fts4-query.js";

/**
 * The viewer's search language translated to FTS4, run against sql.js (the same SQLite build the browser
 * uses) with the bundle's FTS4 table definition.
 */

let db: Database;

const DOCS: [number, string, string][] = [
  [1, "Deploy failed on staging", "The build broke after the cache migration."],
  [2, "Deploy succeeded", "Production is green; C++ toolchain upgraded."],
  [3, "Weekly report", "Nothing about deployments. Contact ops@example.com about the café."],
  [4, "Flaky test", "The parser test (router) fails sometimes: NEAR the end."],
];

function search(query: string): number[] {
  const match = toFts4Query(query);
  if (match === null) return [];
  const rows = db.exec("SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ? ORDER BY docid", [match]);
  return (rows[0]?.values ?? []).map((row) => row[0] as number);
}

beforeAll(async () => {
  const SQL = await initSqlJs();
  db = new SQL.Database();
  db.run(
    'CREATE VIRTUAL TABLE messages_fts4 USING fts4(subject, body_md, tokenize=unicode61 "remove_diacritics=2")',
  );
  for (const [id, subject, body] of DOCS) {
    db.run("INSERT INTO messages_fts4 (docid, subject, body_md) VALUES (?, ?, ?)", [id, subject, body]);
  }
});

describe("toFts4Query", () => {
  it("quotes every term, so user text is never FTS syntax", () => {
    expect(toFts4Query("deploy failed")).toBe('"deploy" AND "failed"');
    expect(toFts4Query("deploy OR report")).toBe('"deploy" OR "report"');
    expect(toFts4Query("deploy -staging")).toBe('"deploy" NOT "staging"');
    expect(toFts4Query('"cache migration" depl*')).toBe('"cache migration" AND "depl*"');
    expect(toFts4Query('"build bro"*')).toBe('"build bro*"');
    expect(toFts4Query("(build OR deploy) NOT (staging OR production)")).toBe(
      '("build" OR "deploy") NOT ("staging" OR "production")',
    );
    expect(toFts4Query("NEAR subject:x a^b")).toBe('"NEAR" AND "subject x" AND "a b"');
  });

  it("matches what the query language promises", () => {
    expect(search("deploy")).toEqual([1, 2]);
    expect(search("deploy failed")).toEqual([1]);
    expect(search("deploy AND failed")).toEqual([1]);
    expect(search("report OR flaky")).toEqual([3, 4]);
    expect(search("deploy NOT staging")).toEqual([2]);
    expect(search("deploy -staging")).toEqual([2]);
    expect(search('"cache migration"')).toEqual([1]);
    expect(search('"migration cache"')).toEqual([]);
    expect(search("deploy*")).toEqual([1, 2, 3]);
    expect(search("(report OR flaky) -parser")).toEqual([3]);
    expect(search("C++")).toEqual([2]);
    expect(search("ops@example.com")).toEqual([3]);
    expect(search("cafe")).toEqual([3]);
    expect(search("NEAR")).toEqual([4]);
    expect(search("and or not")).toEqual([]);
    expect(search("&& ||")).toEqual([]);
  });

  it("treats a query with nothing searchable as matching nothing", () => {
    expect(toFts4Query("")).toBeNull();
    expect(toFts4Query("  && - ")).toBeNull();
  });

  it("explains malformed queries with the syntax to use", () => {
    const cases: [string, RegExp][] = [
      ['"unclosed', /never closed/],
      ["(deploy", /never closed/],
      ["deploy)", /no matching opening/],
      ["()", /empty parentheses/],
      ["OR deploy", /nothing before it/],
      ["deploy AND", /needs a word/],
      ["NOT deploy", /only excluded terms/],
      ["deploy NOT NOT x", /another exclusion/],
      ["*", /must follow a word/],
      [`${"(".repeat(40)}x${")".repeat(40)}`, /nested deeper/],
    ];
    for (const [query, message] of cases) {
      expect(() => toFts4Query(query), query).toThrow(SearchQueryError);
      expect(() => toFts4Query(query), query).toThrow(message);
      expect(() => toFts4Query(query), query).toThrow(/prefix\*/);
    }
  });
});

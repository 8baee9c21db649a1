import { describe, expect, test } from "vitest";
import { isPigeonholeError } from "../../engine/errors.js";
import { SEARCH_SYNTAX_HELP, toFtsQuery } from "../../engine/search-query.js";

describe("toFtsQuery: query → FTS5 expression", () => {
  test.each([
    ["deploy", '"deploy"'],
    ["deploy failed", '"deploy" AND "failed"'],
    ["deploy AND failed", '"deploy" AND "failed"'],
    ["deploy OR release", '"deploy" OR "release"'],
    ["a OR b OR c", '"a" OR "b" OR "c"'],
    ["a b OR c", '("a" AND "b") OR "c"'],
    ["a (b OR c)", '"a" AND ("b" OR "c")'],
    ["(a OR b) (c OR d)", '("a" OR "b") AND ("c" OR "d")'],
    ["a NOT b", '"a" NOT "b"'],
    ["a -b", '"a" NOT "b"'],
    ["a -b -c", '"a" NOT ("b" OR "c")'],
    ["a b -c", '("a" AND "b") NOT "c"'],
    ["-c a", '"a" NOT "c"'],
    ['a -"b c"', '"a" NOT "b c"'],
    ["a -(b c)", '"a" NOT ("b" AND "c")'],
    ["a OR (b -c)", '"a" OR ("b" NOT "c")'],
    ["a (b -c)", '("a" AND "b") NOT "c"'],
    ["((a))", '"a"'],
    ["(a (b c))", '"a" AND "b" AND "c"'],
    ["(a OR (b OR c))", '"a" OR "b" OR "c"'],
    ['"exact phrase"', '"exact phrase"'],
    ['"exact phr"*', '"exact phr" *'],
    ["dep*", '"dep" *'],
    ["dep**", '"dep" *'],
    ["C++", '"C++"'],
    ["foo-bar a.b", '"foo-bar" AND "a.b"'],
    ["user@example.com", '"user@example.com"'],
    ["subject:deploy", '"subject:deploy"'],
    ["NEAR(a b)", '"NEAR" AND "a" AND "b"'],
    ["^start +plus", '"^start" AND "+plus"'],
    ["and or not", '"and" AND "or" AND "not"'],
    ["--force", '"--force"'],
    ["C++ && Rust", '"C++" AND "Rust"'],
    ["a OR &", '"a"'],
    ["a - b", '"a" AND "b"'],
    ["wie geht's Ärger", '"wie" AND "geht\'s" AND "Ärger"'],
    ['say"hi there"', '"say" AND "hi there"'],
  ])("%s", (query, expected) => {
    expect(toFtsQuery(query)).toBe(expected);
  });

  test.each(["", "   \t\n", "&&", "- -- § ->"])("nothing searchable in %j → null", (query) => {
    expect(toFtsQuery(query)).toBeNull();
  });
});

describe("toFtsQuery: malformed queries", () => {
  test.each([
    ['"unclosed phrase', /never closed/, 1],
    ["a (b OR c", /opening parenthesis is never closed/, 3],
    ["(", /opening parenthesis is never closed/, 1],
    ["a b)", /closing parenthesis has no matching opening/, 4],
    [")", /closing parenthesis has no matching opening/, 1],
    ["a OR", /OR ends the query/, 3],
    ["a AND", /AND ends the query/, 3],
    ["a NOT", /NOT ends the query/, 3],
    ["OR a", /OR has nothing before it/, 1],
    ["AND a", /AND has nothing before it/, 1],
    ["a AND OR b", /AND is followed by OR/, 3],
    ["a OR OR b", /OR is followed by OR/, 3],
    ["(a OR) b", /OR is followed by a closing parenthesis/, 4],
    ["a ()", /empty parentheses/, 3],
    ["NOT a", /only excluded terms/, 1],
    ["-a -b", /only excluded terms/, 1],
    ["a OR -b", /only excluded terms/, 6],
    ["NOT NOT a", /followed by another exclusion/, 1],
    ["*", /\* must follow a word/, 1],
    [`${"(".repeat(40)}a${")".repeat(40)}`, /nested deeper than/, 33],
  ])("%s", (query, message, position) => {
    let caught: unknown;
    try {
      toFtsQuery(query);
    } catch (error) {
      caught = error;
    }
    expect(isPigeonholeError(caught)).toBe(true);
    const error = caught as { code: string; message: string; data: Record<string, unknown> };
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(message);
    expect(error.message).toContain(SEARCH_SYNTAX_HELP);
    expect(error.message).not.toMatch(/fts5|sqlite/i);
    expect(error.data.position).toBe(position);
  });
});

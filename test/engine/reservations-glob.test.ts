import { describe, expect, test } from "vitest";
import { isGlobPattern, pathMatchesPattern, patternsOverlap } from "../../engine/index.js";
import { expandBraces } from "../../engine/reservations/braces.js";

// [a, b, overlap?] — each pair is also checked in the other order.
const TABLE: Array<[string, string, boolean]> = [
  // a literal path against a glob: exact glob semantics
  ["src/**", "src/a.ts", true],
  ["src/**", "src/deep/nested/a.ts", true],
  ["src/**", "src", true],
  ["src/**", "lib/a.ts", false],
  ["*.md", "docs/x.md", false],
  ["**/*.md", "docs/x.md", true],
  ["**/*.md", "README.md", true],
  ["docs/*.md", "docs/sub/x.md", false],
  ["src/*", "src/.env", true],
  ["src/a?.ts", "src/ab.ts", true],
  ["src/a?.ts", "src/abc.ts", false],
  ["src/[ab].ts", "src/c.ts", false],
  ["src/{a,b}.ts", "src/b.ts", true],
  ["src/{a,b}.ts", "src/c.ts", false],
  ["{src,lib}/**", "lib/x.ts", true],
  ["a/**/b", "a/b", true],
  ["app/(auth)/**", "app/(auth)/page.tsx", true],
  ["app/(auth)/**", "app/auth/page.tsx", false],
  ["x/a|b/c", "x/a", false],
  // two literals
  ["src/a.ts", "src/a.ts", true],
  ["a/b/c", "a/b", false],
  ["src/a.ts", "src/b.ts", false],
  // two globs
  ["src/*.ts", "src/a*", true],
  ["src/*.ts", "src/*.js", false],
  ["src/a*", "src/b*", false],
  ["src/*a", "src/*b", false],
  ["src/a*b", "src/ab*", true],
  ["src/**/*.ts", "lib/**", false],
  ["**/test/**", "src/**/*.ts", true],
  ["**", "docs/*.md", true],
  ["*", "a/*", false],
  ["src/*/a.ts", "src/x/*.ts", true],
  ["src/*/a.ts", "src/x/*/a.ts", false],
  ["src/**/index.ts", "src/components/*.tsx", false],
  ["**/*.md", "*.ts", false],
  ["src/{a,b}/**", "src/c/**", false],
  ["src/{a,b}/**", "src/*/x.ts", true],
  ["@(src|lib)/*.ts", "lib/a*", true],
  // a documented false positive of the approximation: bracket classes are not intersected
  ["src/[ab].ts", "src/[cd].ts", true],
];

describe("patternsOverlap", () => {
  test.each(TABLE)("%s vs %s → %s", (a, b, expected) => {
    expect(patternsOverlap(a, b)).toBe(expected);
    expect(patternsOverlap(b, a)).toBe(expected);
  });

  test("the table has at least 20 pairs with both answers represented", () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(20);
    expect(TABLE.filter(([, , o]) => o).length).toBeGreaterThan(5);
    expect(TABLE.filter(([, , o]) => !o).length).toBeGreaterThan(5);
  });

  test("never misses a real overlap: sampled paths matched by both patterns imply overlap", () => {
    const globs = [
      "src/**",
      "src/*.ts",
      "src/a*",
      "**/*.md",
      "*.md",
      "docs/**",
      "src/*/x.ts",
      "**/x.*",
      "{src,docs}/*",
      "src/?.ts",
    ];
    const paths = [
      "src/a.ts",
      "src/b.ts",
      "src/ab.md",
      "src/q/x.ts",
      "docs/x.md",
      "a.md",
      "src/x.md",
      "x.js",
    ];
    for (const a of globs) {
      for (const b of globs) {
        const common = paths.some((p) => pathMatchesPattern(a, p) && pathMatchesPattern(b, p));
        if (common) expect(patternsOverlap(a, b), `${a} vs ${b}`).toBe(true);
      }
    }
  });
});

describe("pathMatchesPattern and isGlobPattern", () => {
  test("an exact pattern always covers its own path, even with bracket or paren characters", () => {
    expect(pathMatchesPattern("pages/[id].tsx", "pages/[id].tsx")).toBe(true);
    expect(pathMatchesPattern("app/(auth)/page.tsx", "app/(auth)/page.tsx")).toBe(true);
  });

  test("literal names with parentheses are not globs; stars and extglobs are", () => {
    expect(isGlobPattern("app/(auth)/page.tsx")).toBe(false);
    expect(isGlobPattern("src/*.ts")).toBe(true);
    expect(isGlobPattern("src/@(a|b).ts")).toBe(true);
  });
});

describe("expandBraces", () => {
  test("expands nested alternations in order and leaves ranges alone", () => {
    expect(expandBraces("src/{a,b{c,d}}/x")).toEqual(["src/a/x", "src/bc/x", "src/bd/x"]);
    expect(expandBraces("f{1..3}.ts")).toEqual(["f{1..3}.ts"]);
  });

  test("returns null past the cap", () => {
    expect(expandBraces("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}")).toBeNull();
  });
});

import picomatch from "picomatch";
import { expandBraces } from "./braces.js";

/**
 * Glob semantics of file reservations, in one place: the conflict check of `file_reservation_paths`, the
 * pre-commit guard and the contact rule all match through this module.
 *
 * Patterns are picomatch globs on repository-relative paths with `/` separators: `*` and `?` stay inside
 * one path segment, `**` (alone in a segment) spans any number of segments, `[...]`, `{a,b}` and extglobs
 * (`@(a|b)`, `!(x)`, ...) work as in picomatch. Two deliberate differences from picomatch's defaults:
 * - dotfiles are matched like other files (`src/**` covers `src/.env`): a lease on a directory covers
 *   all of it;
 * - `(`, `)` and `|` outside an extglob are literal characters, so Next.js-style names such as
 *   `app/(auth)/page.tsx` mean what they say (picomatch would read them as a regex group).
 * Matching is case-sensitive, like Git paths.
 */

const OPTIONS: picomatch.PicomatchOptions = { dot: true, windows: false, nonegate: true };
const EXTGLOB_LEADERS = new Set(["@", "!", "+", "*", "?"]);

/** The pattern in picomatch's syntax: bare parentheses and bars escaped, extglob groups kept. */
function picomatchSource(pattern: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "(") {
      if (depth > 0 || (i > 0 && EXTGLOB_LEADERS.has(pattern[i - 1] as string))) {
        depth++;
        out += c;
      } else {
        out += "\\(";
      }
    } else if (c === ")") {
      if (depth > 0) {
        depth--;
        out += c;
      } else {
        out += "\\)";
      }
    } else if (c === "|" && depth === 0) {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

const matcherCache = new Map<string, (path: string) => boolean>();

function matcher(pattern: string): (path: string) => boolean {
  let match = matcherCache.get(pattern);
  if (!match) {
    // Bounded, so a long-lived server never grows it without limit.
    if (matcherCache.size >= 2000) matcherCache.clear();
    match = picomatch(picomatchSource(pattern), OPTIONS);
    matcherCache.set(pattern, match);
  }
  return match;
}

/** True when `text` contains glob syntax (per picomatch's scanner), i.e. is not one literal path. */
export function isGlobPattern(text: string): boolean {
  return picomatch.scan(picomatchSource(text)).isGlob;
}

/**
 * Whether the literal repository-relative `path` (as Git lists it) is covered by `pattern`. A path equal
 * to the pattern always matches, so a file named `pages/[id].tsx` is covered by that exact pattern.
 */
export function pathMatchesPattern(pattern: string, path: string): boolean {
  return pattern === path || matcher(pattern)(path);
}

const SPECIAL = /[*?[\]{}()!+@|]/;

/** Characters every match of `segment` must start with. */
function literalPrefix(segment: string): string {
  const at = segment.search(SPECIAL);
  return at === -1 ? segment : segment.slice(0, at);
}

/** Characters every match of `segment` must end with. */
function literalSuffix(segment: string): string {
  let i = segment.length;
  while (i > 0 && !SPECIAL.test(segment[i - 1] as string)) i--;
  return segment.slice(i);
}

/** Whether some single path segment may match both segment globs (conservative: true when unsure). */
function segmentsMayOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const aGlob = isGlobPattern(a);
  const bGlob = isGlobPattern(b);
  if (!aGlob && !bGlob) return false;
  if (!bGlob) return matcher(a)(b);
  if (!aGlob) return matcher(b)(a);
  if (matcher(a)(b) || matcher(b)(a)) return true;
  // Any name matching both starts with both literal prefixes and ends with both literal suffixes, so
  // one prefix must extend the other, and likewise the suffixes. Beyond that we assume an overlap.
  const [pa, pb] = [literalPrefix(a), literalPrefix(b)];
  const [sa, sb] = [literalSuffix(a), literalSuffix(b)];
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

/** Split at `/` outside brackets and extglob groups; a segment still holding a `/` spans segments. */
function segmentsOf(pattern: string): string[] {
  const segments: string[] = [];
  let current = "";
  let parens = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close !== -1) {
        current += pattern.slice(i, close + 1);
        i = close;
        continue;
      }
    }
    if (c === "(" && i > 0 && EXTGLOB_LEADERS.has(pattern[i - 1] as string)) parens++;
    else if (c === ")" && parens > 0) parens--;
    if (c === "/" && parens === 0) {
      segments.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  segments.push(current);
  return segments;
}

function spansSegments(segment: string): boolean {
  return segment === "**" || segment.includes("/");
}

/** Whether two segment lists can match a common path; `**` (or a group with a `/`) takes 0..n segments. */
function segmentListsOverlap(a: string[], b: string[]): boolean {
  const memo = new Map<number, boolean>();
  const walk = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const sa = a[i];
    const sb = b[j];
    if (sa === undefined && sb === undefined) result = true;
    else if (sa !== undefined && spansSegments(sa))
      result = walk(i + 1, j) || (sb !== undefined && walk(i, j + 1));
    else if (sb !== undefined && spansSegments(sb))
      result = walk(i, j + 1) || (sa !== undefined && walk(i + 1, j));
    else if (sa === undefined || sb === undefined) result = false;
    else result = segmentsMayOverlap(sa, sb) && walk(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return walk(0, 0);
}

function alternativesOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const aGlob = isGlobPattern(a);
  const bGlob = isGlobPattern(b);
  if (!aGlob && !bGlob) return false;
  if (!bGlob) return pathMatchesPattern(a, b);
  if (!aGlob) return pathMatchesPattern(b, a);
  if (matcher(a)(b) || matcher(b)(a)) return true;
  return segmentListsOverlap(segmentsOf(a), segmentsOf(b));
}

/**
 * Whether some path could be covered by both patterns, checked both ways. Exact when either side is a
 * literal path (it is matched against the other as a glob). For two globs, a sound approximation that
 * never misses an overlap but may report one that cannot happen:
 * 1. brace alternations are expanded, and the patterns overlap when any pair of alternatives does;
 * 2. two alternatives overlap when they are equal, or one matches the other read as a literal path;
 * 3. otherwise they are compared segment by segment, `**` standing for any number of segments: literal
 *    segments must be equal (so the literal base directories must nest), a literal segment must match
 *    the other glob segment, and two glob segments must have compatible literal prefixes and suffixes
 *    (`*.ts` vs `a*` may overlap, `*.ts` vs `*.js` cannot).
 * Known false positives: two bracket or extglob segments with compatible ends (`[ab].ts` vs `[cd].ts`).
 */
export function patternsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const as = expandBraces(a);
  const bs = expandBraces(b);
  if (as === null || bs === null) return true;
  return as.some((x) => bs.some((y) => alternativesOverlap(x, y)));
}

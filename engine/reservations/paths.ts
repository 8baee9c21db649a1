import { z } from "zod";
import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import { expandBraces, MAX_BRACE_ALTERNATIVES } from "./braces.js";

/** A reservation pattern as a caller writes it (validated further by `normalizeReservationPattern`). */
export const ReservationPatternInput = z
  .string()
  .min(1, "a pattern must not be empty")
  .max(LIMITS.reservationPatternChars)
  .describe("Repository-relative glob with / separators, e.g. src/** or docs/*.md");

const HINT =
  "patterns are repository-relative globs with / separators, e.g. src/**, src/api/*.ts or README.md";

function invalid(pattern: string, problem: string): never {
  throw fail.invalid(`File reservation pattern ${JSON.stringify(pattern)} ${problem}; ${HINT}.`, {
    pattern,
  });
}

/**
 * Validate a reservation pattern and return its canonical form, or throw INVALID_ARGUMENT (TOO_LARGE for
 * length and brace blow-up) saying what to write instead. Rules:
 * - surrounding whitespace is trimmed; `./` segments are dropped (`./src/a.ts` → `src/a.ts`); a trailing
 *   `/` reserves the directory's contents (`src/` → `src/**`);
 * - refused: absolute paths (`/x`, `C:\x`, `C:/x`, `\\server\x`, `~/x`), any backslash (Windows
 *   separators are ambiguous with glob escapes: write `/`), `..` segments (also inside `{...}`), empty
 *   segments (`a//b`), control characters, a leading `!` negation, the bare repository root (`.`: use
 *   `**`), more than MAX_BRACE_ALTERNATIVES brace alternatives, more than
 *   LIMITS.reservationPatternChars characters.
 */
export function normalizeReservationPattern(raw: string): string {
  const pattern = raw.trim();
  if (pattern === "") invalid(raw, "is empty");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(pattern)) invalid(pattern, "contains control characters");
  if (pattern.includes("\\")) invalid(pattern, "contains a backslash (absolute or Windows-style path?)");
  if (pattern.startsWith("/") || /^[A-Za-z]:/.test(pattern) || pattern.startsWith("~")) {
    invalid(pattern, "is an absolute path");
  }
  if (pattern.startsWith("!") && !pattern.startsWith("!(")) {
    invalid(pattern, "is a negation; reserve the paths you will edit instead");
  }
  const withDirectory = pattern.endsWith("/") ? `${pattern}**` : pattern;
  const segments = withDirectory.split("/");
  if (segments.includes("")) invalid(pattern, "has an empty path segment (a//b)");
  if (segments.includes("..")) invalid(pattern, "climbs out of the repository with ..");
  const kept = segments.filter((s) => s !== ".");
  if (kept.length === 0) invalid(pattern, "names the repository root; reserve ** for everything");
  const normalized = kept.join("/");
  if (normalized.length > LIMITS.reservationPatternChars) {
    throw fail.tooLarge(
      `File reservation pattern is ${normalized.length} characters; the limit is ${LIMITS.reservationPatternChars}. Reserve a parent directory (dir/**) instead.`,
      { limit: LIMITS.reservationPatternChars },
    );
  }
  const alternatives = expandBraces(normalized);
  if (alternatives === null) {
    throw fail.tooLarge(
      `File reservation pattern ${JSON.stringify(normalized)} expands to more than ${MAX_BRACE_ALTERNATIVES} brace alternatives; split it into several patterns.`,
      { pattern: normalized, limit: MAX_BRACE_ALTERNATIVES },
    );
  }
  for (const alternative of alternatives) {
    const parts = alternative.split("/");
    if (parts.includes("..")) invalid(pattern, "climbs out of the repository with .. inside braces");
    if (parts.includes("") || parts.includes(".")) {
      invalid(pattern, "has an empty or . path segment inside braces");
    }
  }
  return normalized;
}

/** Normalize every pattern of a call, dropping duplicates (after normalization), keeping first-seen order. */
export function normalizeReservationPatterns(raw: readonly string[]): string[] {
  return [...new Set(raw.map(normalizeReservationPattern))];
}

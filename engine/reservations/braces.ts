/** Most alternatives one pattern may expand to; more is refused when reserving (TOO_LARGE). */
export const MAX_BRACE_ALTERNATIVES = 64;

interface BraceGroup {
  start: number;
  end: number;
  alternatives: string[];
}

/** Index of the `]` closing the bracket expression opened at `open`, or -1 when it is not closed. */
function closingBracket(pattern: string, open: number): number {
  // `[]...]` and `[!]...]` treat the first `]` as a member, as in POSIX bracket expressions.
  let i = open + 1;
  if (pattern[i] === "!" || pattern[i] === "^") i++;
  if (pattern[i] === "]") i++;
  const close = pattern.indexOf("]", i);
  return close;
}

/** The first `{...}` holding a top-level comma, with its alternatives; null when there is none. */
function firstCommaGroup(pattern: string): BraceGroup | null {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "[") {
      const close = closingBracket(pattern, i);
      if (close !== -1) i = close;
      continue;
    }
    if (c !== "{") continue;
    let depth = 0;
    let partStart = i + 1;
    const parts: string[] = [];
    for (let j = i; j < pattern.length; j++) {
      const d = pattern[j];
      if (d === "{") depth++;
      else if (d === "}") {
        depth--;
        if (depth === 0) {
          if (parts.length === 0) break; // `{x}` or `{1..3}`: not an alternation, look further right
          parts.push(pattern.slice(partStart, j));
          return { start: i, end: j, alternatives: parts };
        }
      } else if (d === "," && depth === 1) {
        parts.push(pattern.slice(partStart, j));
        partStart = j + 1;
      }
    }
  }
  return null;
}

/**
 * Expand comma alternations (`src/{a,b}/*.ts` → `src/a/*.ts`, `src/b/*.ts`), nested ones included, in
 * order. Braces without a comma (`{x}`, ranges such as `{1..3}`) stay as they are. Returns null when the
 * expansion would exceed `max` alternatives, so callers can refuse or fall back to a conservative answer.
 */
export function expandBraces(pattern: string, max: number = MAX_BRACE_ALTERNATIVES): string[] | null {
  const out: string[] = [];
  const expand = (p: string): boolean => {
    const group = firstCommaGroup(p);
    if (!group) {
      out.push(p);
      return out.length <= max;
    }
    const head = p.slice(0, group.start);
    const tail = p.slice(group.end + 1);
    for (const alternative of group.alternatives) {
      if (!expand(head + alternative + tail)) return false;
    }
    return true;
  };
  return expand(pattern) ? out : null;
}

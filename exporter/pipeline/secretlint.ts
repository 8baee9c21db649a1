import { lintSource } from "@secretlint/core";
import { secretLintProfiler } from "@secretlint/profiler";
import { rules as recommendedRules } from "@secretlint/secretlint-rule-preset-recommend";
import { type RedactionCounts, redactionMarker } from "./secrets.js";

/**
 * The second pass of the scrubber: secretlint's recommended preset, for the kinds of secret our own
 * patterns (secrets.ts) do not know. Secretlint costs about half a millisecond per call whatever the
 * input size, so texts are concatenated into batches of about a megabyte and each batch is linted once.
 */

/**
 * secretlint marks the start and end of every rule on every call in a process-wide profiler that keeps
 * each mark forever and scans all of them on each new one: the cost grows with the square of the calls
 * made in the process (a 100,000-message export spent a quarter of its secretlint time there), and the
 * marks are never freed. Nothing reads the profile, so marking is switched off.
 */
secretLintProfiler.mark = () => {};

// Types reached through lintSource, so this module depends only on the packages it imports.
type SecretLintCoreConfig = Parameters<typeof lintSource>[0]["options"]["config"];
type SecretLintCoreConfigRule = Extract<
  SecretLintCoreConfig["rules"][number],
  { options?: unknown; rules?: never }
>;

const RULE_PREFIX = "@secretlint/secretlint-rule-";
const COMMENT_FILTER = `${RULE_PREFIX}filter-comments`;

/**
 * The recommended preset's rules, registered one by one so that its comment filter can be left out (a
 * preset's `disabled` rule setting is not honoured by secretlint 12): a `secretlint-disable` comment
 * written inside a message must not hide the secrets after it from the export.
 */
const CONFIG: SecretLintCoreConfig = {
  rules: recommendedRules
    .filter((rule) => rule.meta.id !== COMMENT_FILTER)
    .map(
      (rule): SecretLintCoreConfigRule => ({
        id: rule.meta.id,
        rule: rule as SecretLintCoreConfigRule["rule"],
      }),
    ),
};

/** Texts are joined by a blank line, so a line-anchored pattern never joins the end of one to the next. */
const SEPARATOR = "\n\n";
const BATCH_CHARS = 1 << 20;
/** Characters a token is made of: a reported range grows over them to cover the whole token. */
const TOKEN_CHAR = /[A-Za-z0-9+/=_.-]/;
const MARKER = /\[REDACTED:[a-z0-9-]+\]/g;

/** The marker rule name for a secretlint rule id: `@secretlint/secretlint-rule-sendgrid` → `secretlint-sendgrid`. */
export function secretlintRuleName(ruleId: string): string {
  const short = ruleId.startsWith(RULE_PREFIX) ? ruleId.slice(RULE_PREFIX.length) : ruleId;
  return `secretlint-${short.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

/**
 * `texts` with every secret secretlint's recommended preset reports replaced by
 * `[REDACTED:secretlint-<rule>]` (each counted in `counts`); same length and order as `texts`. A report
 * overlapping a marker already in the text (our own pass found that secret) is ignored. A reported
 * range is widened to the whole token around it, because some rules report offsets that cover only
 * part of the secret.
 */
export async function secretlintRedact(texts: readonly string[], counts: RedactionCounts): Promise<string[]> {
  const out = [...texts];
  let first = 0;
  while (first < texts.length) {
    let end = first;
    let size = 0;
    while (end < texts.length && (end === first || size + (texts[end] as string).length <= BATCH_CHARS)) {
      size += (texts[end] as string).length + SEPARATOR.length;
      end++;
    }
    await redactBatch(texts, first, end, out, counts);
    first = end;
  }
  return out;
}

async function redactBatch(
  texts: readonly string[],
  first: number,
  end: number,
  out: string[],
  counts: RedactionCounts,
): Promise<void> {
  const starts: number[] = [];
  let offset = 0;
  for (let i = first; i < end; i++) {
    starts.push(offset);
    offset += (texts[i] as string).length + SEPARATOR.length;
  }
  const content = texts.slice(first, end).join(SEPARATOR);
  const result = await lintSource({
    source: { content, filePath: "pigeonhole-export.txt", ext: ".txt", contentType: "text" },
    options: { config: CONFIG, noPhysicFilePath: true, maskSecrets: true },
  });
  const hits = new Map<number, { from: number; to: number; rule: string }[]>();
  for (const message of result.messages) {
    if (message.type !== "message") continue;
    const [from, to] = message.range;
    const local = locate(starts, from);
    const base = starts[local] as number;
    const text = texts[first + local] as string;
    const range = widen(text, Math.max(0, from - base), Math.min(text.length, to - base));
    if (range.to <= range.from || overlapsMarker(text, range.from, range.to)) continue;
    const list = hits.get(first + local) ?? [];
    list.push({ ...range, rule: secretlintRuleName(message.ruleId) });
    hits.set(first + local, list);
  }
  for (const [index, list] of hits) {
    out[index] = applyRanges(texts[index] as string, list, counts);
  }
}

/** Index of the last start at or before `position` (binary search). */
function locate(starts: readonly number[], position: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function widen(text: string, from: number, to: number): { from: number; to: number } {
  let a = from;
  let b = to;
  while (a > 0 && TOKEN_CHAR.test(text[a - 1] as string)) a--;
  while (b < text.length && TOKEN_CHAR.test(text[b] as string)) b++;
  return { from: a, to: b };
}

function overlapsMarker(text: string, from: number, to: number): boolean {
  if (!text.includes("[REDACTED:")) return false;
  for (const match of text.matchAll(MARKER)) {
    const start = match.index ?? 0;
    if (start < to && start + match[0].length > from) return true;
  }
  return false;
}

/** Replace the union of `ranges` by markers, one per merged range. */
function applyRanges(
  text: string,
  ranges: { from: number; to: number; rule: string }[],
  counts: RedactionCounts,
): string {
  ranges.sort((x, y) => x.from - y.from);
  const merged: { from: number; to: number; rule: string }[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range.from <= last.to) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  let result = "";
  let cursor = 0;
  for (const range of merged) {
    counts.add(range.rule);
    result += text.slice(cursor, range.from) + redactionMarker(range.rule);
    cursor = range.to;
  }
  return result + text.slice(cursor);
}

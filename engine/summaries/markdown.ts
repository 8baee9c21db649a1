/**
 * Just enough Markdown structure for extractive summaries: which lines are prose (not fenced code, not
 * quoted mail), where inline code spans are, how prose groups into blocks and sentences. Deliberately
 * not a Markdown parser: the rules are few so that summaries stay predictable.
 */

/** A line (or a block of joined lines) of prose. */
export interface Prose {
  /** The text as written. */
  text: string;
  /** `text` with inline code spans blanked to spaces: same length, so positions line up with `text`. */
  masked: string;
}

/** A prose line; `null` marks a break (blank line, fenced code, quoted line). */
export type ProseLine = Prose | null;

/** A paragraph, list item or heading, with its list/heading marker removed. */
export interface Block extends Prose {
  /** The first source line of the block, marker included (action items are recognised on it). */
  firstLine: string;
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const QUOTE = /^ {0,3}>/;
const LIST_ITEM = /^\s*(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?/;
const HEADING = /^ {0,3}#{1,6}(?:\s+|$)/;

/** Blank out inline code spans (a run of n backticks up to the next run of exactly n) with spaces. */
export function maskCodeSpans(line: string): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    if (line[i] !== "`") {
      out += line[i];
      i++;
      continue;
    }
    let n = 0;
    while (line[i + n] === "`") n++;
    const close = findRun(line, i + n, n);
    if (close === -1) {
      // An unmatched run is literal text.
      out += line.slice(i, i + n);
      i += n;
    } else {
      out += " ".repeat(close + n - i);
      i = close + n;
    }
  }
  return out;
}

function findRun(line: string, from: number, n: number): number {
  let i = from;
  while (i < line.length) {
    if (line[i] !== "`") {
      i++;
      continue;
    }
    let m = 0;
    while (line[i + m] === "`") m++;
    if (m === n) return i;
    i += m;
  }
  return -1;
}

/**
 * The lines of `body` that are prose, in order. Fenced code blocks (``` or ~~~, closed by a fence of the
 * same character at least as long, or running to the end) and quoted lines (`>`, which repeat earlier
 * mail) become breaks, as do blank lines.
 */
export function proseLines(body: string): ProseLine[] {
  const out: ProseLine[] = [];
  let fence: { char: string; length: number } | null = null;
  for (const raw of body.split(/\r\n|\r|\n/)) {
    if (fence) {
      const close = raw.match(/^ {0,3}(`{3,}|~{3,})\s*$/);
      if (close?.[1] && close[1][0] === fence.char && close[1].length >= fence.length) fence = null;
      continue;
    }
    const open = raw.match(FENCE_OPEN);
    if (open?.[1] && !(open[1][0] === "`" && open[2]?.includes("`"))) {
      fence = { char: open[1][0] as string, length: open[1].length };
      out.push(null);
      continue;
    }
    if (raw.trim() === "" || QUOTE.test(raw)) {
      out.push(null);
      continue;
    }
    out.push({ text: raw, masked: maskCodeSpans(raw) });
  }
  return out;
}

/**
 * Group prose lines into blocks: each list item and each heading is a block of its own, and so is each
 * line `standalone` accepts (action items: one per line); an indented line continues a list item; other
 * consecutive lines join into a paragraph (with a space); breaks end a block.
 */
export function proseBlocks(body: string, standalone: (line: string) => boolean = () => false): Block[] {
  const blocks: (Block & { item: boolean })[] = [];
  let current: (Block & { item: boolean }) | null = null;
  for (const line of proseLines(body)) {
    if (line === null) {
      current = null;
      continue;
    }
    const item = line.text.match(LIST_ITEM);
    const marker = item ?? line.text.match(HEADING);
    const alone = standalone(line.text);
    const continues = current !== null && !marker && !alone && (!current.item || /^\s/.test(line.text));
    if (current && continues) {
      current.text += ` ${line.text.trim()}`;
      current.masked += ` ${line.masked.trim()}`;
      continue;
    }
    const cut = marker ? marker[0].length : 0;
    const block = {
      text: line.text.slice(cut),
      masked: line.masked.slice(cut),
      firstLine: line.text,
      item: !!item,
    };
    blocks.push(block);
    // Headings and standalone lines take no continuation.
    current = alone || (marker && !item) ? null : block;
  }
  return blocks.map(({ text, masked, firstLine }) => ({ text, masked, firstLine }));
}

/** A sentence's end: `.`/`!`/`?` (repeated), then closing quotes/brackets/emphasis, then space or the end. */
const SENTENCE_END = /[.!?]+[)"'\]*_]*(?=\s|$)/g;

/** A sentence of a block, with whether it asks a question (its final punctuation includes `?`). */
export interface Sentence {
  text: string;
  masked: string;
  question: boolean;
}

/** Split a block into sentences; punctuation inside code spans never ends one. */
export function sentences(block: Prose): Sentence[] {
  const out: Sentence[] = [];
  let start = 0;
  const push = (end: number, terminator: string) => {
    const text = block.text.slice(start, end).trim();
    if (text !== "") {
      out.push({ text, masked: block.masked.slice(start, end).trim(), question: terminator.includes("?") });
    }
    start = end;
  };
  for (const m of block.masked.matchAll(SENTENCE_END)) push(m.index + m[0].length, m[0]);
  push(block.text.length, "");
  return out;
}

/** Collapse whitespace and cut to at most `max` UTF-16 units (ending with "…" when cut). */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  let end = max - 1;
  // Never leave half of a surrogate pair (an emoji, say) before the ellipsis.
  const last = flat.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${flat.slice(0, end).trimEnd()}…`;
}

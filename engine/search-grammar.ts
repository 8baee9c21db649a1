/**
 * The search query language that agents (engine/search-query.ts, FTS5) and the bundle viewer
 * (viewer/src/lib/fts4-query.ts, FTS4 in sql.js) both accept. This module owns the language: its tokens,
 * its grammar, its error messages and their positions, and the syntax help. Each side only writes the
 * parsed query in its own MATCH dialect. The viewer bundles this file for the browser, so it imports
 * nothing and does no I/O.
 *
 * Grammar (precedence: NOT binds tightest, then AND, then OR):
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := clause (["AND"] clause)*          -- AND is implied between adjacent clauses
 *   clause  := ("NOT" | "-") primary | primary
 *   primary := "(" or ")" | '"' phrase '"' ["*"] | word["*"]
 * Keywords are upper case only; `and`, `or`, `not` are ordinary words.
 */

/** A word or phrase to search for; `prefix` when it ended with `*`. */
export type SearchTerm = { kind: "term"; text: string; prefix: boolean };

/** A parsed query. `and` keeps its excluded clauses apart because FTS's NOT is binary (`a NOT b`). */
export type SearchNode =
  | SearchTerm
  | { kind: "and"; include: SearchNode[]; exclude: SearchNode[] }
  | { kind: "or"; items: SearchNode[] };

/** The syntax summary that ends every query error, so the user can fix the query in one go. */
export const SEARCH_SYNTAX_HELP =
  'Supported syntax: words (all must match), "exact phrases", prefix* (e.g. deploy*), OR between ' +
  "alternatives, NOT word or -word to exclude, parentheses to group, e.g. (build OR deploy) failed -staging. " +
  "AND, OR and NOT are keywords only in upper case. Put text with quotes or parentheses inside double quotes.";

/** Deeper nesting than this is refused: no real query needs it, and FTS limits expression depth. */
export const MAX_SEARCH_DEPTH = 32;

/**
 * A query the user must fix. `message` is `problem (at character N). SEARCH_SYNTAX_HELP`; `position` is
 * that N, 1-based, the character where the problem starts.
 */
export class SearchQueryError extends Error {
  override name = "SearchQueryError";
  readonly problem: string;
  readonly position: number | undefined;

  constructor(problem: string, at: number | undefined) {
    const where = at === undefined ? "" : ` (at character ${at + 1})`;
    super(`${problem}${where}. ${SEARCH_SYNTAX_HELP}`);
    this.problem = problem;
    this.position = at === undefined ? undefined : at + 1;
  }
}

/** Characters the unicode61 tokenizer indexes (letters, numbers, private use); all else separates tokens. */
const UNSEARCHABLE_RUN = /[^\p{L}\p{N}\p{Co}]+/gu;

/**
 * `text` with every run of characters the index does not hold (punctuation, symbols, spaces) turned into
 * one space, trimmed: the words the search index sees. Empty when nothing in `text` is searchable.
 */
export function searchableText(text: string): string {
  return text.replace(UNSEARCHABLE_RUN, " ").trim();
}

/**
 * Parse a search query. Returns null when it holds nothing searchable (blank, or only punctuation such as
 * `&&`): such a query matches no message. Otherwise the tree holds only terms with something searchable,
 * and nested groups of one operator are flattened. Throws SearchQueryError naming what is wrong and
 * where, for unbalanced quotes or parentheses, a dangling or misplaced operator, empty parentheses,
 * nesting deeper than MAX_SEARCH_DEPTH, or a query (or OR-branch) that only excludes.
 */
export function parseSearchQuery(query: string): SearchNode | null {
  const tokens = tokenize(query);
  if (tokens.length === 0) return null;
  return prune(new Parser(tokens).parse());
}

/**
 * Write a parsed query as a MATCH expression with AND, OR, binary NOT and parentheses, the syntax FTS5
 * and FTS4's enhanced query syntax share; `term` writes one term in the target's own quoting. Every
 * compound operand is parenthesized, so the target's operator precedence never matters.
 */
export function renderMatch(node: SearchNode, term: (term: SearchTerm) => string): string {
  const operand = (child: SearchNode): string =>
    child.kind === "term" ? term(child) : `(${renderMatch(child, term)})`;
  if (node.kind === "term") return term(node);
  if (node.kind === "or") return node.items.map(operand).join(" OR ");
  const included = node.include.map(operand).join(" AND ");
  if (node.exclude.length === 0) return included;
  const base = node.include.length === 1 ? included : `(${included})`;
  const excluded =
    node.exclude.length === 1
      ? operand(node.exclude[0] as SearchNode)
      : `(${node.exclude.map(operand).join(" OR ")})`;
  return `${base} NOT ${excluded}`;
}

type Token =
  | { type: "word" | "phrase"; text: string; prefix: boolean; at: number }
  | { type: "open" | "close" | "and" | "or" | "not" | "minus"; at: number };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(") {
      tokens.push({ type: "open", at: i++ });
    } else if (c === ")") {
      tokens.push({ type: "close", at: i++ });
    } else if (c === '"') {
      const end = query.indexOf('"', i + 1);
      if (end === -1) throw new SearchQueryError("a double quote opens a phrase that is never closed", i);
      const prefix = query[end + 1] === "*";
      tokens.push({ type: "phrase", text: query.slice(i + 1, end), prefix, at: i });
      i = end + (prefix ? 2 : 1);
    } else if (c === "-" && /["(\p{L}\p{N}]/u.test(query[i + 1] ?? "")) {
      // `-word` excludes; `--force` or a lone `-` stay text because the next character is not a start.
      tokens.push({ type: "minus", at: i++ });
    } else {
      const start = i;
      while (i < query.length && !/[\s()"]/.test(query[i] as string)) i++;
      const raw = query.slice(start, i);
      if (raw === "AND" || raw === "OR" || raw === "NOT") {
        tokens.push({ type: raw === "AND" ? "and" : raw === "OR" ? "or" : "not", at: start });
      } else {
        const text = raw.replace(/\*+$/, "");
        if (text === "") {
          throw new SearchQueryError(
            'a * must follow a word or a phrase, as in deploy* or "build fail"*',
            start,
          );
        }
        tokens.push({ type: "word", text, prefix: text !== raw, at: start });
      }
    }
  }
  return tokens;
}

/** How an error message names a token that is not text. */
const NAME: Record<string, string> = {
  and: "AND",
  or: "OR",
  not: "NOT",
  minus: "-",
  close: "a closing parenthesis",
};

const OPERAND_START = new Set<Token["type"]>(["word", "phrase", "open", "not", "minus"]);

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): SearchNode {
    const node = this.parseOr();
    const extra = this.peek();
    if (extra) throw new SearchQueryError("a closing parenthesis has no matching opening one", extra.at);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private expectOperandAfter(op: Token): void {
    const next = this.peek();
    if (next && OPERAND_START.has(next.type)) return;
    const what = next ? `is followed by ${NAME[next.type]}` : "ends the query";
    throw new SearchQueryError(`${NAME[op.type]} ${what}; it needs a word, phrase or group after it`, op.at);
  }

  private parseOr(): SearchNode {
    const first = this.peek();
    if (first?.type === "or" || first?.type === "and") {
      const op = NAME[first.type];
      throw new SearchQueryError(
        `${op} has nothing before it; it joins two terms, as in a ${op} b`,
        first.at,
      );
    }
    const items = [this.parseAnd()];
    for (let op = this.peek(); op?.type === "or"; op = this.peek()) {
      this.pos++;
      this.expectOperandAfter(op);
      items.push(this.parseAnd());
    }
    return items.length === 1 ? (items[0] as SearchNode) : { kind: "or", items };
  }

  private parseAnd(): SearchNode {
    const start = this.peek();
    if (start?.type === "close") {
      throw new SearchQueryError("a closing parenthesis has no matching opening one", start.at);
    }
    const include: SearchNode[] = [];
    const exclude: SearchNode[] = [];
    for (
      let token = this.peek();
      token && token.type !== "or" && token.type !== "close";
      token = this.peek()
    ) {
      if (token.type === "and") {
        this.pos++;
        this.expectOperandAfter(token);
      } else if (token.type === "not" || token.type === "minus") {
        this.pos++;
        const next = this.peek();
        if (next?.type === "not" || next?.type === "minus") {
          throw new SearchQueryError(
            `${NAME[token.type]} is followed by another exclusion; exclude a word, phrase or group`,
            token.at,
          );
        }
        this.expectOperandAfter(token);
        exclude.push(this.parsePrimary());
      } else {
        include.push(this.parsePrimary());
      }
    }
    if (include.length === 0) {
      throw new SearchQueryError(
        "only excluded terms; NOT and -word remove matches from something, so add a word to search for, as in deploy NOT staging",
        start?.at,
      );
    }
    return include.length === 1 && exclude.length === 0
      ? (include[0] as SearchNode)
      : { kind: "and", include, exclude };
  }

  private parsePrimary(): SearchNode {
    const token = this.peek() as Token;
    this.pos++;
    if (token.type === "word" || token.type === "phrase") {
      return { kind: "term", text: token.text, prefix: token.prefix };
    }
    // Only "open" reaches here: callers check for an operand start and handle NOT/- themselves.
    const next = this.peek();
    if (next === undefined) throw new SearchQueryError("an opening parenthesis is never closed", token.at);
    if (next.type === "close") {
      throw new SearchQueryError(
        'empty parentheses; to search for text with parentheses, quote it, as in "f()"',
        token.at,
      );
    }
    if (++this.depth > MAX_SEARCH_DEPTH) {
      throw new SearchQueryError(`parentheses nested deeper than ${MAX_SEARCH_DEPTH}`, token.at);
    }
    const inner = this.parseOr();
    if (this.peek()?.type !== "close") {
      throw new SearchQueryError("an opening parenthesis is never closed", token.at);
    }
    this.pos++;
    this.depth--;
    return inner;
  }
}

/**
 * Drop terms with nothing the tokenizer indexes (`&&`, a lone `-`): they are ignored like stop words, so
 * `C++ & Rust` means C++ AND Rust. A group left with no included term matches nothing and disappears.
 * Nested groups of the same operator are flattened, which keeps the MATCH expression shallow.
 */
function prune(node: SearchNode): SearchNode | null {
  if (node.kind === "term") return searchableText(node.text) === "" ? null : node;
  if (node.kind === "or") {
    const items = node.items
      .map(prune)
      .filter((n) => n !== null)
      .flatMap((n) => (n.kind === "or" ? n.items : [n]));
    return items.length === 0 ? null : items.length === 1 ? (items[0] as SearchNode) : { kind: "or", items };
  }
  const include: SearchNode[] = [];
  const exclude = node.exclude.map(prune).filter((n) => n !== null);
  for (const child of node.include.map(prune)) {
    if (child?.kind === "and") {
      include.push(...child.include);
      exclude.push(...child.exclude);
    } else if (child) {
      include.push(child);
    }
  }
  if (include.length === 0) return null;
  return include.length === 1 && exclude.length === 0
    ? (include[0] as SearchNode)
    : { kind: "and", include, exclude };
}

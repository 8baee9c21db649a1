import { fail } from "./errors.js";

/**
 * The search query language, parsed by us and re-emitted as an FTS5 expression in which every term is a
 * double-quoted string. User text never reaches FTS5's own grammar, so column filters (`subject:`),
 * `NEAR`, `^`, `+` and punctuation inside words (`foo-bar`, `a.b`, `C++`, `user@example.com`) are plain
 * text to search for, never syntax errors or surprises.
 *
 * Grammar (precedence: NOT binds tightest, then AND, then OR):
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := clause (["AND"] clause)*          -- AND is implied between adjacent clauses
 *   clause  := ("NOT" | "-") primary | primary
 *   primary := "(" or ")" | '"' phrase '"' ["*"] | word["*"]
 * Keywords are upper case only; `and`, `or`, `not` are ordinary words.
 */

/** A parsed query. `and` keeps its excluded clauses apart because FTS5's NOT is binary (`a NOT b`). */
type QueryNode =
  | { kind: "term"; text: string; prefix: boolean }
  | { kind: "and"; include: QueryNode[]; exclude: QueryNode[] }
  | { kind: "or"; items: QueryNode[] };

/** The syntax summary appended to every query error, so the caller can fix the query in one go. */
export const SEARCH_SYNTAX_HELP =
  'Supported syntax: words (all must match), "exact phrases", prefix* (e.g. deploy*), OR between ' +
  "alternatives, NOT word or -word to exclude, parentheses to group, e.g. (build OR deploy) failed -staging. " +
  "AND, OR and NOT are keywords only in upper case. Put text with quotes or parentheses inside double quotes.";

/** Deeper nesting than this is refused: no real query needs it, and FTS5 limits expression depth. */
const MAX_DEPTH = 32;

/** Characters the unicode61 tokenizer indexes (letters, numbers, private use); all else separates tokens. */
const SEARCHABLE = /[\p{L}\p{N}\p{Co}]/u;

type Token =
  | { type: "word"; text: string; prefix: boolean; at: number }
  | { type: "phrase"; text: string; prefix: boolean; at: number }
  | { type: "open" | "close" | "and" | "or" | "not" | "minus"; at: number };

/**
 * Turn a search query into a safe FTS5 MATCH expression, or null when it holds nothing searchable
 * (blank, or only punctuation such as `&&`): such a query matches no message. Throws INVALID_ARGUMENT
 * naming what is wrong, where, and the supported syntax, for unbalanced quotes or parentheses, a
 * dangling or misplaced operator, empty parentheses, or a query (or OR-branch) that only excludes.
 */
export function toFtsQuery(query: string): string | null {
  const tokens = tokenize(query);
  if (tokens.length === 0) return null;
  const tree = new Parser(query, tokens).parse();
  const pruned = prune(tree);
  return pruned === null ? null : emit(pruned);
}

function invalid(problem: string, query: string, at?: number): never {
  const where = at === undefined ? "" : ` (at character ${at + 1})`;
  throw fail.invalid(`Invalid search query: ${problem}${where}. ${SEARCH_SYNTAX_HELP}`, {
    query,
    ...(at === undefined ? {} : { position: at + 1 }),
  });
}

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
      if (end === -1) invalid("a double quote opens a phrase that is never closed", query, i);
      const prefix = query[end + 1] === "*";
      tokens.push({ type: "phrase", text: query.slice(i + 1, end), prefix, at: i });
      i = end + (prefix ? 2 : 1);
    } else if (c === "-" && i + 1 < query.length && /["(\p{L}\p{N}]/u.test(query[i + 1] as string)) {
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
        if (text === "")
          invalid('a * must follow a word or a phrase, as in deploy* or "build fail"*', query, start);
        tokens.push({ type: "word", text, prefix: text !== raw, at: start });
      }
    }
  }
  return tokens;
}

const KEYWORD: Record<string, string> = { and: "AND", or: "OR", not: "NOT", minus: "-" };

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly query: string,
    private readonly tokens: Token[],
  ) {}

  parse(): QueryNode {
    const node = this.parseOr();
    const extra = this.peek();
    if (extra) invalid("a closing parenthesis has no matching opening one", this.query, extra.at);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private startsOperand(token: Token | undefined): boolean {
    return token !== undefined && ["word", "phrase", "open", "not", "minus"].includes(token.type);
  }

  private expectOperandAfter(op: Token): void {
    const next = this.peek();
    if (this.startsOperand(next)) return;
    const what = next ? `is followed by ${describe(next)}` : "ends the query";
    invalid(`${KEYWORD[op.type]} ${what}; it needs a word, phrase or group after it`, this.query, op.at);
  }

  private parseOr(): QueryNode {
    const first = this.peek();
    if (first?.type === "or" || first?.type === "and") {
      invalid(
        `${KEYWORD[first.type]} has nothing before it; it joins two terms, as in a ${KEYWORD[first.type]} b`,
        this.query,
        first.at,
      );
    }
    const items = [this.parseAnd()];
    while (this.peek()?.type === "or") {
      const op = this.peek() as Token;
      this.pos++;
      this.expectOperandAfter(op);
      items.push(this.parseAnd());
    }
    return items.length === 1 ? (items[0] as QueryNode) : { kind: "or", items };
  }

  private parseAnd(): QueryNode {
    const start = this.peek();
    if (start?.type === "close")
      invalid("a closing parenthesis has no matching opening one", this.query, start.at);
    const include: QueryNode[] = [];
    const exclude: QueryNode[] = [];
    for (
      let token = this.peek();
      token && token.type !== "or" && token.type !== "close";
      token = this.peek()
    ) {
      if (token.type === "and") {
        this.pos++;
        this.expectOperandAfter(token);
        continue;
      }
      if (token.type === "not" || token.type === "minus") {
        this.pos++;
        const next = this.peek();
        if (next?.type === "not" || next?.type === "minus") {
          invalid(
            `${KEYWORD[token.type]} is followed by another exclusion; exclude a word, phrase or group`,
            this.query,
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
      invalid(
        "only excluded terms; NOT and -word remove matches from something, so add a word to search for, as in deploy NOT staging",
        this.query,
        start?.at,
      );
    }
    return include.length === 1 && exclude.length === 0
      ? (include[0] as QueryNode)
      : { kind: "and", include, exclude };
  }

  private parsePrimary(): QueryNode {
    const token = this.peek() as Token;
    this.pos++;
    if (token.type === "word" || token.type === "phrase") {
      return { kind: "term", text: token.text, prefix: token.prefix };
    }
    // Only "open" reaches here: callers check startsOperand and handle NOT/- themselves.
    if (this.peek() === undefined) invalid("an opening parenthesis is never closed", this.query, token.at);
    if (this.peek()?.type === "close") {
      invalid(
        'empty parentheses; to search for text with parentheses, quote it, as in "f()"',
        this.query,
        token.at,
      );
    }
    if (++this.depth > MAX_DEPTH)
      invalid(`parentheses nested deeper than ${MAX_DEPTH}`, this.query, token.at);
    const inner = this.parseOr();
    if (this.peek()?.type !== "close")
      invalid("an opening parenthesis is never closed", this.query, token.at);
    this.pos++;
    this.depth--;
    return inner;
  }
}

function describe(token: Token): string {
  if (token.type === "close") return "a closing parenthesis";
  return KEYWORD[token.type] ?? "text";
}

/**
 * Drop terms with nothing the tokenizer indexes (`&&`, a lone `-`): they are ignored like stop words, so
 * `C++ & Rust` means C++ AND Rust. A group left with no included term matches nothing and disappears.
 * Nested groups of the same operator are flattened, which keeps the FTS5 expression shallow.
 */
function prune(node: QueryNode): QueryNode | null {
  if (node.kind === "term") return SEARCHABLE.test(node.text) ? node : null;
  if (node.kind === "or") {
    const items = node.items.map(prune).filter((n) => n !== null);
    const flat = items.flatMap((n) => (n.kind === "or" ? n.items : [n]));
    return flat.length === 0
      ? null
      : flat.length === 1
        ? (flat[0] as QueryNode)
        : { kind: "or", items: flat };
  }
  const include: QueryNode[] = [];
  const exclude = node.exclude.map(prune).filter((n) => n !== null);
  for (const child of node.include.map(prune)) {
    if (child === null) continue;
    if (child.kind === "and") {
      include.push(...child.include);
      exclude.push(...child.exclude);
    } else {
      include.push(child);
    }
  }
  if (include.length === 0) return null;
  if (include.length === 1 && exclude.length === 0) return include[0] as QueryNode;
  return { kind: "and", include, exclude };
}

/** FTS5 string literal: double quotes, with any quote inside doubled. */
function quote(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

function emit(node: QueryNode): string {
  if (node.kind === "term") return quote(node.text) + (node.prefix ? " *" : "");
  if (node.kind === "or") return node.items.map(operand).join(" OR ");
  const included =
    node.include.length === 1
      ? operand(node.include[0] as QueryNode)
      : node.include.map(operand).join(" AND ");
  if (node.exclude.length === 0) return included;
  const base = node.include.length === 1 ? included : `(${included})`;
  const excluded =
    node.exclude.length === 1
      ? operand(node.exclude[0] as QueryNode)
      : `(${node.exclude.map(operand).join(" OR ")})`;
  return `${base} NOT ${excluded}`;
}

/** An operand of a binary operator: compound expressions are parenthesized, so precedence never matters. */
function operand(node: QueryNode): string {
  return node.kind === "term" ? emit(node) : `(${emit(node)})`;
}

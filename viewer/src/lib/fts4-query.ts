/**
 * The search language of the viewer, the same one agents use (engine/search-query.ts), re-emitted for
 * sql.js's FTS4 with the enhanced query syntax (sql.js is built with SQLITE_ENABLE_FTS3_PARENTHESIS, so
 * AND, OR, NOT and parentheses work). Every term is emitted as a double-quoted phrase stripped of the
 * characters the tokenizer drops, so user text never reaches FTS4's grammar as syntax.
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := clause (["AND"] clause)*          -- AND is implied between adjacent clauses
 *   clause  := ("NOT" | "-") primary | primary
 *   primary := "(" or ")" | '"' phrase '"' ["*"] | word["*"]
 *
 * Keywords are upper case only; `and`, `or`, `not` are ordinary words.
 */

/** A query the user must fix; `message` says what and where, and ends with the syntax summary. */
export class SearchQueryError extends Error {}

export const SEARCH_SYNTAX_HELP =
  'Use words (all must match), "exact phrases", prefix* (deploy*), OR between alternatives, NOT word or ' +
  "-word to exclude, and parentheses to group, e.g. (build OR deploy) failed -staging.";

type Node =
  | { kind: "term"; text: string; prefix: boolean }
  | { kind: "and"; include: Node[]; exclude: Node[] }
  | { kind: "or"; items: Node[] };

type Token =
  | { type: "word" | "phrase"; text: string; prefix: boolean; at: number }
  | { type: "open" | "close" | "and" | "or" | "not" | "minus"; at: number };

const MAX_DEPTH = 32;
/** What unicode61 indexes; everything else separates tokens. */
const NOT_SEARCHABLE = /[^\p{L}\p{N}\p{Co}]+/gu;

function invalid(problem: string, at?: number): never {
  const where = at === undefined ? "" : ` (at character ${at + 1})`;
  throw new SearchQueryError(`${problem}${where}. ${SEARCH_SYNTAX_HELP}`);
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) i++;
    else if (c === "(") tokens.push({ type: "open", at: i++ });
    else if (c === ")") tokens.push({ type: "close", at: i++ });
    else if (c === '"') {
      const end = query.indexOf('"', i + 1);
      if (end === -1) invalid("a double quote opens a phrase that is never closed", i);
      const prefix = query[end + 1] === "*";
      tokens.push({ type: "phrase", text: query.slice(i + 1, end), prefix, at: i });
      i = end + (prefix ? 2 : 1);
    } else if (c === "-" && /["(\p{L}\p{N}]/u.test(query[i + 1] ?? "")) {
      tokens.push({ type: "minus", at: i++ });
    } else {
      const start = i;
      while (i < query.length && !/[\s()"]/.test(query[i] as string)) i++;
      const raw = query.slice(start, i);
      if (raw === "AND" || raw === "OR" || raw === "NOT") {
        tokens.push({ type: raw === "AND" ? "and" : raw === "OR" ? "or" : "not", at: start });
      } else {
        const text = raw.replace(/\*+$/, "");
        if (text === "") invalid('a * must follow a word or a phrase, as in deploy* or "build fail"*', start);
        tokens.push({ type: "word", text, prefix: text !== raw, at: start });
      }
    }
  }
  return tokens;
}

const NAME: Record<string, string> = {
  and: "AND",
  or: "OR",
  not: "NOT",
  minus: "-",
  close: "a closing parenthesis",
};

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or();
    const extra = this.tokens[this.pos];
    if (extra) invalid("a closing parenthesis has no matching opening one", extra.at);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private needOperand(op: Token): void {
    const next = this.peek();
    if (next && ["word", "phrase", "open", "not", "minus"].includes(next.type)) return;
    const what = next ? `is followed by ${NAME[next.type]}` : "ends the query";
    invalid(`${NAME[op.type]} ${what}; it needs a word, phrase or group after it`, op.at);
  }

  private or(): Node {
    const first = this.peek();
    if (first?.type === "or" || first?.type === "and")
      invalid(`${NAME[first.type]} has nothing before it`, first.at);
    const items = [this.and()];
    while (this.peek()?.type === "or") {
      const op = this.tokens[this.pos++] as Token;
      this.needOperand(op);
      items.push(this.and());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: "or", items };
  }

  private and(): Node {
    const start = this.peek();
    if (start?.type === "close") invalid("a closing parenthesis has no matching opening one", start.at);
    const include: Node[] = [];
    const exclude: Node[] = [];
    for (let t = this.peek(); t && t.type !== "or" && t.type !== "close"; t = this.peek()) {
      if (t.type === "and") {
        this.pos++;
        this.needOperand(t);
      } else if (t.type === "not" || t.type === "minus") {
        this.pos++;
        const next = this.peek();
        if (next?.type === "not" || next?.type === "minus")
          invalid(`${NAME[t.type]} is followed by another exclusion`, t.at);
        this.needOperand(t);
        exclude.push(this.primary());
      } else {
        include.push(this.primary());
      }
    }
    if (include.length === 0) {
      invalid("only excluded terms; add a word to search for, as in deploy NOT staging", start?.at);
    }
    return include.length === 1 && exclude.length === 0
      ? (include[0] as Node)
      : { kind: "and", include, exclude };
  }

  private primary(): Node {
    const t = this.tokens[this.pos++] as Token;
    if (t.type === "word" || t.type === "phrase") return { kind: "term", text: t.text, prefix: t.prefix };
    if (this.peek() === undefined) invalid("an opening parenthesis is never closed", t.at);
    if (this.peek()?.type === "close") invalid('empty parentheses; to search for "f()", quote it', t.at);
    if (++this.depth > MAX_DEPTH) invalid(`parentheses nested deeper than ${MAX_DEPTH}`, t.at);
    const inner = this.or();
    if (this.peek()?.type !== "close") invalid("an opening parenthesis is never closed", t.at);
    this.pos++;
    this.depth--;
    return inner;
  }
}

/** Drop terms with nothing searchable (`&&`, a lone `-`) and flatten nested groups of one operator. */
function prune(node: Node): Node | null {
  if (node.kind === "term") {
    const text = node.text.replace(NOT_SEARCHABLE, " ").trim();
    return text === "" ? null : { ...node, text };
  }
  if (node.kind === "or") {
    const items = node.items
      .map(prune)
      .filter((n) => n !== null)
      .flatMap((n) => (n.kind === "or" ? n.items : [n]));
    return items.length === 0 ? null : items.length === 1 ? (items[0] as Node) : { kind: "or", items };
  }
  const include: Node[] = [];
  const exclude = node.exclude.map(prune).filter((n) => n !== null);
  for (const child of node.include.map(prune)) {
    if (child?.kind === "and") {
      include.push(...child.include);
      exclude.push(...child.exclude);
    } else if (child) include.push(child);
  }
  if (include.length === 0) return null;
  return include.length === 1 && exclude.length === 0
    ? (include[0] as Node)
    : { kind: "and", include, exclude };
}

function emit(node: Node): string {
  if (node.kind === "term") return `"${node.text}${node.prefix ? "*" : ""}"`;
  if (node.kind === "or") return node.items.map(operand).join(" OR ");
  const included = node.include.map(operand).join(" AND ");
  if (node.exclude.length === 0) return included;
  const base = node.include.length === 1 ? included : `(${included})`;
  const excluded =
    node.exclude.length === 1
      ? operand(node.exclude[0] as Node)
      : `(${node.exclude.map(operand).join(" OR ")})`;
  return `${base} NOT ${excluded}`;
}

function operand(node: Node): string {
  return node.kind === "term" ? emit(node) : `(${emit(node)})`;
}

/**
 * Turn a search query into a safe FTS4 MATCH expression, or null when it holds nothing searchable (it
 * then matches no message). Throws SearchQueryError for unbalanced quotes or parentheses, a dangling
 * operator, empty parentheses, or a query (or OR-branch) that only excludes.
 */
export function toFts4Query(query: string): string | null {
  const tokens = tokenize(query);
  if (tokens.length === 0) return null;
  const pruned = prune(new Parser(tokens).parse());
  return pruned === null ? null : emit(pruned);
}

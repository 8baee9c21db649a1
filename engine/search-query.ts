import { fail } from "./errors.js";
import {
  parseSearchQuery,
  renderMatch,
  SEARCH_SYNTAX_HELP,
  type SearchNode,
  SearchQueryError,
  type SearchTerm,
} from "./search-grammar.js";

/**
 * The search query language (engine/search-grammar.ts) re-emitted as an FTS5 expression in which every
 * term is a double-quoted string. User text never reaches FTS5's own grammar, so column filters
 * (`subject:`), `NEAR`, `^`, `+` and punctuation inside words (`foo-bar`, `a.b`, `C++`,
 * `user@example.com`) are plain text to search for, never syntax errors or surprises.
 */

export { SEARCH_SYNTAX_HELP };

/**
 * Turn a search query into a safe FTS5 MATCH expression, or null when it holds nothing searchable
 * (blank, or only punctuation such as `&&`): such a query matches no message. Throws INVALID_ARGUMENT
 * naming what is wrong, where (`data.position`, 1-based), and the supported syntax, for unbalanced quotes
 * or parentheses, a dangling or misplaced operator, empty parentheses, or a query (or OR-branch) that
 * only excludes.
 */
export function toFtsQuery(query: string): string | null {
  let tree: SearchNode | null;
  try {
    tree = parseSearchQuery(query);
  } catch (error) {
    if (!(error instanceof SearchQueryError)) throw error;
    throw fail.invalid(`Invalid search query: ${error.message}`, {
      query,
      ...(error.position === undefined ? {} : { position: error.position }),
    });
  }
  return tree === null ? null : renderMatch(tree, fts5Term);
}

/** An FTS5 string literal (double quotes, any quote inside doubled), then ` *` for a prefix search. */
function fts5Term(term: SearchTerm): string {
  return `"${term.text.replaceAll('"', '""')}"${term.prefix ? " *" : ""}`;
}

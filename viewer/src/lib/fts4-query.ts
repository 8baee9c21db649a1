import {
  parseSearchQuery,
  renderMatch,
  SearchQueryError,
  type SearchTerm,
  searchableText,
} from "../../../engine/search-grammar.js";

/**
 * The search language agents use (engine/search-grammar.ts), re-emitted for sql.js's FTS4 with the
 * enhanced query syntax (sql.js is built with SQLITE_ENABLE_FTS3_PARENTHESIS, so AND, OR, NOT and
 * parentheses work). Every term is emitted as a double-quoted phrase stripped of the characters the
 * tokenizer drops, so user text never reaches FTS4's grammar as syntax.
 */

/** A query the user must fix; `message` says what and where, and ends with the syntax summary. */
export { SearchQueryError };

/**
 * Turn a search query into a safe FTS4 MATCH expression, or null when it holds nothing searchable (it
 * then matches no message). Throws SearchQueryError for unbalanced quotes or parentheses, a dangling
 * operator, empty parentheses, or a query (or OR-branch) that only excludes.
 */
export function toFts4Query(query: string): string | null {
  const tree = parseSearchQuery(query);
  return tree === null ? null : renderMatch(tree, fts4Term);
}

/**
 * FTS4 has no escape inside a phrase and reads `*` there as a prefix mark, so a term keeps only the words
 * the tokenizer sees; a prefix search puts the `*` inside the quotes, after the last word.
 */
function fts4Term(term: SearchTerm): string {
  return `"${searchableText(term.text)}${term.prefix ? "*" : ""}"`;
}

import { z } from "zod";
import { fail } from "./errors.js";
import { LIMITS } from "./limits.js";
import type { Mailbox } from "./mailbox.js";
import { VISIBLE_TO_VIEWER_SQL } from "./messages/access.js";
import { MESSAGE_COLUMNS, type MessageRow, shapeMessages } from "./messages/shape.js";
import { resolveViewer } from "./messages/viewer.js";
import { resolveProject } from "./projects.js";
import { SEARCH_SYNTAX_HELP, toFtsQuery } from "./search-query.js";
import type { Importance } from "./validate.js";
import { FetchLimit, ProjectKey, parseInput } from "./validate.js";

export const SearchMessagesInput = z.object({
  project_key: ProjectKey,
  query: z
    .string()
    .max(LIMITS.searchQueryChars)
    .describe('Words (all must match), "phrases", prefix*, OR, NOT or -word, (groups)'),
  limit: FetchLimit(20),
  agent_name: z.string().min(1).optional().describe("Search only what this agent sent or received"),
});
export type SearchMessagesInput = z.input<typeof SearchMessagesInput>;

/** One search hit: the message's header as the viewer sees it, where it matched, and how well. */
export interface SearchHit {
  id: number;
  subject: string;
  importance: Importance;
  ack_required: boolean;
  created_ts: string;
  thread_id: string | null;
  topic: string | null;
  from: string;
  to: string[];
  cc: string[];
  /** Only the BCC names this viewer may see (all for the sender, their own for a BCC recipient). */
  bcc: string[];
  /** Body text around the match (the subject when only the subject matched), hits marked `**like this**`. */
  snippet: string;
  /** bm25 relevance as SQLite computes it: lower (more negative) is a better match. */
  rank: number;
}

/** How much more a hit in the subject counts than one in the body (bm25 column weights). */
const SUBJECT_WEIGHT = 5;
/** Context around a hit, in tokens (FTS5 allows at most 64). */
const SNIPPET_TOKENS = 24;
// snippet() marks hits with control characters that message text practically never contains, so the body
// snippet can be told apart from one without any hit; both become `**` before leaving the engine.
const OPEN = "\u0002";
const CLOSE = "\u0003";

type HitRow = MessageRow & { score: number; body_snippet: string; subject_snippet: string };

/**
 * The search statement. `ORDER BY rank` (with the weights set through `rank MATCH`) is consumed by FTS5
 * itself, so the join walks hits best-first and stops at LIMIT: each hit costs primary-key probes of
 * messages (and message_recipients for a viewer), and snippets are built only for the rows returned.
 * Ordering by an expression such as bm25() instead would join and sort every match first.
 */
export function searchSql(forViewer: boolean): string {
  const snippet = (column: number) =>
    `snippet(messages_fts, ${column}, '${OPEN}', '${CLOSE}', '…', ${SNIPPET_TOKENS})`;
  return `SELECT ${MESSAGE_COLUMNS}, messages_fts.rank AS score,
       ${snippet(1)} AS body_snippet, ${snippet(0)} AS subject_snippet
     FROM messages_fts
     JOIN messages m ON m.id = messages_fts.rowid
     JOIN agents s ON s.id = m.sender_id
     WHERE messages_fts MATCH @match AND messages_fts.rank MATCH 'bm25(${SUBJECT_WEIGHT}, 1)'
       AND ${forViewer ? VISIBLE_TO_VIEWER_SQL : "m.project_id = @project"}
     ORDER BY messages_fts.rank LIMIT @limit`;
}

/**
 * Full-text search over subject and body (syntax: `SEARCH_SYNTAX_HELP`), best match first by bm25 with
 * the subject weighted above the body. With `agent_name`, only mail that agent sent or received, in any
 * project (as its inbox and outbox show it); without, every message of the project in the operator view,
 * where no BCC name is shown. Visibility is part of the SQL, so `limit` hits are returned whenever that
 * many visible messages match. A blank or punctuation-only query returns no hit; a malformed one throws
 * INVALID_ARGUMENT naming the problem and the syntax; a query over `LIMITS.searchQueryChars` throws
 * TOO_LARGE; an unknown project or agent, NOT_FOUND.
 */
export function searchMessages(mb: Mailbox, input: SearchMessagesInput): { result: SearchHit[] } {
  const args = parseInput(SearchMessagesInput, input);
  const project = resolveProject(mb, args.project_key);
  const viewer = resolveViewer(mb, project, args.agent_name);
  const match = toFtsQuery(args.query);
  if (match === null) return { result: [] };
  const rows = runFts(() =>
    mb
      .statement<HitRow>(searchSql(viewer !== null))
      .all({ match, project: project.id, viewer: viewer?.id ?? null, limit: args.limit }),
  );
  const views = shapeMessages(mb, rows, { viewer: viewer?.name ?? null, includeBodies: false });
  return {
    result: views.map((view, i) => {
      const row = rows[i] as HitRow;
      return {
        id: view.id,
        subject: view.subject,
        importance: view.importance,
        ack_required: view.ack_required,
        created_ts: view.created_ts,
        thread_id: view.thread_id,
        topic: view.topic,
        from: view.from,
        to: view.to,
        cc: view.cc,
        bcc: view.bcc,
        snippet: highlight(row.body_snippet.includes(OPEN) ? row.body_snippet : row.subject_snippet),
        rank: row.score,
      };
    }),
  };
}

function highlight(snippet: string): string {
  return snippet.replaceAll(OPEN, "**").replaceAll(CLOSE, "**");
}

/**
 * Run a statement that evaluates a MATCH. The parser emits only quoted terms, so FTS5 should never reject
 * an expression; should it still, the caller gets INVALID_ARGUMENT with the syntax, never SQLite's own
 * wording. Any other error passes through unchanged.
 */
export function runFts<T>(query: () => T): T {
  try {
    return query();
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    const message = error instanceof Error ? error.message : "";
    if (
      typeof code === "string" &&
      code.startsWith("SQLITE_") &&
      /fts5|syntax error|malformed MATCH|unterminated string|no such column/i.test(message)
    ) {
      throw fail.invalid(`Invalid search query: the search index could not run it. ${SEARCH_SYNTAX_HELP}`);
    }
    throw error;
  }
}

import { useMemo } from "preact/hooks";
import { count } from "../../lib/format.js";
import { SearchQueryError } from "../../lib/fts4-query.js";
import type { OpenBundle } from "../../lib/loader.js";
import { agents, projects } from "../../lib/queries/overview.js";
import { MARK_END, MARK_START, searchIds, snippets } from "../../lib/queries/search.js";
import { replaceRoute, type SearchFilters } from "../../lib/router.js";
import { MessageList } from "../MessageList.js";

/** A snippet with its marked words as <mark> elements, built as text nodes: no HTML is parsed. */
function Highlighted({ text }: { text: string }) {
  const parts: preact.ComponentChildren[] = [];
  let rest = text;
  let key = 0;
  for (;;) {
    const start = rest.indexOf(MARK_START);
    if (start === -1) break;
    const end = rest.indexOf(MARK_END, start);
    if (end === -1) break;
    parts.push(rest.slice(0, start));
    parts.push(<mark key={key++}>{rest.slice(start + 1, end)}</mark>);
    rest = rest.slice(end + 1);
  }
  parts.push(rest.replaceAll(MARK_START, "").replaceAll(MARK_END, ""));
  return <span class="snippet">{parts}</span>;
}

const IMPORTANCE = ["low", "normal", "high", "urgent"];

/** `#/search?q=…`: full-text search with filters and highlighted snippets. */
export function SearchView({
  bundle,
  q,
  filters,
}: {
  bundle: OpenBundle;
  q: string;
  filters: SearchFilters;
}) {
  const { db } = bundle;
  const options = useMemo(() => ({ projects: projects(db), agents: agents(db) }), [db]);
  const result = useMemo(() => {
    try {
      return { ids: searchIds(db, q, filters), error: null };
    } catch (error) {
      if (error instanceof SearchQueryError) return { ids: [], error: error.message };
      return { ids: [], error: `The search failed: ${(error as Error).message}` };
    }
  }, [db, q, filters]);

  const set = (name: keyof SearchFilters, value: string) => {
    const next = { ...filters, [name]: value || undefined };
    replaceRoute({ view: "search", q, filters: next });
  };
  const blank = q.trim() === "" && Object.values(filters).every((v) => !v);
  const listKey = `search:${q}:${JSON.stringify(filters)}`;
  return (
    <section class="view search">
      <h1>Search</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Project
          <select value={filters.project ?? ""} onChange={(e) => set("project", e.currentTarget.value)}>
            <option value="">any</option>
            {options.projects.map((p) => (
              <option key={p.id} value={p.slug}>
                {p.slug}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sender
          <input
            list="agent-names"
            value={filters.sender ?? ""}
            onChange={(e) => set("sender", e.currentTarget.value)}
          />
        </label>
        <label>
          Recipient
          <input
            list="agent-names"
            value={filters.recipient ?? ""}
            onChange={(e) => set("recipient", e.currentTarget.value)}
          />
        </label>
        <label>
          Importance
          <select value={filters.importance ?? ""} onChange={(e) => set("importance", e.currentTarget.value)}>
            <option value="">any</option>
            {IMPORTANCE.map((i) => (
              <option key={i} value={i}>
                {i}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="date"
            value={filters.from ?? ""}
            onChange={(e) => set("from", e.currentTarget.value)}
          />
        </label>
        <label>
          To
          <input type="date" value={filters.to ?? ""} onChange={(e) => set("to", e.currentTarget.value)} />
        </label>
        <datalist id="agent-names">
          {options.agents.map((a) => (
            <option key={a.id} value={a.name} />
          ))}
        </datalist>
      </form>
      {result.error ? (
        <p class="error" role="alert">
          {result.error}
        </p>
      ) : blank ? (
        <p class="muted">
          Type in the search box: words (all must match), "exact phrases", prefix*, OR, NOT or -word,
          (groups).
        </p>
      ) : (
        <>
          <p class="muted" role="status">
            {`${count(result.ids.length)} ${result.ids.length === 1 ? "message" : "messages"}`}
          </p>
          <MessageList
            db={db}
            ids={result.ids}
            listKey={listKey}
            label="Search results"
            empty="No message matches."
            extra={q.trim() ? (ids) => snippets(db, q, ids) : undefined}
            renderExtra={(text) => <Highlighted text={text} />}
          />
        </>
      )}
    </section>
  );
}

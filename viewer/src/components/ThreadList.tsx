import { shortTime } from "../lib/format.js";
import type { ThreadRow } from "../lib/queries/messages.js";
import { href, navigate } from "../lib/router.js";
import { VirtualList } from "./VirtualList.js";

/** A virtualized list of threads, most recently active first. */
export function ThreadList({ threads, listKey }: { threads: ThreadRow[]; listKey: string }) {
  return (
    <VirtualList<ThreadRow>
      count={threads.length}
      rowHeight={62}
      load={(start, end) => threads.slice(start, end)}
      listKey={listKey}
      label="Threads"
      empty="No threads."
      open={(t) => navigate({ view: "thread", id: t.thread_key })}
      row={(t, selected) => (
        <a
          class={`msg-row thread-row${selected ? " selected" : ""}`}
          href={href({ view: "thread", id: t.thread_key })}
          data-thread-id={t.thread_key}
          aria-current={selected ? "true" : undefined}
        >
          <span class="line1">
            <span class="subject">{t.subject || "(no subject)"}</span>
            <span class="badge">{t.messages === 1 ? "1 message" : `${t.messages} messages`}</span>
            <time class="when" dateTime={t.last_ts}>
              {shortTime(t.last_ts)}
            </time>
          </span>
          <span class="line2">
            <span class="who">{`started by ${t.starter}`}</span>
            <span class="muted">{`since ${shortTime(t.first_ts)}`}</span>
          </span>
        </a>
      )}
    />
  );
}

import type { ViewerDatabase } from "../lib/database.js";
import { shortTime } from "../lib/format.js";
import { listRows, type MessageRow } from "../lib/queries/messages.js";
import { href, navigate } from "../lib/router.js";
import { Ack, Importance } from "./Badges.js";
import { VirtualList } from "./VirtualList.js";

interface Props {
  db: ViewerDatabase;
  /** Every id of the list, newest first. */
  ids: number[];
  listKey: string;
  label: string;
  /** For an inbox: the agent whose read/ack state each row shows. */
  agentId?: number;
  /** Extra text under a row (search snippets), loaded for the page of rows on screen. */
  extra?: (ids: number[]) => Map<number, string>;
  renderExtra?: (text: string) => preact.ComponentChildren;
  empty?: string;
}

type Row = MessageRow & { extra?: string };

/** A virtualized list of messages; every row is a link carrying `data-message-id`. */
export function MessageList(props: Props) {
  const { db, ids, agentId } = props;
  const rowHeight = props.extra ? 88 : 62;
  const load = (start: number, end: number): Row[] => {
    const slice = ids.slice(start, end);
    const rows: Row[] = listRows(db, slice, agentId);
    const extra = props.extra?.(slice);
    return extra ? rows.map((r) => ({ ...r, extra: extra.get(r.id) })) : rows;
  };
  return (
    <VirtualList<Row>
      count={ids.length}
      rowHeight={rowHeight}
      load={load}
      listKey={props.listKey}
      label={props.label}
      empty={props.empty ?? "No messages."}
      open={(row) => navigate({ view: "message", id: row.id })}
      row={(row, selected) => (
        <a
          class={`msg-row${selected ? " selected" : ""}${agentId !== undefined && !row.read_ts ? " unread" : ""}`}
          href={href({ view: "message", id: row.id })}
          data-message-id={row.id}
          aria-current={selected ? "true" : undefined}
        >
          <span class="line1">
            <span class="subject">{row.subject || "(no subject)"}</span>
            <Importance level={row.importance} />
            {agentId !== undefined ? (
              <Ack required={row.ack_required} ackTs={row.ack_ts} />
            ) : (
              <Ack required={row.ack_required} acked={row.acked} of={row.recipient_count} />
            )}
            {row.attachments > 0 ? <span class="badge att">{`📎 ${row.attachments}`}</span> : null}
            <time class="when" dateTime={row.created_ts}>
              {shortTime(row.created_ts)}
            </time>
          </span>
          <span class="line2">
            <span class="who">
              {row.sender}
              {" → "}
              {row.recipients ?? (row.kind === "bcc" ? "(bcc)" : "")}
            </span>
            {agentId !== undefined ? (
              <span class="state">
                {row.kind === "bcc" ? "bcc · " : ""}
                {row.read_ts ? "read" : "unread"}
              </span>
            ) : null}
            <span class="proj">{row.project}</span>
          </span>
          {row.extra !== undefined && props.renderExtra ? (
            <span class="line3">{props.renderExtra(row.extra)}</span>
          ) : null}
        </a>
      )}
    />
  );
}

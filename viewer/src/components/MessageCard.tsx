import { shortTime } from "../lib/format.js";
import type { OpenBundle } from "../lib/loader.js";
import type { FullMessage, Recipient } from "../lib/queries/messages.js";
import { href } from "../lib/router.js";
import { Attachments } from "./Attachments.js";
import { Ack, Importance } from "./Badges.js";
import { Markdown } from "./Markdown.js";
import { Payload } from "./Payload.js";

function RecipientList({ label, list }: { label: string; list: Recipient[] }) {
  if (list.length === 0) return null;
  return (
    <div class="recips">
      <span class="k">{label}</span>
      {list.map((r) => (
        <span key={r.name} class="recip">
          <a href={href({ view: "agent", name: r.name, box: "inbox" })}>{r.name}</a>
          <span
            class={`rstate ${r.read_ts ? "read" : "unread"}`}
            title={r.read_ts ? `read ${r.read_ts}` : "not read"}
          >
            {r.read_ts ? "read" : "unread"}
          </span>
          {r.ack_ts ? (
            <span class="rstate acked" title={`acknowledged ${r.ack_ts}`}>
              acked
            </span>
          ) : null}
        </span>
      ))}
    </div>
  );
}

interface Props {
  message: FullMessage;
  bundle: OpenBundle;
  /** In a thread: a heading link to the message's own page, and a selection mark. */
  inThread?: boolean;
  selected?: boolean;
}

/** A whole message: header, recipients with read/ack state, body, payload and attachments. */
export function MessageCard({ message: m, bundle, inThread, selected }: Props) {
  const to = m.recipients.filter((r) => r.kind === "to");
  const cc = m.recipients.filter((r) => r.kind === "cc");
  const bcc = m.recipients.filter((r) => r.kind === "bcc");
  const acked = m.recipients.filter((r) => r.ack_ts).length;
  const Heading = inThread ? "h3" : "h1";
  return (
    <article
      class={`message${selected ? " selected" : ""}`}
      data-message-id={m.id}
      aria-current={selected ? "true" : undefined}
    >
      <header>
        <Heading class="msg-subject">
          {inThread ? (
            <a href={href({ view: "message", id: m.id })}>{m.subject || "(no subject)"}</a>
          ) : (
            m.subject || "(no subject)"
          )}
        </Heading>
        <div class="badges">
          <Importance level={m.importance} />
          <Ack required={m.ack_required} acked={acked} of={m.recipients.length} />
          {m.purpose === "contact_request" ? <span class="badge">contact request</span> : null}
          {m.topic ? <span class="badge topic">{`#${m.topic}`}</span> : null}
        </div>
        <div class="meta">
          <span>
            <span class="k">From</span>
            <a href={href({ view: "agent", name: m.sender, box: "outbox" })}>{m.sender}</a>
          </span>
          <time dateTime={m.created_ts}>{shortTime(m.created_ts)}</time>
          <a href={href({ view: "project", slug: m.project })}>{m.project}</a>
          {!inThread ? <a href={href({ view: "thread", id: m.thread_key })}>thread</a> : null}
          {m.reply_to !== null ? (
            <a href={href({ view: "message", id: m.reply_to })}>{`in reply to #${m.reply_to}`}</a>
          ) : null}
          {m.expires_ts ? <span>{`expires ${shortTime(m.expires_ts)}`}</span> : null}
        </div>
        <RecipientList label="To" list={to} />
        <RecipientList label="Cc" list={cc} />
        <RecipientList label="Bcc" list={bcc} />
      </header>
      <Markdown source={m.body_md} />
      <Payload payload={m.payload} />
      <Attachments attachments={m.attachments} bundle={bundle} />
    </article>
  );
}

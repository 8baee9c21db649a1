import { useMemo } from "preact/hooks";
import { count, shortTime } from "../../lib/format.js";
import type { OpenBundle } from "../../lib/loader.js";
import { listIds } from "../../lib/queries/messages.js";
import { agent } from "../../lib/queries/overview.js";
import { reservations } from "../../lib/queries/reservations.js";
import { href, navigate } from "../../lib/router.js";
import { MessageList } from "../MessageList.js";
import { ReservationTable } from "../ReservationTable.js";
import { Tabs } from "../Tabs.js";
import { NotFound } from "./ProjectView.js";

/** `#/agent/<name>`: the agent's profile, then its inbox (with read/ack state) or outbox. */
export function AgentView({
  bundle,
  name,
  box,
}: {
  bundle: OpenBundle;
  name: string;
  box: "inbox" | "outbox";
}) {
  const { db } = bundle;
  const a = useMemo(() => agent(db, name), [db, name]);
  const ids = useMemo(
    () =>
      a
        ? listIds(db, box === "inbox" ? { kind: "inbox", agentId: a.id } : { kind: "outbox", agentId: a.id })
        : [],
    [db, a, box],
  );
  const held = useMemo(() => (a ? reservations(db, { agentId: a.id }) : []), [db, a]);
  if (!a) return <NotFound what={`agent ${name}`} />;
  return (
    <section class="view agent">
      <h1>
        {a.name}
        {a.retired_ts ? <span class="badge">retired</span> : null}
      </h1>
      <dl class="profile">
        <div>
          <dt>Project</dt>
          <dd>
            <a href={href({ view: "project", slug: a.project })}>{a.project}</a>
          </dd>
        </div>
        <div>
          <dt>Program</dt>
          <dd>{a.program}</dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>{a.model}</dd>
        </div>
        <div>
          <dt>Last active</dt>
          <dd>{shortTime(a.last_active_ts)}</dd>
        </div>
        <div>
          <dt>Registered</dt>
          <dd>{shortTime(a.inception_ts)}</dd>
        </div>
        {a.task_description ? (
          <div class="wide">
            <dt>Task</dt>
            <dd>{a.task_description}</dd>
          </div>
        ) : null}
      </dl>
      <Tabs<"inbox" | "outbox">
        tabs={[
          ["inbox", `Inbox (${count(a.received)}, ${count(a.unread)} unread)`],
          ["outbox", `Outbox (${count(a.sent)})`],
        ]}
        current={box}
        choose={(b) => navigate({ view: "agent", name: a.name, box: b })}
      />
      <MessageList
        db={db}
        ids={ids}
        agentId={box === "inbox" ? a.id : undefined}
        listKey={`${box}:${a.name}`}
        label={`${box === "inbox" ? "Inbox" : "Outbox"} of ${a.name}`}
        empty={box === "inbox" ? "No mail received." : "No mail sent."}
      />
      {held.length > 0 ? (
        <>
          <h2>File reservations</h2>
          <ReservationTable reservations={held} at={bundle.manifest.generated_at} />
        </>
      ) : null}
    </section>
  );
}

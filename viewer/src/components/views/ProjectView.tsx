import { useMemo, useState } from "preact/hooks";
import { count, day } from "../../lib/format.js";
import type { OpenBundle } from "../../lib/loader.js";
import { listIds, threads } from "../../lib/queries/messages.js";
import { activity, agents, project } from "../../lib/queries/overview.js";
import { reservations } from "../../lib/queries/reservations.js";
import { href } from "../../lib/router.js";
import { ActivityChart } from "../ActivityChart.js";
import { AgentTable } from "../AgentTable.js";
import { MessageList } from "../MessageList.js";
import { ReservationTable } from "../ReservationTable.js";
import { Tabs } from "../Tabs.js";
import { ThreadList } from "../ThreadList.js";

type Tab = "messages" | "threads" | "agents" | "reservations";

/** `#/project/<slug>`: a project's activity, messages, threads, agents and file reservations. */
export function ProjectView({ bundle, slug }: { bundle: OpenBundle; slug: string }) {
  const { db } = bundle;
  const [tab, setTab] = useState<Tab>("messages");
  const p = useMemo(() => project(db, slug), [db, slug]);
  const chart = useMemo(() => (p ? activity(db, p.id) : { unit: "day" as const, points: [] }), [db, p]);
  if (!p) return <NotFound what={`project ${slug}`} />;
  return (
    <section class="view project">
      <h1>{p.slug}</h1>
      <p class="muted">
        {p.human_key} · {count(p.messages)} messages · {count(p.agents)} agents
        {p.first_ts ? ` · ${day(p.first_ts)} → ${day(p.last_ts)}` : ""}
      </p>
      <ActivityChart activity={chart} title="Activity" />
      <Tabs<Tab>
        tabs={[
          ["messages", "Messages"],
          ["threads", "Threads"],
          ["agents", "Agents"],
          ["reservations", "File reservations"],
        ]}
        current={tab}
        choose={setTab}
      />
      {tab === "messages" ? <ProjectMessages bundle={bundle} projectId={p.id} slug={p.slug} /> : null}
      {tab === "threads" ? <ProjectThreads bundle={bundle} projectId={p.id} slug={p.slug} /> : null}
      {tab === "agents" ? <AgentTable agents={agents(db, p.id)} /> : null}
      {tab === "reservations" ? (
        <ReservationTable
          reservations={reservations(db, { projectId: p.id })}
          at={bundle.manifest.generated_at}
        />
      ) : null}
    </section>
  );
}

function ProjectMessages({
  bundle,
  projectId,
  slug,
}: {
  bundle: OpenBundle;
  projectId: number;
  slug: string;
}) {
  const ids = useMemo(() => listIds(bundle.db, { kind: "project", projectId }), [bundle.db, projectId]);
  return <MessageList db={bundle.db} ids={ids} listKey={`project:${slug}`} label={`Messages of ${slug}`} />;
}

function ProjectThreads({
  bundle,
  projectId,
  slug,
}: {
  bundle: OpenBundle;
  projectId: number;
  slug: string;
}) {
  const list = useMemo(() => threads(bundle.db, projectId), [bundle.db, projectId]);
  return <ThreadList threads={list} listKey={`threads:${slug}`} />;
}

/** What a deep link to something the bundle does not hold shows. */
export function NotFound({ what }: { what: string }) {
  return (
    <section class="view missing">
      <h1>Not found</h1>
      <p>{`This bundle has no ${what}.`}</p>
      <p>
        <a href={href({ view: "overview" })}>Back to the overview</a>
      </p>
    </section>
  );
}

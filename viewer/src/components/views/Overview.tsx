import { useMemo } from "preact/hooks";
import { count, day } from "../../lib/format.js";
import type { OpenBundle } from "../../lib/loader.js";
import { activity, agents, projects, totals } from "../../lib/queries/overview.js";
import { href } from "../../lib/router.js";
import { ActivityChart } from "../ActivityChart.js";
import { AgentTable } from "../AgentTable.js";

/** `#/`: totals, date range, activity over time, projects and the agent directory. */
export function Overview({ bundle }: { bundle: OpenBundle }) {
  const { db } = bundle;
  const data = useMemo(
    () => ({ totals: totals(db), projects: projects(db), agents: agents(db), activity: activity(db) }),
    [db],
  );
  const t = data.totals;
  return (
    <section class="view overview">
      <h1>Overview</h1>
      <dl class="stats">
        <div>
          <dt>Projects</dt>
          <dd>{count(t.projects)}</dd>
        </div>
        <div>
          <dt>Agents</dt>
          <dd>{count(t.agents)}</dd>
        </div>
        <div>
          <dt>Messages</dt>
          <dd>{count(t.messages)}</dd>
        </div>
        <div>
          <dt>Threads</dt>
          <dd>{count(t.threads)}</dd>
        </div>
        <div>
          <dt>Attachments</dt>
          <dd>{count(t.attachments)}</dd>
        </div>
        <div>
          <dt>Reservations</dt>
          <dd>{count(t.reservations)}</dd>
        </div>
        <div>
          <dt>From</dt>
          <dd>{day(t.first_ts) || "—"}</dd>
        </div>
        <div>
          <dt>To</dt>
          <dd>{day(t.last_ts) || "—"}</dd>
        </div>
      </dl>
      <ActivityChart activity={data.activity} title="Messages over time" />
      <h2>Projects</h2>
      <div class="table-wrap">
        <table class="projects">
          <thead>
            <tr>
              <th>Project</th>
              <th class="num">Messages</th>
              <th class="num">Agents</th>
              <th>Active</th>
            </tr>
          </thead>
          <tbody>
            {data.projects.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={href({ view: "project", slug: p.slug })}>{p.slug}</a>
                  {p.in_scope ? null : (
                    <span class="badge" title="Not exported: present only through cross-project mail">
                      referenced
                    </span>
                  )}
                  <div class="muted small">{p.human_key}</div>
                </td>
                <td class="num">{count(p.messages)}</td>
                <td class="num">{count(p.agents)}</td>
                <td>{p.first_ts ? `${day(p.first_ts)} → ${day(p.last_ts)}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Agents</h2>
      <AgentTable agents={data.agents} />
    </section>
  );
}

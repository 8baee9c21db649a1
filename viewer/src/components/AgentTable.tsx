import { count, shortTime } from "../lib/format.js";
import type { AgentSummary } from "../lib/queries/overview.js";
import { href } from "../lib/router.js";

/** The agent directory: program, model, task, last activity and mail counts. */
export function AgentTable({ agents }: { agents: AgentSummary[] }) {
  if (agents.length === 0) return <p class="empty">No agents.</p>;
  return (
    <div class="table-wrap">
      <table class="agents">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Project</th>
            <th>Program · model</th>
            <th>Task</th>
            <th>Last active</th>
            <th class="num">Sent</th>
            <th class="num">Received</th>
            <th class="num">Unread</th>
            <th class="num" title="Messages that ask for an acknowledgement the agent has not given">
              Unacked
            </th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.id} class={a.retired_ts ? "retired" : undefined}>
              <td>
                <a href={href({ view: "agent", name: a.name, box: "inbox" })}>{a.name}</a>
                {a.retired_ts ? <span class="badge">retired</span> : null}
              </td>
              <td>
                <a href={href({ view: "project", slug: a.project })}>{a.project}</a>
              </td>
              <td>
                {a.program} · {a.model}
              </td>
              <td class="task">{a.task_description}</td>
              <td>
                <time dateTime={a.last_active_ts}>{shortTime(a.last_active_ts)}</time>
              </td>
              <td class="num">{count(a.sent)}</td>
              <td class="num">{count(a.received)}</td>
              <td class="num">{count(a.unread)}</td>
              <td class="num">{count(a.unacked)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

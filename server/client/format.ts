/**
 * Human-readable output of the CLI client commands. `--json` bypasses all of this and prints the tool's
 * result as it is; these functions only read the documented result fields of TOOLS.md.
 */

interface InboxLine {
  id: number;
  created_ts: string;
  from: string;
  subject: string;
  importance: string;
  ack_required: boolean;
  read_ts?: string | null;
  ack_ts?: string | null;
  body_md?: string;
}

interface PeekCounts {
  unread: number;
  urgent_unread: number;
  ack_pending: number;
  oldest_unread_ts: string | null;
}

interface AgentLine {
  name: string;
  program: string;
  model: string;
  task_description: string;
  last_active_ts: string;
  unread_count: number;
  retired_ts: string | null;
}

interface SendResult {
  deliveries: Array<{
    project: string;
    payload: {
      id: number;
      thread_id: string | null;
      subject: string;
      to: string[];
      cc: string[];
      bcc: string[];
    };
  }>;
  count: number;
}

/** `2026-11-21T05:19:44.123Z` → `2026-11-21 05:19Z`: minutes are enough to tell mail apart by eye. */
export function shortTime(ts: string | null | undefined): string {
  if (!ts) return "-";
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(ts);
  return match ? `${match[1]} ${match[2]}Z` : ts;
}

/** Rows as lines with every column but the last padded to its widest cell. */
export function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * An inbox as aligned lines, newest first: `*` for unread, id, time, sender, badges (importance other than
 * normal; `ack` while an acknowledgement is owed, `acked` once given), subject. Bodies, when fetched,
 * follow their line, indented.
 */
export function formatInbox(agent: string, items: InboxLine[]): string {
  if (items.length === 0) return `No mail for ${agent}.`;
  const rows = items.map((m) => {
    const badges = [
      m.importance !== "normal" ? m.importance : "",
      m.ack_required ? (m.ack_ts ? "acked" : "ack") : "",
    ]
      .filter((b) => b !== "")
      .map((b) => `[${b}]`)
      .join(" ");
    return [m.read_ts ? " " : "*", `#${m.id}`, shortTime(m.created_ts), m.from, badges, m.subject];
  });
  const lines = alignColumns(rows);
  return items
    .map((m, i) => {
      const line = lines[i] ?? "";
      if (m.body_md === undefined) return line;
      const body = m.body_md.replace(/\s+$/, "").replace(/^/gm, "    ");
      return `${line}\n${body}\n`;
    })
    .join("\n")
    .trimEnd();
}

/** Peek counts as one sentence, e.g. `BlueLake has 2 unread messages (1 urgent), 1 awaiting acknowledgement; oldest unread from 2026-11-21 05:19Z.` */
export function formatPeek(agent: string, counts: PeekCounts): string {
  const pending = counts.ack_pending ? `${counts.ack_pending} awaiting acknowledgement` : "";
  if (counts.unread === 0) return `${agent} has no unread mail${pending ? `, ${pending}` : ""}.`;
  const urgent = counts.urgent_unread ? ` (${counts.urgent_unread} urgent)` : "";
  return `${agent} has ${plural(counts.unread, "unread message")}${urgent}${pending ? `, ${pending}` : ""}; oldest unread from ${shortTime(counts.oldest_unread_ts)}.`;
}

/** The agent directory as a table: name, program, model, unread count, last activity, status, task. */
export function formatAgents(project: string, agents: AgentLine[]): string {
  if (agents.length === 0) return `No agents in ${project}.`;
  const rows = [
    ["NAME", "PROGRAM", "MODEL", "UNREAD", "LAST ACTIVE", "STATUS", "TASK"],
    ...agents.map((a) => [
      a.name,
      a.program,
      a.model,
      String(a.unread_count),
      shortTime(a.last_active_ts),
      a.retired_ts ? "retired" : "active",
      a.task_description.replace(/\s+/g, " "),
    ]),
  ];
  return alignColumns(rows).join("\n");
}

/** What was sent, e.g. `Sent #12 "Build is green" to BlueLake, GreenHill (thread 12).` */
export function formatSent(result: SendResult): string {
  const first = result.deliveries[0]?.payload;
  if (!first) return "Nothing was sent.";
  const recipients = [
    ...new Set(result.deliveries.flatMap(({ payload: p }) => [...p.to, ...p.cc, ...p.bcc])),
  ];
  const thread = first.thread_id ?? String(first.id);
  const where = result.deliveries.length > 1 ? ` across ${plural(result.deliveries.length, "project")}` : "";
  return `Sent #${first.id} ${JSON.stringify(first.subject)} to ${recipients.join(", ")}${where} (thread ${thread}).`;
}

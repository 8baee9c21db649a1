import type { ViewerDatabase } from "../database.js";

/**
 * The overview, project list and agent directory, read from the viewer tables the exporter precomputes
 * (README "Bundle database schema": viewer_overview, viewer_projects, viewer_agents, viewer_activity),
 * so each is one small indexed query whatever the number of messages.
 */

/** Counts and time range of the whole snapshot. */
export interface Totals {
  projects: number;
  agents: number;
  messages: number;
  threads: number;
  attachments: number;
  reservations: number;
  first_ts: string | null;
  last_ts: string | null;
}

export interface ProjectSummary {
  id: number;
  slug: string;
  human_key: string;
  /** 0 for a project present only through cross-project mail. */
  in_scope: number;
  messages: number;
  agents: number;
  threads: number;
  reservations: number;
  first_ts: string | null;
  last_ts: string | null;
}

export interface AgentSummary {
  id: number;
  name: string;
  project: string;
  program: string;
  model: string;
  task_description: string;
  inception_ts: string;
  last_active_ts: string;
  retired_ts: string | null;
  sent: number;
  received: number;
  unread: number;
  unacked: number;
}

/** Snapshot totals. */
export function totals(db: ViewerDatabase): Totals {
  return db.get<Totals>(
    "SELECT projects, agents, messages, threads, attachments, reservations, first_ts, last_ts FROM viewer_overview",
  ) as Totals;
}

const PROJECT_COLUMNS = `p.id, p.slug, p.human_key, v.in_scope, v.messages, v.agents, v.threads, v.reservations,
  v.first_ts, v.last_ts`;

/** Every project, those in the export's scope first, busiest first. */
export function projects(db: ViewerDatabase): ProjectSummary[] {
  return db.all<ProjectSummary>(
    `SELECT ${PROJECT_COLUMNS} FROM projects p JOIN viewer_projects v ON v.project_id = p.id
      ORDER BY v.in_scope DESC, v.messages DESC, p.slug`,
  );
}

/** One project by slug, or undefined. */
export function project(db: ViewerDatabase, slug: string): ProjectSummary | undefined {
  return db.get<ProjectSummary>(
    `SELECT ${PROJECT_COLUMNS} FROM projects p JOIN viewer_projects v ON v.project_id = p.id WHERE p.slug = ?`,
    [slug],
  );
}

const AGENT_COLUMNS = `a.id, a.name, p.slug AS project, a.program, a.model, a.task_description, a.inception_ts,
  a.last_active_ts, a.retired_ts, v.sent, v.received, v.unread, v.unacked`;
const AGENT_FROM = `agents a JOIN projects p ON p.id = a.project_id JOIN viewer_agents v ON v.agent_id = a.id`;

/** The agent directory (of one project when `projectId` is given), most recently active first. */
export function agents(db: ViewerDatabase, projectId?: number): AgentSummary[] {
  return projectId === undefined
    ? db.all<AgentSummary>(
        `SELECT ${AGENT_COLUMNS} FROM ${AGENT_FROM} ORDER BY a.last_active_ts DESC, a.name`,
      )
    : db.all<AgentSummary>(
        `SELECT ${AGENT_COLUMNS} FROM ${AGENT_FROM} WHERE a.project_id = ? ORDER BY a.last_active_ts DESC, a.name`,
        [projectId],
      );
}

/** One agent by name (case-insensitive, as names are), or undefined. */
export function agent(db: ViewerDatabase, name: string): AgentSummary | undefined {
  return db.get<AgentSummary>(`SELECT ${AGENT_COLUMNS} FROM ${AGENT_FROM} WHERE a.name = ? COLLATE NOCASE`, [
    name,
  ]);
}

/** Messages over time: per day, or per hour when all of them fall within a week. */
export interface Activity {
  unit: "hour" | "day";
  /** `YYYY-MM-DD` per day, `YYYY-MM-DDTHH` per hour; oldest first, empty periods left out. */
  points: { at: string; count: number }[];
}

/** The activity chart's data (of one project when `projectId` is given). */
export function activity(db: ViewerDatabase, projectId?: number): Activity {
  const days =
    projectId === undefined
      ? db.all<{ at: string; count: number }>(
          "SELECT day AS at, SUM(messages) AS count FROM viewer_activity GROUP BY day ORDER BY day",
        )
      : db.all<{ at: string; count: number }>(
          "SELECT day AS at, messages AS count FROM viewer_activity WHERE project_id = ? ORDER BY day",
          [projectId],
        );
  const first = days[0]?.at;
  const last = days[days.length - 1]?.at;
  if (!first || !last || Date.parse(last) - Date.parse(first) > 6 * 86_400_000)
    return { unit: "day", points: days };
  // A short span reads better per hour; messages_by_created bounds the scan to those days.
  const range = [`${first}T00`, `${last}T99`];
  const points =
    projectId === undefined
      ? db.all<{ at: string; count: number }>(
          `SELECT substr(created_ts, 1, 13) AS at, count(*) AS count FROM messages
            WHERE created_ts >= ? AND created_ts < ? GROUP BY 1 ORDER BY 1`,
          range,
        )
      : db.all<{ at: string; count: number }>(
          `SELECT substr(created_ts, 1, 13) AS at, count(*) AS count FROM messages
            WHERE created_ts >= ? AND created_ts < ? AND project_id = ? GROUP BY 1 ORDER BY 1`,
          [...range, projectId],
        );
  return { unit: "hour", points };
}

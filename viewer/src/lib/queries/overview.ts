import type { ViewerDatabase } from "../database.js";

/** Counts and time range of the whole snapshot. */
export interface Totals {
  projects: number;
  agents: number;
  messages: number;
  threads: number;
  first_ts: string | null;
  last_ts: string | null;
}

export interface ProjectSummary {
  id: number;
  slug: string;
  human_key: string;
  created_at: string;
  messages: number;
  agents: number;
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
}

/** Messages per hour (UTC, `YYYY-MM-DDTHH`), oldest first, hours without messages left out. */
export interface HourCount {
  hour: string;
  count: number;
}

/** Snapshot totals: one pass over messages, the rest from small tables. */
export function totals(db: ViewerDatabase): Totals {
  return db.get<Totals>(
    `SELECT (SELECT count(*) FROM projects) AS projects,
            (SELECT count(*) FROM agents) AS agents,
            count(*) AS messages,
            count(DISTINCT coalesce(thread_id, CAST(id AS TEXT))) AS threads,
            min(created_ts) AS first_ts,
            max(created_ts) AS last_ts
       FROM messages`,
  ) as Totals;
}

/** Every project with its message and agent counts and activity range, busiest first. */
export function projects(db: ViewerDatabase): ProjectSummary[] {
  return db.all<ProjectSummary>(
    `WITH per AS (
       SELECT project_id, count(*) AS messages, min(created_ts) AS first_ts, max(created_ts) AS last_ts
         FROM messages GROUP BY project_id)
     SELECT p.id, p.slug, p.human_key, p.created_at,
            coalesce(per.messages, 0) AS messages,
            (SELECT count(*) FROM agents a WHERE a.project_id = p.id) AS agents,
            per.first_ts, per.last_ts
       FROM projects p LEFT JOIN per ON per.project_id = p.id
      ORDER BY messages DESC, p.slug`,
  );
}

/** One project by slug, or undefined. */
export function project(db: ViewerDatabase, slug: string): ProjectSummary | undefined {
  return projects(db).find((p) => p.slug === slug);
}

const AGENT_COLUMNS = `a.id, a.name, p.slug AS project, a.program, a.model, a.task_description, a.inception_ts,
  a.last_active_ts, a.retired_ts,
  (SELECT count(*) FROM messages m WHERE m.sender_id = a.id) AS sent,
  (SELECT count(*) FROM message_recipients r WHERE r.agent_id = a.id) AS received,
  (SELECT count(*) FROM message_recipients r WHERE r.agent_id = a.id AND r.read_ts IS NULL) AS unread`;

/** The agent directory (of one project when `projectId` is given), most recently active first. */
export function agents(db: ViewerDatabase, projectId?: number): AgentSummary[] {
  return projectId === undefined
    ? db.all<AgentSummary>(
        `SELECT ${AGENT_COLUMNS} FROM agents a JOIN projects p ON p.id = a.project_id
          ORDER BY a.last_active_ts DESC, a.name`,
      )
    : db.all<AgentSummary>(
        `SELECT ${AGENT_COLUMNS} FROM agents a JOIN projects p ON p.id = a.project_id
          WHERE a.project_id = ? ORDER BY a.last_active_ts DESC, a.name`,
        [projectId],
      );
}

/** One agent by name (case-insensitive, as names are), or undefined. */
export function agent(db: ViewerDatabase, name: string): AgentSummary | undefined {
  return db.get<AgentSummary>(
    `SELECT ${AGENT_COLUMNS} FROM agents a JOIN projects p ON p.id = a.project_id WHERE a.name = ? COLLATE NOCASE`,
    [name],
  );
}

/** Messages per hour, for the activity chart (of one project when `projectId` is given). */
export function activity(db: ViewerDatabase, projectId?: number): HourCount[] {
  return projectId === undefined
    ? db.all<HourCount>(
        "SELECT substr(created_ts, 1, 13) AS hour, count(*) AS count FROM messages GROUP BY hour ORDER BY hour",
      )
    : db.all<HourCount>(
        `SELECT substr(created_ts, 1, 13) AS hour, count(*) AS count FROM messages WHERE project_id = ?
          GROUP BY hour ORDER BY hour`,
        [projectId],
      );
}

import type Database from "better-sqlite3";

/** Row counts of the mailbox tables, reported per stage in the export summary. */
export interface TableCounts {
  projects: number;
  agents: number;
  messages: number;
  recipients: number;
  attachments: number;
  reservations: number;
  contacts: number;
}

const TABLES: Record<keyof TableCounts, string> = {
  projects: "projects",
  agents: "agents",
  messages: "messages",
  recipients: "message_recipients",
  attachments: "message_attachments",
  reservations: "file_reservations",
  contacts: "agent_links",
};

/** Count the rows of each mailbox table of `db`. */
export function tableCounts(db: Database.Database): TableCounts {
  const counts = {} as TableCounts;
  for (const [key, table] of Object.entries(TABLES) as [keyof TableCounts, string][]) {
    counts[key] = db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
  }
  return counts;
}

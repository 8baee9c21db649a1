import type { ViewerDatabase } from "../database.js";

/** A file reservation and its time span. */
export interface Reservation {
  id: number;
  project: string;
  agent: string;
  path_pattern: string;
  exclusive: number;
  reason: string;
  created_ts: string;
  expires_ts: string;
  released_ts: string | null;
}

const COLUMNS = `fr.id, p.slug AS project, a.name AS agent, fr.path_pattern, fr.exclusive, fr.reason,
  fr.created_ts, fr.expires_ts, fr.released_ts`;

/** Reservations of a project (or of an agent), newest first. */
export function reservations(
  db: ViewerDatabase,
  by: { projectId: number } | { agentId: number },
): Reservation[] {
  const [where, id] = "projectId" in by ? ["fr.project_id", by.projectId] : ["fr.agent_id", by.agentId];
  return db.all<Reservation>(
    `SELECT ${COLUMNS} FROM file_reservations fr JOIN agents a ON a.id = fr.agent_id
       JOIN projects p ON p.id = fr.project_id WHERE ${where} = ? ORDER BY fr.created_ts DESC, fr.id DESC`,
    [id],
  );
}

/** Where a reservation stood when the snapshot was taken (`at`, an ISO time). */
export function reservationState(r: Reservation, at: string): "released" | "expired" | "active" {
  if (r.released_ts !== null && r.released_ts <= at) return "released";
  return r.expires_ts <= at ? "expired" : "active";
}

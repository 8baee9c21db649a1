import type { AgentRow } from "../agents.js";
import type { Mailbox } from "../mailbox.js";
import type { Project } from "../projects.js";
import { normalizeReservationPatterns } from "./paths.js";

/**
 * Reading file reservations. Expiry is lazy: a reservation is active while `released_ts IS NULL AND
 * expires_ts > now`; nothing ever sweeps expired rows, every reader applies that test.
 */

/** A reservation row joined with its holder's name. */
export interface ReservationRow {
  id: number;
  project_id: number;
  agent_id: number;
  agent_name: string;
  path_pattern: string;
  exclusive: number;
  reason: string;
  created_ts: string;
  expires_ts: string;
  released_ts: string | null;
}

/** A reservation as results show it. */
export interface ReservationView {
  id: number;
  agent: string;
  path_pattern: string;
  exclusive: boolean;
  reason: string;
  created_ts: string;
  expires_ts: string;
  released_ts: string | null;
  active: boolean;
}

/** A requested id or path that a renew or release left alone, and why. */
export interface SkippedReservation {
  id?: number;
  path?: string;
  reason: string;
}

const SELECT = `SELECT r.id, r.project_id, r.agent_id, a.name AS agent_name, r.path_pattern, r.exclusive,
  r.reason, r.created_ts, r.expires_ts, r.released_ts
  FROM file_reservations r JOIN agents a ON a.id = r.agent_id`;

/** SQL condition (on alias `r`, parameter `@now`) for an active reservation. */
export const ACTIVE_SQL = "r.released_ts IS NULL AND r.expires_ts > @now";

/** True when the reservation is neither released nor expired at `now`. */
export function isActive(row: Pick<ReservationRow, "released_ts" | "expires_ts">, now: string): boolean {
  return row.released_ts === null && row.expires_ts > now;
}

/** The wire shape of a row. */
export function viewOf(row: ReservationRow, now: string): ReservationView {
  return {
    id: row.id,
    agent: row.agent_name,
    path_pattern: row.path_pattern,
    exclusive: row.exclusive === 1,
    reason: row.reason,
    created_ts: row.created_ts,
    expires_ts: row.expires_ts,
    released_ts: row.released_ts,
    active: isActive(row, now),
  };
}

/** One reservation by id, or undefined. */
export function reservationById(mb: Mailbox, id: number): ReservationRow | undefined {
  return mb.statement<ReservationRow>(`${SELECT} WHERE r.id = ?`).get(id);
}

/** The project's active reservations (every holder), oldest first. */
export function activeReservations(mb: Mailbox, projectId: number): ReservationRow[] {
  return mb
    .statement<ReservationRow>(`${SELECT} WHERE r.project_id = @project AND ${ACTIVE_SQL} ORDER BY r.id`)
    .all({ project: projectId, now: mb.now() });
}

/** The project's reservations, active or not, oldest first. */
export function allReservations(mb: Mailbox, projectId: number): ReservationRow[] {
  return mb.statement<ReservationRow>(`${SELECT} WHERE r.project_id = ? ORDER BY r.id`).all(projectId);
}

/** An agent's active reservations in any project, oldest first. */
export function activeReservationsOf(mb: Mailbox, agentId: number): ReservationRow[] {
  return mb
    .statement<ReservationRow>(`${SELECT} WHERE r.agent_id = @agent AND ${ACTIVE_SQL} ORDER BY r.id`)
    .all({ agent: agentId, now: mb.now() });
}

function whyNotSelectable(row: ReservationRow | undefined, project: Project, agent: AgentRow, now: string) {
  if (!row || row.project_id !== project.id)
    return `no file reservation with this id in project ${project.slug}`;
  if (row.agent_id !== agent.id) return `held by ${row.agent_name}, not by ${agent.name}`;
  if (row.released_ts !== null) return `already released at ${row.released_ts}`;
  if (row.expires_ts <= now) {
    return `expired at ${row.expires_ts}; an expired reservation is never revived: reserve the path again with file_reservation_paths`;
  }
  return null;
}

/**
 * The agent's own active reservations a renew or release applies to: those with the given ids and those
 * with the given patterns (normalized like reservations); with neither (both absent or empty) all of them.
 * Everything asked for but not selectable is returned in `skipped` with the reason.
 */
export function selectOwnActive(
  mb: Mailbox,
  project: Project,
  agent: AgentRow,
  selection: { paths?: readonly string[] | undefined; ids?: readonly number[] | undefined },
): { rows: ReservationRow[]; skipped: SkippedReservation[] } {
  const now = mb.now();
  const own = activeReservations(mb, project.id).filter((r) => r.agent_id === agent.id);
  const ids = selection.ids ?? [];
  const paths = normalizeReservationPatterns(selection.paths ?? []);
  if (ids.length === 0 && paths.length === 0) return { rows: own, skipped: [] };
  const chosen = new Map<number, ReservationRow>();
  const skipped: SkippedReservation[] = [];
  for (const id of new Set(ids)) {
    const row = reservationById(mb, id);
    const why = whyNotSelectable(row, project, agent, now);
    if (why === null && row) chosen.set(row.id, row);
    else skipped.push({ id, reason: why ?? "not found" });
  }
  for (const path of paths) {
    const matching = own.filter((r) => r.path_pattern === path);
    for (const row of matching) chosen.set(row.id, row);
    if (matching.length === 0) {
      skipped.push({ path, reason: `${agent.name} holds no active reservation with exactly this pattern` });
    }
  }
  return { rows: [...chosen.values()].sort((a, b) => a.id - b.id), skipped };
}

import { z } from "zod";
import { assertActive, resolveAgent, touchAgent } from "../agents.js";
import { enqueueArchiveJob } from "../archive/jobs.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { addSeconds, earlierOf } from "../time.js";
import { AgentNameInput, ProjectKey, parseInput } from "../validate.js";
import { ReservationPatternInput } from "./paths.js";
import { type SkippedReservation, selectOwnActive } from "./rows.js";

const Selection = {
  paths: z
    .array(ReservationPatternInput)
    .max(LIMITS.reservationPathsPerCall)
    .optional()
    .describe("Exact patterns the agent reserved; with neither paths nor ids: all of its active ones"),
  file_reservation_ids: z
    .array(z.number().int().positive())
    .max(LIMITS.reservationPathsPerCall)
    .optional()
    .describe("Reservation ids"),
};

export const RenewFileReservationsInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput,
  extend_seconds: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.reservationTtlSeconds)
    .default(1800)
    .describe("Seconds added to each lease's current expiry"),
  ...Selection,
});
export type RenewFileReservationsInput = z.input<typeof RenewFileReservationsInput>;

export const ReleaseFileReservationsInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput,
  ...Selection,
});
export type ReleaseFileReservationsInput = z.input<typeof ReleaseFileReservationsInput>;

export interface RenewedReservation {
  id: number;
  path_pattern: string;
  old_expires_ts: string;
  new_expires_ts: string;
}

export interface RenewFileReservationsResult {
  renewed: number;
  file_reservations: RenewedReservation[];
  skipped: SkippedReservation[];
}

export interface ReleaseFileReservationsResult {
  released: number;
  released_at: string;
  file_reservation_ids: number[];
  skipped: SkippedReservation[];
}

/**
 * Extend the agent's own ACTIVE reservations by `extend_seconds` from their current expiry, capped at
 * now + LIMITS.reservationTtlSeconds. An expired or released reservation is never revived: asked for by
 * id or pattern, it is listed in `skipped` with the reason (as are ids held by others or unknown), and
 * nothing fails. Selection: the given ids plus the given exact patterns; neither → all active ones.
 */
export function renewFileReservations(
  mb: Mailbox,
  input: RenewFileReservationsInput,
): RenewFileReservationsResult {
  const args = parseInput(RenewFileReservationsInput, input);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    const agent = resolveAgent(mb, project, args.agent_name);
    assertActive(agent, "file reservation holder");
    const { rows, skipped } = selectOwnActive(mb, project, agent, {
      paths: args.paths,
      ids: args.file_reservation_ids,
    });
    const ceiling = addSeconds(mb.now(), LIMITS.reservationTtlSeconds);
    const update = mb.statement("UPDATE file_reservations SET expires_ts = ? WHERE id = ?");
    const renewed = rows.map((row) => {
      const extended = addSeconds(row.expires_ts, args.extend_seconds);
      const next = earlierOf(extended, ceiling);
      update.run(next, row.id);
      enqueueArchiveJob(mb, "reservation", row.id);
      return {
        id: row.id,
        path_pattern: row.path_pattern,
        old_expires_ts: row.expires_ts,
        new_expires_ts: next,
      };
    });
    touchAgent(mb, agent.id);
    return { renewed: renewed.length, file_reservations: renewed, skipped };
  });
}

/**
 * Release the agent's own active reservations: the given ids plus the given exact patterns, or all of
 * them when neither is given. Idempotent: what is already released or expired is left alone and listed
 * in `skipped`. Each released reservation queues an archive job.
 */
export function releaseFileReservations(
  mb: Mailbox,
  input: ReleaseFileReservationsInput,
): ReleaseFileReservationsResult {
  const args = parseInput(ReleaseFileReservationsInput, input);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    const agent = resolveAgent(mb, project, args.agent_name);
    const { rows, skipped } = selectOwnActive(mb, project, agent, {
      paths: args.paths,
      ids: args.file_reservation_ids,
    });
    const now = mb.now();
    const update = mb.statement("UPDATE file_reservations SET released_ts = ? WHERE id = ?");
    for (const row of rows) {
      update.run(now, row.id);
      enqueueArchiveJob(mb, "reservation", row.id);
    }
    touchAgent(mb, agent.id);
    return { released: rows.length, released_at: now, file_reservation_ids: rows.map((r) => r.id), skipped };
  });
}

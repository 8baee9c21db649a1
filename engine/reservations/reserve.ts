import { z } from "zod";
import { assertActive, resolveAgent, touchAgent } from "../agents.js";
import { enqueueArchiveJob } from "../archive/jobs.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { addSeconds } from "../time.js";
import { AgentNameInput, ProjectKey, parseInput } from "../validate.js";
import { patternsOverlap } from "./glob-overlap.js";
import { normalizeReservationPatterns, ReservationPatternInput } from "./paths.js";
import { activeReservations, type ReservationRow } from "./rows.js";

/** Shortest lease `file_reservation_paths` grants, seconds. The longest is LIMITS.reservationTtlSeconds. */
export const MIN_RESERVATION_TTL_SECONDS = 60;

export const FileReservationPathsInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput.describe("The agent taking the reservation"),
  paths: z
    .array(ReservationPatternInput)
    .min(1, "paths list cannot be empty")
    .max(LIMITS.reservationPathsPerCall)
    .describe("Glob patterns relative to the repository root"),
  ttl_seconds: z
    .number()
    .int()
    .min(MIN_RESERVATION_TTL_SECONDS)
    .max(LIMITS.reservationTtlSeconds)
    .default(3600)
    .describe("Lease length in seconds (60 s to 30 days)"),
  exclusive: z.boolean().default(true).describe("false for a shared (read/observe) reservation"),
  reason: z.string().max(LIMITS.reservationReasonChars).default(""),
});
export type FileReservationPathsInput = z.input<typeof FileReservationPathsInput>;

/** A lease granted (or refreshed) by `file_reservation_paths`. */
export interface GrantedReservation {
  id: number;
  path_pattern: string;
  exclusive: boolean;
  reason: string;
  expires_ts: string;
}

/** Another agent's active reservation that overlaps a requested pattern. */
export interface ReservationHolder {
  agent: string;
  path_pattern: string;
  exclusive: boolean;
  expires_ts: string;
  reservation_id: number;
}

export interface ReservationConflict {
  path: string;
  holders: ReservationHolder[];
}

export interface FileReservationPathsResult {
  granted: GrantedReservation[];
  conflicts: ReservationConflict[];
}

/**
 * Holders among `others` that conflict with reserving `pattern`: an overlapping pattern where at least
 * one side is exclusive (shared + shared never conflicts).
 */
export function conflictingHolders(
  pattern: string,
  exclusive: boolean,
  others: readonly ReservationRow[],
): ReservationHolder[] {
  return others
    .filter((o) => (exclusive || o.exclusive === 1) && patternsOverlap(pattern, o.path_pattern))
    .map((o) => ({
      agent: o.agent_name,
      path_pattern: o.path_pattern,
      exclusive: o.exclusive === 1,
      expires_ts: o.expires_ts,
      reservation_id: o.id,
    }));
}

/**
 * Reserve glob patterns for an agent. Advisory: every pattern is granted; overlaps with OTHER agents'
 * active reservations in the project (where either side is exclusive) come back in `conflicts`, so the
 * caller can coordinate. The agent's own reservations never conflict. Re-reserving a pattern the agent
 * already holds actively updates that reservation in place (same id; new expiry `now + ttl_seconds`,
 * new `exclusive` and `reason`) instead of adding a duplicate. Every change queues an archive job.
 */
export function fileReservationPaths(
  mb: Mailbox,
  input: FileReservationPathsInput,
): FileReservationPathsResult {
  const args = parseInput(FileReservationPathsInput, input);
  const patterns = normalizeReservationPatterns(args.paths);
  const project = resolveProject(mb, args.project_key);
  return mb.write(() => {
    const agent = resolveAgent(mb, project, args.agent_name);
    assertActive(agent, "file reservation holder");
    const now = mb.now();
    const expires = addSeconds(now, args.ttl_seconds);
    const active = activeReservations(mb, project.id);
    const others = active.filter((r) => r.agent_id !== agent.id);
    const granted: GrantedReservation[] = [];
    const conflicts: ReservationConflict[] = [];
    for (const pattern of patterns) {
      const existing = active.find((r) => r.agent_id === agent.id && r.path_pattern === pattern);
      let id: number;
      if (existing) {
        mb.statement(
          "UPDATE file_reservations SET exclusive = ?, reason = ?, expires_ts = ? WHERE id = ?",
        ).run(args.exclusive ? 1 : 0, args.reason, expires, existing.id);
        id = existing.id;
      } else {
        const info = mb
          .statement(
            `INSERT INTO file_reservations (project_id, agent_id, path_pattern, exclusive, reason, created_ts, expires_ts)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(project.id, agent.id, pattern, args.exclusive ? 1 : 0, args.reason, now, expires);
        id = Number(info.lastInsertRowid);
      }
      enqueueArchiveJob(mb, "reservation", id);
      granted.push({
        id,
        path_pattern: pattern,
        exclusive: args.exclusive,
        reason: args.reason,
        expires_ts: expires,
      });
      const holders = conflictingHolders(pattern, args.exclusive, others);
      if (holders.length > 0) conflicts.push({ path: pattern, holders });
    }
    touchAgent(mb, agent.id);
    return { granted, conflicts };
  });
}

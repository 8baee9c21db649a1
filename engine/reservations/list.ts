import { z } from "zod";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { ProjectKey, parseInput } from "../validate.js";
import { activeReservations, allReservations, type ReservationView, viewOf } from "./rows.js";

export const ListFileReservationsInput = z.object({
  project_key: ProjectKey,
  active_only: z.boolean().default(true).describe("false: also released and expired reservations"),
});
export type ListFileReservationsInput = z.input<typeof ListFileReservationsInput>;

export interface ListFileReservationsResult {
  project: string;
  file_reservations: ReservationView[];
}

/**
 * The project's file reservations, oldest first, each with its holder's name, timestamps and whether it
 * is active now. `active_only` (default) leaves out released and expired ones. Reads only.
 */
export function listFileReservations(
  mb: Mailbox,
  input: ListFileReservationsInput,
): ListFileReservationsResult {
  const args = parseInput(ListFileReservationsInput, input);
  const project = resolveProject(mb, args.project_key);
  const now = mb.now();
  const rows = args.active_only ? activeReservations(mb, project.id) : allReservations(mb, project.id);
  return { project: project.slug, file_reservations: rows.map((row) => viewOf(row, now)) };
}
